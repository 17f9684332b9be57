# Tests for configuration errors: "nginx -t" must fail with file:line and a
# sentence a person understands.

use Test::Scim;

plan tests => 2 * blocks();

run_blocks();

__DATA__

=== TEST 1: a complete configuration passes and serves
--- request
GET /scim/v2/ServiceProviderConfig
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN
--- error_code: 200
--- no_error_log
[emerg]

=== TEST 2: store directory missing
--- http_config
scim_store /nonexistent/scim-store;
--- config
--- must_die
--- error_log_like
scim_store directory "/nonexistent/scim-store" does not exist.* in \S+/conf/nginx\.conf:\d+

=== TEST 3: store path is a file
--- http_config
scim_store $TEST_NGINX_PREFIX/conf/test.token;
--- config
--- must_die
--- error_log_like
scim_store "\S+/conf/test\.token" is not a directory in \S+nginx\.conf:\d+

=== TEST 4: unknown directory in scim_api
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory okta { token_file $TEST_NGINX_TOKEN_FILE; }
--- config
location /scim/v2/ { scim_api entra; }
--- must_die
--- error_log_like
"scim_api" names unknown directory "entra": declare it with "scim_directory entra \{ \.\.\. \}" in \S+nginx\.conf:\d+

=== TEST 5: token file unreadable
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory okta { token_file $TEST_NGINX_PREFIX/conf/missing.token; }
--- config
--- must_die
--- error_log_like
cannot read token file "\S+/missing\.token": No such file or directory in \S+nginx\.conf:\d+

=== TEST 6: token file empty
--- main_config
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory okta { token_file /dev/null; }
--- config
--- must_die
--- error_log_like
token file "/dev/null" holds no token hash; create one with "scim-admin token" in \S+nginx\.conf:\d+

=== TEST 7: duplicate directory
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory okta { token_file $TEST_NGINX_TOKEN_FILE; }
scim_directory okta { token_file $TEST_NGINX_TOKEN_FILE; }
--- config
--- must_die
--- error_log_like
duplicate scim_directory "okta", first declared in \S+nginx\.conf:\d+ in \S+nginx\.conf:\d+

=== TEST 8: zone size is not a size
--- http_config
scim_zone scim:lots;
--- config
--- must_die
--- error_log_like
invalid zone size "scim:lots" in \S+nginx\.conf:\d+

=== TEST 9: zone too small
--- http_config
scim_zone scim:4k;
--- config
--- must_die
--- error_log_like
zone "scim:4k" is too small, the minimum is \d+k in \S+nginx\.conf:\d+

=== TEST 10: zone without a size
--- http_config
scim_zone scim;
--- config
--- must_die
--- error_log_like
invalid zone "scim", expected NAME:SIZE such as "scim:32m" in \S+nginx\.conf:\d+

=== TEST 11: store max_size is not a size
--- http_config
scim_store $TEST_NGINX_PREFIX/store max_size=big;
--- config
--- must_die
--- error_log_like
invalid max_size "big", expected a size such as "1g" in \S+nginx\.conf:\d+

=== TEST 12: store max_size too small
--- http_config
scim_store $TEST_NGINX_PREFIX/store max_size=64k;
--- config
--- must_die
--- error_log_like
max_size "64k" is too small, the minimum is 1m in \S+nginx\.conf:\d+

=== TEST 13: directory without token_file
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory okta { }
--- config
--- must_die
--- error_log_like
scim_directory "okta" has no "token_file" in \S+nginx\.conf:\d+

=== TEST 14: unknown directive inside scim_directory
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory okta { token_file $TEST_NGINX_TOKEN_FILE; tokn_file x; }
--- config
--- must_die
--- error_log_like
unknown directive "tokn_file" in scim_directory in \S+nginx\.conf:\d+

=== TEST 15: token_file with two arguments
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory okta { token_file a b; }
--- config
--- must_die
--- error_log_like
invalid number of arguments in "token_file" directive in \S+nginx\.conf:\d+

=== TEST 16: scim_api in a regex location
--- config
location ~ ^/scim/ { scim_api test; }
--- must_die
--- error_log_like
"scim_api" directive must be in a prefix location such as "location /scim/v2/ \{ \.\.\. \}", not a regex location in \S+nginx\.conf:\d+

=== TEST 17: scim_api without scim_store
--- http_config
scim_directory okta { token_file $TEST_NGINX_TOKEN_FILE; }
--- config
location /scim/v2/ { scim_api okta; }
--- must_die
--- error_log_like
"scim_api" needs a "scim_store" in the http block in \S+nginx\.conf:\d+

=== TEST 18: invalid directory name
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory "ok ta" { token_file $TEST_NGINX_TOKEN_FILE; }
--- config
--- must_die
--- error_log_like
invalid directory name "ok ta": use letters, digits, "_", "-" and "\." in \S+nginx\.conf:\d+

=== TEST 19: duplicate scim_store
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_store $TEST_NGINX_PREFIX/store;
--- config
--- must_die
--- error_log_like
"scim_store" directive is duplicate in \S+nginx\.conf:\d+

=== TEST 20: unknown scim_store parameter
--- http_config
scim_store $TEST_NGINX_PREFIX/store maxsize=1g;
--- config
--- must_die
--- error_log_like
invalid parameter "maxsize=1g" in \S+nginx\.conf:\d+

=== TEST 21: max_size in gigabytes
--- http_config
scim_store $TEST_NGINX_PREFIX/store max_size=2g;
scim_directory test { token_file $TEST_NGINX_TOKEN_FILE; }
--- request
GET /scim/v2/Users
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN
--- error_code: 200
--- no_error_log
[emerg]

=== TEST 22: store max_size 0
--- http_config
scim_store $TEST_NGINX_PREFIX/store max_size=0;
--- config
--- must_die
--- error_log_like
max_size "0" is too small, the minimum is 1m in \S+nginx\.conf:\d+
