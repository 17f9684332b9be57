# Tests for the README's "Try a SAML login without an identity provider":
# the settings it shows, a key pair made with openssl, and a Response that
# tools/saml-response signs with xmlsec1 sign a SCIM-provisioned user in.

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Test::Scim::Nginx;

my $root = Test::Scim::Nginx::repo_root();
my $tmp = tempdir('scim-try-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp;

system("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=idp.test "
       . "-keyout $tmp/idp.key -out $tmp/idp.crt 2>/dev/null") == 0 or die "openssl failed";

my $port = Test::Scim::Nginx::free_port();
my $sp = "http://127.0.0.1:$port/saml";
my $n = Test::Scim::Nginx->new(port => $port, http_config => <<"EOF", config => <<'EOF2');
scim_store \$TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file     \$TEST_NGINX_TOKEN_FILE;
    idp_entity_id  https://idp.test/saml;
    idp_sso_url    https://idp.test/sso;
    idp_cert       $tmp/idp.crt;
    sp_entity_id   $sp;
    sp_acs_url     $sp/acs;
    idp_initiated  on;
}
EOF
location /scim/v2/ { scim_api test; }
location = /saml/acs { scim_saml_acs test; }
location = /me { return 200 "$scim_user\n"; }
EOF2
$n->start;

my $res = $n->scim(POST => '/Users', {
    schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName => 'bjensen@example.com',
    emails => [{ value => 'bjensen@example.com', primary => JSON::PP::true() }],
});
is($res->{status}, 201, 'the user is provisioned') or diag($res->{body});

my $b64 = `$root/tools/saml-response -k $tmp/idp.key $sp bjensen\@example.com`;
is($?, 0, 'tools/saml-response signs a Response');
like($b64, qr/^[A-Za-z0-9+\/]+={0,2}\n\z/, 'base64 on one line');
chomp $b64;

my $http = HTTP::Tiny->new(max_redirect => 0);
$res = $http->post_form("http://127.0.0.1:$port/saml/acs", { SAMLResponse => $b64 });
is($res->{status}, 303, 'the ACS accepts it') or diag($res->{content} . $n->error_log);
my $set = $res->{headers}{'set-cookie'} // [];
my ($cookie) = map { /^(scim_session=[^;]+)/ ? $1 : () } ref $set ? @$set : ($set);
ok($cookie, 'and opens a session');
$res = $http->get("http://127.0.0.1:$port/me", { headers => { Cookie => $cookie // '' } });
is($res->{content}, "bjensen\@example.com\n", 'the session is the provisioned user');

$res = $http->post_form("http://127.0.0.1:$port/saml/acs", { SAMLResponse => $b64 });
is($res->{status}, 403, 'the same Response a second time is a replay');

my $usage = `$root/tools/saml-response 2>&1`;
is($? >> 8, 2, 'saml-response without arguments is a usage error');
like($usage, qr/^usage: tools\/saml-response -k KEY/, 'and prints its usage');

$n->stop;
unlike($n->error_log, qr/\[(alert|emerg)\]|exited on signal/, 'nothing worse than the replay was logged');

done_testing();
