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

    # header names are RFC 9110 tokens
    ['a prefix with a space', $base, "location / { scim_identity_headers 'Bad Prefix-'; }",
     qr/invalid header name prefix "Bad Prefix-": a header name is one or more letters, digits and any of !#\$%&'\*\+-\.\^_`\|~ \(RFC 9110 token characters\) in \S+nginx\.conf:\d+/],
    ['a prefix with a colon', $base, "scim_identity_headers X-Remote:;",
     qr/invalid header name prefix "X-Remote:": a header name is one or more letters/],
    ['an empty prefix', $base, "location / { scim_identity_headers ''; }",
     qr/invalid header name prefix "": a header name is one or more letters/],
    ['a header name with a space', $base, "location / { scim_identity_header email 'X Mail'; }",
     qr/invalid header name "X Mail": a header name is one or more letters, digits and any of .* in \S+nginx\.conf:\d+/],
    ['a header name with a slash', $base, "scim_identity_header user X-User/Name;",
     qr/invalid header name "X-User\/Name": a header name is one or more letters/],
    ['an identity header named Cookie', $base, "location / { scim_identity_header user Cookie; }",
     qr/"Cookie" cannot carry an identity: a client's copy is removed from every request, and nginx and the app need it for something else in \S+nginx\.conf:\d+/],
    ['an identity header named authorization, underscored', $base, "scim_identity_header email Proxy_Authorization;",
     qr/"Proxy_Authorization" cannot carry an identity/],
    ['a header name with a non-ASCII letter', $base, "location / { scim_identity_header name X-N\x{e4}me; }",
     qr/invalid header name "X-N\S+me": a header name is one or more letters/],

    # scim_login_url: a path of this server or an http(s) URL
    ['a relative scim_login_url', $base, "location / { scim_login_url relative; }",
     qr/invalid value "relative": "scim_login_url" takes a path starting with "\/" or an absolute http:\/\/ or https:\/\/ URL, without spaces or quotes in \S+nginx\.conf:\d+/],
    ['a scim_login_url of another scheme', $base, "scim_login_url javascript:alert(1);",
     qr/invalid value "javascript:alert\(1\)": "scim_login_url" takes a path starting with "\/"/],
    ['a scheme-relative scim_login_url', $base, "location / { scim_login_url //idp.example.com/login; }",
     qr/invalid value "\/\/idp.example.com\/login": "scim_login_url" takes a path/],
    ['a scim_login_url with a quote', $base, "location / { scim_login_url '/login\"x'; }",
     qr/invalid value "\/login"x": "scim_login_url" takes a path/],
    ['a bare scheme as scim_login_url', $base, "location / { scim_login_url https://; }",
     qr/invalid value "https:\/\/": "scim_login_url" takes a path/],

    # scim_identity_headers_max_size: from 64 bytes to 1m
    ['a zero scim_identity_headers_max_size', $base, "location / { scim_identity_headers_max_size 0; }",
     qr/invalid value "0": "scim_identity_headers_max_size" must be from 64 bytes to 1048576 bytes \(1m\) in \S+nginx\.conf:\d+/],
    ['a tiny scim_identity_headers_max_size', $base, "scim_identity_headers_max_size 63;",
     qr/invalid value "63": "scim_identity_headers_max_size" must be from 64 bytes to 1048576 bytes/],
    ['a huge scim_identity_headers_max_size', $base, "location / { scim_identity_headers_max_size 2m; }",
     qr/invalid value "2m": "scim_identity_headers_max_size" must be from 64 bytes to 1048576 bytes/],

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

# What the checks above must still accept.
{
    my $n = Test::Scim::Nginx->new(http_config => "$base scim_product jira groups=a;
        scim_identity_headers X-Auth_0.9!#\$%&'*+^`|~-; scim_identity_headers_max_size 64;",
        config => $idp->locations . <<'EOF');
scim_require product=jira;
scim_login_url https://sso.example.com/saml/login?app=jira;
location /a/ { scim_login_url /saml/login; scim_identity_headers_max_size 1m; scim_identity_header email X-Mail; }
location /b/ { scim_login_url HTTP://sso.example.com/; scim_identity_headers off; }
location /c/ { scim_login_url /; }
location /scim/v3/ { scim_api test; scim_require off; }
EOF
    my ($rc, $out) = $n->test_config;
    is($rc, 0, 'nginx -t accepts token header names, absolute login URLs, sizes from 64 bytes to 1m, '
             . 'and "scim_require off" in an endpoint') or diag($out);
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
