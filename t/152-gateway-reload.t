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

# A second nginx on the same store, with a zone of its own (another
# instance, or the old binary during an upgrade): a change written through
# the first is seen by the second's very next request, because the
# generation the decisions are checked against lives in the store.
{
    my $store = $n->prefix . '/store';
    my $http = $idp->http_config(zone => 'other:1m') . "scim_product app groups=team-a;\n";
    $http =~ s{\$TEST_NGINX_PREFIX/store}{$store};
    my $b = Test::Scim::Nginx->new(workers => 2, http_config => $http, config => $locations);
    $b->start;
    my $dave = $idp->provision($n, 'dave@example.com', active => JSON::PP::true);
    my $r = $n->scim(GET => '/Groups?filter=displayName%20eq%20%22team-a%22');
    my $gid = $r->{json}{Resources}[0]{id};
    $r = $n->scim(PATCH => "/Groups/$gid", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations => [{ op => 'add', path => 'members', value => [{ value => $dave }] }] });
    is($r->{status}, 204, 'dave joins team-a through the first nginx') or diag($r->{body});
    my $session = $idp->sign_in($b, response => { name_id => 'dave@example.com' })->{session};
    $r = $b->request(GET => '/app/', headers => { Cookie => $session, Accept => 'text/html' });
    is($r->{status}, 200, 'the second nginx lets dave in (and caches its decision)') or diag("$r->{status} $r->{body}");
    for my $round (1 .. 3) {
        $r = $n->scim(PATCH => "/Users/$dave", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations => [{ op => 'replace', value => { active => JSON::PP::false } }] });
        is($r->{status}, 200, "round $round: deactivated through the first nginx");
        $r = $b->request(GET => '/app/', headers => { Cookie => $session, Accept => 'text/html' });
        is($r->{status}, 403, "round $round: the second nginx refuses dave on the next request") or diag("$r->{status} $r->{body}");
        $n->scim(PATCH => "/Users/$dave", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations => [{ op => 'replace', value => { active => JSON::PP::true } }] });
        $r = $b->request(GET => '/app/', headers => { Cookie => $session, Accept => 'text/html' });
        is($r->{status}, 200, "round $round: and lets him in again once reactivated");
    }
    $b->stop;
    unlike($b->error_log, qr/\[(alert|crit|emerg)\]/, 'the second nginx logged no alert');
}

$n->stop;
done_testing();
