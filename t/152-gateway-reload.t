# Tests that a reload which changes the products takes effect at once: a
# decision cached by the old configuration is not used by the new one,
# while sessions and the zone survive the reload.

use strict;
use warnings;
use Test::More;
use JSON::PP;
use Test::Scim::Nginx;
use Test::Scim::Saml;
use Test::Scim::Upstreams;

my $idp = Test::Scim::Saml->new;
my $port = Test::Scim::Upstreams::http();
# (the check is in the access phase: a "return" would answer before it)
my $locations = $idp->locations . <<"EOF";
location /app/ {
    scim_require product=app;
    proxy_pass http://127.0.0.1:$port;
}
EOF
my $n = Test::Scim::Nginx->new(workers => 2,
    http_config => $idp->http_config . "scim_product app groups=team-a;\n", config => $locations);
$n->start;

my $uid = $idp->provision($n, 'carol@example.com', active => JSON::PP::true);
$n->scim(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
                              displayName => 'team-a', members => [{ value => $uid }] });
$n->scim(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => 'team-b' });
my $cookie = $idp->sign_in($n, response => { name_id => 'carol@example.com' })->{session};
my $res = $n->request(GET => '/app/', headers => { Cookie => $cookie, Accept => 'text/html' });
is($res->{status}, 200, 'team-a grants app') or diag($res->{body});
is(JSON::PP->new->decode($res->{body})->{headers}{'x-remote-products'}, 'app', 'the decision is cached now');

$n->set_config(http_config => $idp->http_config . "scim_product app groups=team-b;\n");
$n->reload;
$res = $n->request(GET => '/app/', headers => { Cookie => $cookie, Accept => 'text/html' });
is($res->{status}, 403, 'after a reload that gives app to team-b only, carol is refused at once') or diag("$res->{status} $res->{body}");

$n->set_config(http_config => $idp->http_config . "scim_product other groups=team-a;\nscim_product app groups=team-a;\n");
$n->reload;
$res = $n->request(GET => '/app/', headers => { Cookie => $cookie, Accept => 'text/html' });
is($res->{status}, 200, 'the session survived both reloads');
is(JSON::PP->new->decode($res->{body})->{headers}{'x-remote-products'}, 'other,app',
   'and the products are those of the new configuration');

$n->stop;
done_testing();
