# Tests for the gateway's configuration errors: nginx -t names the file,
# the line and what to do; and a product's default group may not be a
# group the IdP already synced.

use strict;
use warnings;
use Test::More;
use Test::Scim::Nginx;
use Test::Scim::Saml;

my $idp = Test::Scim::Saml->new;
my $base = $idp->http_config;

my @cases = (
    ['unknown product', "$base scim_product jira groups=jira-users;",
     "location / { scim_require product=jra; }",
     qr/"scim_require" names unknown product "jra": declare it with "scim_product jra groups=\.\.\." in \S+nginx\.conf:\d+/],
    ['scim_require without a zone',
     "scim_store \$TEST_NGINX_PREFIX/store; scim_product jira groups=a;",
     "location / { scim_require any; }",
     qr/"scim_require" needs a "scim_zone" for the sessions and decisions in \S+nginx\.conf:\d+/],
    ['scim_require without a SAML directory',
     "scim_store \$TEST_NGINX_PREFIX/store; scim_zone scim:1m; scim_directory d { token_file \$TEST_NGINX_TOKEN_FILE; }",
     "location / { scim_require any; }",
     qr/"scim_require" needs a scim_directory with SAML settings to log users in in \S+nginx\.conf:\d+/],
    ['a bad scim_require argument', $base, "location / { scim_require jira; }",
     qr/"scim_require" directive takes "product=NAME", "any" or "off" in \S+nginx\.conf:\d+/],
    ['a bad unauthenticated= value', "$base scim_product jira groups=a;",
     "location / { scim_require product=jira unauthenticated=login; }",
     qr/invalid value "unauthenticated=login": unauthenticated= takes "auto", "redirect" or "401" in \S+nginx\.conf:\d+/],
    ['a duplicate product', "$base scim_product jira groups=a; scim_product JIRA groups=b;", '',
     qr/duplicate product "JIRA" in \S+nginx\.conf:\d+/],
    ['a product without a group', "$base scim_product jira;", '',
     qr/product "jira" names no group that grants it in \S+nginx\.conf:\d+/],
    ['a bad product name', "$base scim_product 'ji ra' groups=a;", '',
     qr/invalid product name "ji ra": use 1 to 64 letters/],
    ['an unknown scim_product parameter', "$base scim_product jira group=a;", '',
     qr/invalid parameter "group=a" in \S+nginx\.conf:\d+/],
    ['an unknown identity header', $base, "location / { scim_identity_header login X-Login; }",
     qr/unknown identity header "login": use user, email, name, user_id, groups, products or groups_overflow/],

    # the module's endpoints are never behind scim_require
    ['scim_require in a scim_api location', "$base scim_product jira groups=a;",
     "location /scim/v2/ { scim_api test; scim_require product=jira; }",
     qr/"scim_require" cannot protect a "scim_api" location: it authenticates requests on its own in \S+nginx\.conf:\d+/],
    ['scim_require in a SAML location', $base,
     "location = /saml/login { scim_require any; scim_saml_login test; }",
     qr/"scim_require" cannot protect a "scim_saml_\*" location: it authenticates requests on its own in \S+nginx\.conf:\d+/],
);

for my $c (@cases) {
    my ($name, $http, $config, $want) = @$c;
    my $n = Test::Scim::Nginx->new(http_config => $http, config => $config);
    my ($rc, $out) = $n->test_config;
    isnt($rc, 0, "nginx -t refuses: $name");
    like($out, $want, "and says why: $name") or diag($out);
}

# A product's default group named like a group the IdP synced: nginx -t
# fails, and a reload to it keeps the running configuration.
my $n = Test::Scim::Nginx->new(http_config => "$base scim_product wiki default=everyone;", config => $idp->locations);
$n->start;
my $res = $n->scim(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => 'Staff' });
is($res->{status}, 201, 'the IdP syncs a group "Staff"');
$n->set_config(http_config => "$base scim_product wiki default=staff;");
my ($rc, $out) = $n->test_config;
isnt($rc, 0, 'nginx -t refuses a default group the IdP has synced');
like($out, qr/scim_product: the default group "staff" of product "wiki" is a group synced from the identity provider into directory "test"; a synced group cannot be a default group: rename one of them in \S+nginx\.conf:\d+/,
     'and says what to do') or diag($out);
$n->stop;

done_testing();
