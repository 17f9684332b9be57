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
use Test::Scim::Nginx;

my $root = Test::Scim::Nginx::repo_root();
my $nginx = Test::Scim::Nginx::binary();
my $check = "$root/tools/check-example";
$ENV{NGINX_BIN} = $nginx;
$ENV{TEST_NGINX_MODULE} = Test::Scim::Nginx::module();

# check-example -p: the prefix it made, nginx -t's status, its output and
# the tokens of the token files it wrote.
sub check_example {
    my ($example, $p) = @_;
    my $out = `$check -p $p $example 2>&1`;
    my $rc = $? >> 8;
    my %tokens = $out =~ /^  conf\/(\S+): the hash of token (scim_\S+)$/mg;
    return ($rc, $out, \%tokens);
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

# The quickstart, served for real.
my ($scim_port, $app_port) = (Test::Scim::Nginx::free_port(), Test::Scim::Nginx::free_port());
my $p = tempdir('scim-ex-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($rc, $out, $tokens) = check_example("$root/conf-examples/quickstart.conf", $p);
is($rc, 0, 'check-example lays out the quickstart') or diag($out);
{
    open my $in, '<', "$p/conf/nginx.conf" or die $!;
    my $conf = do { local $/; <$in> };
    $conf =~ s/127\.0\.0\.1:8080\b/127.0.0.1:$scim_port/g;
    $conf =~ s/127\.0\.0\.1:8081\b/127.0.0.1:$app_port/g;
    open my $o, '>', "$p/conf/nginx.conf" or die $!;
    print $o $conf;
}
my $token = $tokens->{'quickstart.token'};
like($token, qr/^scim_[A-Za-z0-9_-]{43}$/, 'a token was generated');

my $echo = fork // die;
if (!$echo) {
    open STDERR, '>', '/dev/null';
    exec "$root/tools/echo-upstream", $app_port;
    exit 127;
}
my $master = fork // die;
if (!$master) {
    open STDERR, '>', "$p/logs/stderr.log";
    exec $nginx, '-p', "$p/", '-c', 'conf/nginx.conf', '-g', 'daemon off;';
    exit 127;
}

my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10);
my $res;
my $deadline = time + 10;
while (time < $deadline) {
    $res = $http->get("http://127.0.0.1:$scim_port/scim/v2/ServiceProviderConfig",
        { headers => { Authorization => "Bearer $token" } });
    last if $res->{status} == 200;
    sleep 0.05;
}
is($res->{status}, 200, 'quickstart serves the SCIM base URL') or diag($res->{content});

$res = $http->post("http://127.0.0.1:$scim_port/scim/v2/Users", {
    headers => { Authorization => "Bearer $token", 'Content-Type' => 'application/scim+json' },
    content => '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"quick@example.com"}',
});
is($res->{status}, 201, 'quickstart creates a user') or diag($res->{content});

$deadline = time + 10;
while (time < $deadline) {
    $res = $http->get("http://127.0.0.1:$scim_port/app/hello", { headers => { 'X-Demo' => 'yes' } });
    last if $res->{status} == 200;
    sleep 0.05;
}
is($res->{status}, 200, 'the demo upstream answers through nginx') or diag($res->{content});
my $echoed = eval { JSON::PP->new->decode($res->{content}) } // {};
is($echoed->{uri}, '/app/hello', 'the upstream saw the URI');
is($echoed->{headers}{'x-demo'}, 'yes', 'the upstream echoes the headers it received');

kill 'QUIT', $master;
waitpid($master, 0);
kill 'TERM', $echo;
waitpid($echo, 0);

done_testing();
