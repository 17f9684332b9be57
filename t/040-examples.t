# Tests for conf-examples/ and tools/check-example: every example passes
# "nginx -t" from the prefix check-example lays out, check-example fails
# with nginx -t, and the quickstart serves SCIM and proxies to the demo
# upstream as "make run" starts it (ports moved to free ones).

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use Test::Scim::Nginx;

my $root = Test::Scim::Nginx::repo_root();
my $check = "$root/tools/check-example";
$ENV{NGINX_BIN} = Test::Scim::Nginx::binary();
$ENV{TEST_NGINX_MODULE} = Test::Scim::Nginx::module();

# check-example -p DIR: nginx -t's status and the output.
sub check_example {
    my ($example, $p) = @_;
    my $out = `$check -p $p $example 2>&1`;
    my $rc = $? >> 8;
    return ($rc, $out);
}

opendir my $d, "$root/conf-examples" or die $!;
my @examples = sort grep { /\.conf$/ } readdir $d;
ok(scalar @examples, 'conf-examples has examples');
for my $ex (@examples) {
    my $p = tempdir('scim-ex-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my ($rc, $out) = check_example("$root/conf-examples/$ex", $p);
    is($rc, 0, "tools/check-example conf-examples/$ex: nginx -t accepts it") or diag($out);
    like($out, qr/test is successful/, "conf-examples/$ex: check-example shows nginx -t's verdict")
        or diag($out);

    # what nginx -t cannot see: a browser cannot log in through a plain
    # "http2" listener (prior knowledge only), nor log out without a
    # scim_saml_logout location
    open my $fh, '<', "$root/conf-examples/$ex" or die $!;
    my $conf = do { local $/; <$fh> };
    my @plain_h2 = grep { /\bhttp2\b/ && !/\bssl\b/ } $conf =~ /^\s*(listen\s[^;]*);/mg;
    is("@plain_h2", '', "conf-examples/$ex: no listen has http2 without ssl");
    if ($conf =~ /^\s*location[^{]*\{\s*scim_saml_login\b/m) {
        like($conf, qr/^\s*location = \/saml\/logout\s*\{\s*scim_saml_logout\b/m,
             "conf-examples/$ex: logins have a /saml/logout location too");
    }
}

{
    # a broken configuration: check-example fails as nginx -t does
    my $p = tempdir('scim-ex-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $bad = "$p/bad.conf";
    open my $fh, '>', $bad or die $!;
    open my $in, '<', "$root/conf-examples/quickstart.conf" or die $!;
    print $fh do { local $/; <$in> } =~ s/scim_api  quickstart;/scim_api  quickstrat;/r;
    close $fh;
    my ($rc, $out) = check_example($bad, "$p/prefix");
    isnt($rc, 0, 'check-example of a broken example exits non-zero');
    like($out, qr/"scim_api" names unknown directory "quickstrat".* in \S+nginx\.conf:\d+/,
         'and prints nginx -t\'s message') or diag($out);
}

# The quickstart as "make run" starts it (tools/run-quickstart, with a
# prefix of its own instead of var/), served for real.

# A port whose next one is free too: PORT+1 is the demo upstream's.
sub port_pair {
    for (1 .. 50) {
        my $p = Test::Scim::Nginx::free_port();
        next if $p >= 65535;
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => $p + 1,
                                      ReuseAddr => 1, Proto => 'tcp') or next;
        close $s;
        return $p;
    }
    die "no two consecutive free ports";
}

my $var = tempdir('scim-var-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $outdir = tempdir('scim-out-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $var;
my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10);

# Starts run-quickstart with the given environment; returns its PID and
# the file its output goes to, once nginx answers on $port (or it died).
sub quickstart {
    my ($port, %env) = @_;
    my $log = "$outdir/run-quickstart.out";
    unlink "$var/logs/nginx.pid";
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', $log or die $!;
        open STDERR, '>&', \*STDOUT;
        $ENV{SCIM_VAR} = $var;
        delete @ENV{qw(PORT APP_PORT)};
        $ENV{$_} = $env{$_} for keys %env;
        exec "$root/tools/run-quickstart";
        exit 127;
    }
    my $deadline = time + 10;
    while (time < $deadline) {
        last if waitpid($pid, WNOHANG) == $pid;
        last if -s "$var/logs/nginx.pid"
            && IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
        sleep 0.05;
    }
    open my $fh, '<', $log or die $!;
    return ($pid, do { local $/; <$fh> });
}

# Stops nginx as Ctrl-C would end it, then run-quickstart, which stops the
# demo upstream on its way out.
sub stop_quickstart {
    my $pid = shift;
    if (open my $fh, '<', "$var/logs/nginx.pid") {
        chomp(my $master = <$fh> // '');
        kill 'QUIT', $master if $master =~ /^\d+$/;
    }
    my $deadline = time + 10;
    while (time < $deadline) {
        return if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    kill 'TERM', $pid;
    waitpid($pid, 0);
    fail('run-quickstart ended within 10s of nginx');
}

sub get {
    my ($url, %h) = @_;
    my $res;
    my $deadline = time + 10;
    while (time < $deadline) {
        $res = $http->get($url, { headers => \%h });
        last if $res->{status} == 200;
        sleep 0.05;
    }
    return $res;
}

my $port = port_pair();
my ($pid, $out) = quickstart($port, PORT => $port);
like($out, qr/conf\/nginx\.conf: conf-examples\/quickstart\.conf on port $port, demo upstream on ${\ ($port + 1)}/,
     "PORT=$port: the config is written from quickstart.conf with that port") or diag($out);
my ($token) = $out =~ /^\s+(scim_[A-Za-z0-9_-]{43})$/m;
ok($token, 'a token was printed') or diag($out);

my $res = get("http://127.0.0.1:$port/scim/v2/ServiceProviderConfig", Authorization => "Bearer $token");
is($res->{status}, 200, 'quickstart serves the SCIM base URL on PORT') or diag($res->{content} . $out);

$res = $http->post("http://127.0.0.1:$port/scim/v2/Users", {
    headers => { Authorization => "Bearer $token", 'Content-Type' => 'application/scim+json' },
    content => '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"quick@example.com"}',
});
is($res->{status}, 201, 'quickstart creates a user') or diag($res->{content});

$res = get("http://127.0.0.1:$port/app/hello", 'X-Demo' => 'yes');
is($res->{status}, 200, 'the demo upstream (on PORT+1) answers through nginx') or diag($res->{content});
my $echoed = eval { JSON::PP->new->decode($res->{content}) } // {};
is($echoed->{uri}, '/app/hello', 'the upstream saw the URI');
is($echoed->{headers}{'x-demo'}, 'yes', 'the upstream echoes the headers it received');
stop_quickstart($pid);

# Unedited, the config follows a new PORT.
my $port2 = port_pair();
($pid, $out) = quickstart($port2, PORT => $port2);
like($out, qr/on port $port2, demo upstream on ${\ ($port2 + 1)}/, 'an unedited config is written again for a new PORT')
    or diag($out);
like($out, qr/The token was printed when \S+quickstart\.token was created/, 'and the token file is kept')
    or diag($out);
is(get("http://127.0.0.1:$port2/scim/v2/Users", Authorization => "Bearer $token")->{status}, 200,
   'nginx serves on the new PORT, the same token still works');
stop_quickstart($pid);

# Edited, it is kept as it is, whatever PORT says, and the script says so.
{
    open my $fh, '>>', "$var/conf/nginx.conf" or die $!;
    print $fh "# my edit\n";
}
($pid, $out) = quickstart($port2, PORT => $port);
like($out, qr/Using your \S*conf\/nginx\.conf; delete it to start from quickstart\.conf again\./,
     'an edited config is kept, and the script says how to start over') or diag($out);
like($out, qr/PORT and APP_PORT apply only to a config written from quickstart\.conf;\s+yours listens on $port2\./,
     'and that PORT does not apply to it') or diag($out);
{
    open my $fh, '<', "$var/conf/nginx.conf" or die $!;
    like(do { local $/; <$fh> }, qr/# my edit\n\z/, 'the edit is still there');
}
is(get("http://127.0.0.1:$port2/app/x")->{status}, 200,
   'nginx and the demo upstream run on the ports of the edited config');
stop_quickstart($pid);

done_testing();
