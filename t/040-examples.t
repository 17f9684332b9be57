# Tests for conf-examples/: every example passes "nginx -t", and the
# quickstart serves SCIM and proxies to the demo upstream as "make run"
# starts it (ports moved to free ones).

use strict;
use warnings;
use Test::More;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::Scim::Nginx;
use Test::Scim::Saml;

my $root = Test::Scim::Nginx::repo_root();
my $nginx = Test::Scim::Nginx::binary();
my $module = Test::Scim::Nginx::module();
my $admin = Test::Scim::Nginx::admin();

# A prefix laid out like var/ of "make run": conf/, modules/, logs/, store/.
sub prefix_for {
    my ($example, %ports) = @_;
    my $p = tempdir('scim-ex-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $p;
    make_path(map { "$p/$_" } qw(conf modules logs store temp));
    symlink $module, "$p/modules/ngx_http_scim_module.so" or die $!;
    open my $in, '<', "$root/conf-examples/$example" or die $!;
    my $conf = do { local $/; <$in> };
    while (my ($from, $to) = each %ports) { $conf =~ s/127\.0\.0\.1:$from\b/127.0.0.1:$to/g }
    open my $out, '>', "$p/conf/nginx.conf" or die $!;
    print $out $conf;
    close $out;
    # every token_file an example names, with one fresh token each
    my %tokens;
    for my $f ($conf =~ /token_file\s+(\S+);/g) {
        my $t = `$admin token $p/conf/$f`;
        chomp $t;
        $tokens{$f} = $t;
    }
    # every IdP metadata file, IdP certificate and SP key pair an example
    # names, made for the test (openssl CLI)
    if ($conf =~ /^\s*(idp_metadata|idp_cert|sp_key|sp_cert)\s/m) {
        my $idp = Test::Scim::Saml->new;
        my %source = (idp_metadata => $idp->metadata, idp_cert => $idp->file('idp.crt'),
                      sp_key => $idp->file('sp.key'), sp_cert => $idp->file('sp.crt'));
        while ($conf =~ /^\s*(idp_metadata|idp_cert|sp_key|sp_cert)\s+(\S+);/mg) {
            system('cp', $source{$1}, "$p/conf/$2") == 0 or die "cp $source{$1}: $?";
        }
    }
    if ($> == 0) {
        my (undef, undef, $uid, $gid) = getpwnam('nobody');
        chown $uid, $gid, "$p/store";
    }
    return ($p, \%tokens);
}

opendir my $d, "$root/conf-examples" or die $!;
my @examples = sort grep { /\.conf$/ } readdir $d;
ok(scalar @examples, 'conf-examples has examples');
for my $ex (@examples) {
    my ($p) = prefix_for($ex);
    my $out = `$nginx -t -p $p/ -c conf/nginx.conf 2>&1`;
    is($?, 0, "nginx -t accepts conf-examples/$ex") or diag($out);
}

# The quickstart, served for real.
my ($scim_port, $app_port) = (Test::Scim::Nginx::free_port(), Test::Scim::Nginx::free_port());
my ($p, $tokens) = prefix_for('quickstart.conf', 8080 => $scim_port, 8081 => $app_port);
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
