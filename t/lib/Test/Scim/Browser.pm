package Test::Scim::Browser;

# A real browser for the end-to-end tests: Debian's headless Chromium,
# driven through Debian's chromedriver with the W3C WebDriver protocol
# (HTTP + JSON, spoken here with HTTP::Tiny and JSON::PP; no npm, no
# Selenium, so CI needs only Debian packages).
#
#   my $b = Test::Scim::Browser->new(dir => $tmp);   # chromedriver + a session
#   $b->get("http://127.0.0.1:$port/app/");
#   $b->find('input[name=username]')->type('alice');
#   $b->find('button[type=submit]')->click;
#   $b->wait_for_url(qr{/app/});
#   print $b->url, $b->source, $b->text('body');
#   $b->quit;                                        # session, then driver
#
# chromedriver listens on a free port of 127.0.0.1 and is stopped by its
# PID in quit() or, when a test dies, in the END block below. Chromium is
# its child: it is started with a fresh --user-data-dir and the flags that
# work as root on a machine without a network (see new()), and ends with
# its session. Anything that cannot start dies with a message that says
# what and why, so a test using this fails rather than skips.

use strict;
use warnings;

use File::Path qw(make_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use MIME::Base64 qw(decode_base64);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::Scim::Nginx;

my $ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

my @instances;

END {
    local $?;
    $_->quit for grep { $_->{pid} } @instances;
}

sub chromium { $ENV{TEST_CHROMIUM} // '/usr/bin/chromium' }
sub chromedriver { $ENV{TEST_CHROMEDRIVER} // '/usr/bin/chromedriver' }

# new(dir => DIR (a temporary one by default), args => [more Chromium
# flags], page_load => seconds (20)).
sub new {
    my ($class, %o) = @_;
    for my $bin (chromium(), chromedriver()) {
        die "the browser cannot start: $bin is missing (Debian packages chromium and "
          . "chromium-driver; tools/install-deps test installs them)\n" unless -x $bin;
    }
    my $dir = $o{dir} // tempdir('scim-browser-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TEST_KEEP});
    make_path("$dir/profile");
    my $self = bless {
        dir  => $dir,
        port => Test::Scim::Nginx::free_port(),
        http => HTTP::Tiny->new(keep_alive => 1, timeout => 60),
        json => JSON::PP->new->canonical->allow_nonref,
    }, $class;
    push @instances, $self;
    $self->start_driver;
    $self->new_session(%o);
    return $self;
}

sub dir { $_[0]{dir} }
sub log_file { "$_[0]{dir}/chromedriver.log" }

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

# The last lines of chromedriver's log, for failure messages.
sub log_tail {
    my ($self, $n) = @_;
    my @lines = split /\n/, slurp($self->log_file);
    @lines = @lines[-($n // 30) .. -1] if @lines > ($n // 30);
    return join("\n", @lines) . "\n";
}

sub start_driver {
    my $self = shift;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{dir}/chromedriver.out";
        open STDERR, '>&', \*STDOUT;
        # Without --allowed-ips chromedriver binds the loopback only.
        exec chromedriver(), "--port=$self->{port}", "--log-path=$self->{dir}/chromedriver.log";
        exit 127;
    }
    $self->{pid} = $pid;
    my $deadline = time + 15;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            die "the browser cannot start: chromedriver exited at once (status $?):\n"
              . slurp("$self->{dir}/chromedriver.out") . $self->log_tail;
        }
        my $res = $self->{http}->get("http://127.0.0.1:$self->{port}/status");
        if ($res->{success}) {
            my $st = eval { $self->{json}->decode($res->{content}) };
            return if $st && $st->{value}{ready};
        }
        sleep 0.05;
    }
    $self->stop_driver;
    die "the browser cannot start: chromedriver is not ready on 127.0.0.1:$self->{port} after 15s:\n"
      . slurp("$self->{dir}/chromedriver.out") . $self->log_tail;
}

sub stop_driver {
    my $self = shift;
    my $pid = delete $self->{pid} or return;
    Test::Scim::Nginx::end_process($pid, 'TERM');
}

# One WebDriver command: (METHOD, PATH under the session or absolute when
# it starts with "/", BODY) -> the "value" of the answer; dies with the
# WebDriver error and message otherwise.
sub cmd {
    my ($self, $method, $path, $body) = @_;
    $path = "/session/$self->{session}" . (length $path ? "/$path" : '') unless $path =~ m{^/};
    my $res = $self->{http}->request($method, "http://127.0.0.1:$self->{port}$path", {
        headers => { 'Content-Type' => 'application/json; charset=utf-8' },
        defined $body ? (content => $self->{json}->encode($body)) : (),
    });
    my $doc = eval { $self->{json}->decode($res->{content}) };
    if (!$res->{success} || !$doc) {
        my $v = $doc ? $doc->{value} : undef;
        my $what = ref $v eq 'HASH' ? "$v->{error}: $v->{message}" : "$res->{status} $res->{reason}: $res->{content}";
        $what =~ s/\n\s*Stacktrace:.*//s;
        die "WebDriver $method $path failed: $what\n";
    }
    return $doc->{value};
}

sub new_session {
    my ($self, %o) = @_;
    my @args = (
        # As root, in a container, with no network but the loopback: no
        # sandbox (root), no GPU, no QUIC, and nothing that calls home.
        qw(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
           --disable-background-networking --disable-component-update --disable-sync
           --disable-dev-shm-usage --no-default-browser-check),
        '--window-size=1280,900',
        "--user-data-dir=$self->{dir}/profile",
        @{ $o{args} // [] },
    );
    my $value = eval {
        $self->cmd(POST => '/session', {
            capabilities => { alwaysMatch => {
                browserName => 'chrome',
                pageLoadStrategy => 'normal',
                'goog:chromeOptions' => { binary => chromium(), args => \@args },
            } },
        });
    };
    if (!$value) {
        my $err = $@;
        $self->stop_driver;
        die "the browser cannot start: Chromium did not open a WebDriver session: $err"
          . "chromedriver log:\n" . $self->log_tail;
    }
    $self->{session} = $value->{sessionId};
    $self->{capabilities} = $value->{capabilities};
    $self->cmd(POST => 'timeouts', { pageLoad => ($o{page_load} // 20) * 1000, implicit => 0 });
}

sub version { $_[0]{capabilities}{browserVersion} }

sub get {
    my ($self, $url) = @_;
    $self->cmd(POST => 'url', { url => $url });
    return $self;
}

sub url { $_[0]->cmd(GET => 'url') }
sub title { $_[0]->cmd(GET => 'title') }
sub source { $_[0]->cmd(GET => 'source') }

# The rendered text of the first element matching a CSS selector (the
# whole page with "body").
sub text {
    my ($self, $css) = @_;
    return $self->find($css // 'body')->text;
}

# Runs JavaScript in the page; returns its value.
sub js {
    my ($self, $script, @args) = @_;
    return $self->cmd(POST => 'execute/sync', { script => $script, args => \@args });
}

# fetch(URL, { header => value }) from the current page, with its cookies
# and without following redirects: { status, body, location } (WebDriver
# shows no status codes; a redirect reads as status 0, type
# "opaqueredirect").
sub fetch {
    my ($self, $url, $headers) = @_;
    return $self->js(<<'EOF', $url, $headers // {});
const r = await fetch(arguments[0], { headers: arguments[1], redirect: 'manual',
                                      credentials: 'same-origin', cache: 'no-store' });
return { status: r.status, type: r.type, body: await r.text() };
EOF
}

# Cookies the browser holds for the current page: { name => { value,
# httpOnly, secure, sameSite, path } }.
sub cookies {
    my $self = shift;
    return { map { ($_->{name} => $_) } @{ $self->cmd(GET => 'cookie') } };
}

sub screenshot {
    my ($self, $file) = @_;
    my $png = decode_base64($self->cmd(GET => 'screenshot'));
    open my $fh, '>:raw', $file or die "$file: $!";
    print $fh $png;
    close $fh;
    return $file;
}

# find(CSS) -> an element, waiting up to "wait" seconds (5) for it.
sub find {
    my ($self, $css, %o) = @_;
    my $deadline = time + ($o{wait} // 5);
    my $err;
    while (1) {
        my $el = eval { $self->cmd(POST => 'element', { using => 'css selector', value => $css }) };
        return Test::Scim::Browser::Element->new($self, $el->{$ELEMENT}) if $el;
        $err = $@;
        last if time > $deadline;
        sleep 0.1;
    }
    die "no element \"$css\" on ${\ $self->url}: $err";
}

# All elements matching a CSS selector, at once.
sub find_all {
    my ($self, $css) = @_;
    my $els = $self->cmd(POST => 'elements', { using => 'css selector', value => $css });
    return map { Test::Scim::Browser::Element->new($self, $_->{$ELEMENT}) } @$els;
}

# Waits until the current URL matches; returns it, or dies with where the
# browser is and what the page says.
sub wait_for_url {
    my ($self, $re, $timeout) = @_;
    my $deadline = time + ($timeout // 15);
    my $url;
    while (time < $deadline) {
        $url = $self->url;
        return $url if $url =~ $re;
        sleep 0.1;
    }
    my $text = eval { $self->text('body') } // '';
    die "the browser did not reach $re in time; it is on $url, showing:\n$text\n";
}

sub quit {
    my $self = shift;
    if ($self->{session} && $self->{pid}) {
        eval { $self->cmd(DELETE => '') };
    }
    delete $self->{session};
    $self->stop_driver;
}

package Test::Scim::Browser::Element;

sub new {
    my ($class, $browser, $id) = @_;
    return bless { b => $browser, id => $id }, $class;
}

sub cmd {
    my ($self, $method, $what, $body) = @_;
    return $self->{b}->cmd($method, "element/$self->{id}" . ($what ? "/$what" : ''), $body);
}

sub type {
    my ($self, $text) = @_;
    $self->cmd(POST => 'value', { text => $text });
    return $self;
}

sub clear { $_[0]->cmd(POST => 'clear', {}); $_[0] }
sub click { $_[0]->cmd(POST => 'click', {}); $_[0] }
sub text { $_[0]->cmd(GET => 'text') }
sub attr { $_[0]->cmd(GET => "attribute/$_[1]") }
sub tag { $_[0]->cmd(GET => 'name') }

1;
