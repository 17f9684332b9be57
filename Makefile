# ngx_scim_module
#
#   make            build the core, the nginx module and scim-admin
#   make run        install what is missing, build, start nginx on :8080
#                   (make run PORT=9090: nginx there, the demo upstream on 9091)
#   make test       install what is missing, build, run every test
#   make bench      benchmarks (wrk), results in docs/BENCHMARKS.md
#
# NGINX_SRC selects the nginx tree the module is built against: Debian's
# nginx-dev (default) or an upstream source tree (make NGINX_SRC=~/nginx-1.x).

# Recipes use bash: Debian's conf_flags is a bash array.
SHELL      := /bin/bash
NGINX_SRC  ?= /usr/share/nginx/src
NGINX_BIN  ?= /usr/sbin/nginx
BUILD      := $(CURDIR)/build
CXX        ?= g++
CC         ?= gcc

XML_CFLAGS := $(shell pkg-config --cflags xmlsec1-openssl libxml-2.0 2>/dev/null)
CORE_LIBS  := -lstdc++ -llmdb -ljansson -lz $(shell pkg-config --libs xmlsec1-openssl 2>/dev/null)

# The core's own flags; nginx's CFLAGS never reach it (and ours never reach
# nginx's configure, whose auto/cc/conf would drop its -Werror set).
SCIM_CXXFLAGS ?= -O2 -g
SCIM_CXXFLAGS += -std=c++17 -fPIC -fvisibility=hidden -fvisibility-inlines-hidden \
                 -Wall -Wextra -Werror -Iinclude $(XML_CFLAGS)

CORE_SRCS  := $(wildcard src/*.cpp)
CORE_OBJS  := $(patsubst src/%.cpp,$(BUILD)/core/%.o,$(CORE_SRCS))
CORE_LIB   := $(BUILD)/libscimcore.a
GLUE_SRCS  := $(wildcard ngx_scim_module/*.c ngx_scim_module/*.h) ngx_scim_module/exports.map include/scim.h include/scim_saml.h config
MODULE     := $(BUILD)/ngx_http_scim_module.so
ADMIN      := $(BUILD)/scim-admin

UNIT_SRCS  := $(wildcard t/unit/test_*.c)
UNIT_BINS  := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all deps deps-test deps-bench core module tools unit prove test run \
        bench clean

all: deps core module tools

deps:
	@tools/install-deps build

deps-test:
	@tools/install-deps test

deps-bench:
	@tools/install-deps bench

core: $(CORE_LIB)

$(BUILD)/core/%.o: src/%.cpp $(wildcard src/*.hpp) include/scim.h include/scim_saml.h
	@mkdir -p $(@D)
	$(CXX) $(SCIM_CXXFLAGS) -MMD -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	rm -f $@
	ar rcs $@ $^

module: $(MODULE)

# Debian's way (nginx_mod.pm): nginx-dev's configure with the flags the
# packaged nginx was built with, so /usr/sbin/nginx loads the module.
$(BUILD)/nginx/Makefile: config
	@mkdir -p $(BUILD)/nginx
	unset CFLAGS; cd $(NGINX_SRC) && \
	if [ -f conf_flags ]; then \
	    . ./conf_flags; \
	    ./configure \
	      --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $$(dpkg-buildflags --get CPPFLAGS)" \
	      --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) -fPIC" \
	      "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(CURDIR) \
	      --builddir=$(BUILD)/nginx; \
	else \
	    ./configure --with-compat --add-dynamic-module=$(CURDIR) \
	      --builddir=$(BUILD)/nginx; \
	fi > $(BUILD)/nginx/configure.log || { cat $(BUILD)/nginx/configure.log; exit 1; }

# The new module is renamed over the old one: an nginx that has the old one
# mapped keeps it (writing into it in place kills its workers with SIGBUS).
$(MODULE): $(CORE_LIB) $(GLUE_SRCS) $(BUILD)/nginx/Makefile
	rm -f $(BUILD)/nginx/ngx_http_scim_module.so
	unset CFLAGS; $(MAKE) -s -f $(BUILD)/nginx/Makefile -C $(NGINX_SRC) modules
	cp $(BUILD)/nginx/ngx_http_scim_module.so $@.tmp && mv -f $@.tmp $@

tools: $(ADMIN)

$(ADMIN): tools/scim-admin.c $(CORE_LIB) include/scim.h
	$(CC) -O2 -g -Wall -Wextra -Werror -Iinclude $< $(CORE_LIB) $(CORE_LIBS) -o $@

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) -O0 -g -Wall -Wextra -Werror -Iinclude -Isrc $< $(CORE_LIB) $(CORE_LIBS) $(CHECK_LIBS) -o $@

# Check suites, then once more under valgrind without forking, so a leak or
# an invalid read in the core fails the run.
unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done
	@set -e; for t in $(UNIT_BINS); do \
	    echo "== valgrind $$t"; \
	    CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full \
	        --errors-for-leak-kinds=definite $$t > $(BUILD)/unit/$$(basename $$t).valgrind 2>&1 \
	    || { cat $(BUILD)/unit/$$(basename $$t).valgrind; exit 1; }; \
	done

prove: all
	TEST_NGINX_BINARY=$(NGINX_BIN) TEST_NGINX_MODULE=$(MODULE) \
	    prove -I t/lib $(PROVE_FLAGS) t/

test: deps-test all unit prove

# PORT and APP_PORT reach tools/run-quickstart from the command line or
# the environment alike.
run: all
	$(if $(PORT),PORT='$(PORT)') $(if $(APP_PORT),APP_PORT='$(APP_PORT)') tools/run-quickstart

# Benchmarks take the machine's lock: other benchmarks on the same cores
# would skew both.
bench: deps-bench all
	flock /tmp/scim-bench.lock bench/run
	flock /tmp/scim-bench.lock bench/saml
	flock /tmp/scim-bench.lock bench/gateway

clean:
	rm -rf $(BUILD)

-include $(CORE_OBJS:.o=.d)
