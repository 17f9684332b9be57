# Tests for the /Users slice through the real nginx: create, read, filter,
# delete, authentication and RFC 7644 error bodies with their log lines.

use strict;
use warnings;
use Test::More;
use Test::Scim::Nginx;

my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

my $n = Test::Scim::Nginx->new;
$n->start;

sub expect_status {
    my ($res, $want, $what) = @_;
    is($res->{status}, $want, "$what: status $want") or diag("body: $res->{body}");
}

# create
my $res = $n->scim(POST => '/Users', {
    schemas => [$CORE], userName => 'Bjensen@Example.com', externalId => '00u1abc',
    name => { givenName => 'Barbara', familyName => 'Jensen' },
    emails => [{ value => 'bjensen@example.com', type => 'work', primary => JSON::PP::true }],
});
expect_status($res, 201, 'POST /Users');
my $user = $res->{json};
my $id = $user->{id};
like($id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'id is a time-ordered (v7) UUID');
is($res->{headers}{'content-type'}, 'application/scim+json', 'content type');
my $loc = "http://127.0.0.1:${\ $n->port}/scim/v2/Users/$id";
is($res->{headers}{location}, $loc, 'Location is the absolute resource URL');
is($user->{meta}{location}, $loc, 'meta.location equals Location');
is($res->{headers}{etag}, $user->{meta}{version}, 'ETag equals meta.version');
like($user->{meta}{created}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'meta.created is RFC 3339');
is($res->{headers}{'cache-control'}, 'no-store', 'responses are not cached');
is($user->{userName}, 'Bjensen@Example.com', 'userName keeps its case');

# content negotiation (RFC 7644 §3.8): application/json when that is all the client accepts
for (['application/json' => 'application/json'], ['application/json;q=0.9' => 'application/json'],
     ['application/scim+json, application/json' => 'application/scim+json'],
     ['*/*' => 'application/scim+json'], ['text/html' => 'application/scim+json'],
     ['application/scim+json;q=0, application/json' => 'application/json'],
     ['application/json;q=0.0, application/scim+json;q=0.5' => 'application/scim+json']) {
    my ($accept, $want) = @$_;
    my $r = $n->scim(GET => "/Users/$id", undef, headers => { Accept => $accept });
    is($r->{headers}{'content-type'}, $want, "Accept: $accept answers $want");
}
$res = $n->scim(GET => '/Users/nope', undef, headers => { Accept => 'application/json' });
is("$res->{status} $res->{headers}{'content-type'}", '404 application/json', 'errors follow Accept too');

# read
$res = $n->scim(GET => "/Users/$id");
expect_status($res, 200, 'GET /Users/{id}');
is_deeply($res->{json}, $user, 'GET returns what POST returned');
is($res->{headers}{etag}, $user->{meta}{version}, 'GET has the ETag');

$res = $n->request(HEAD => "/scim/v2/Users/$id", token => 1);
expect_status($res, 200, 'HEAD /Users/{id}');
is($res->{body}, '', 'HEAD has no body');

# filters through the indexes
for my $f ('userName eq "bjensen@example.com"', 'USERNAME Eq "BJENSEN@EXAMPLE.COM"',
           'externalId eq "00u1abc"')
{
    (my $q = $f) =~ s/([^A-Za-z0-9])/sprintf('%%%02X', ord $1)/ge;
    $res = $n->scim(GET => "/Users?filter=$q&startIndex=1&count=100");
    expect_status($res, 200, "filter $f");
    is($res->{json}{totalResults}, 1, "filter $f finds the user");
    is($res->{json}{Resources}[0]{id}, $id, "filter $f returns the user");
    is_deeply($res->{json}{schemas}, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        "filter $f is a ListResponse");
}
$res = $n->scim(GET => '/Users?filter=externalId+eq+%2200U1ABC%22');
is($res->{json}{totalResults}, 0, 'externalId is case-exact');

# uniqueness
$res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => 'BJENSEN@example.com' });
expect_status($res, 409, 'same userName in another case');
is($res->{json}{scimType}, 'uniqueness', '409 scimType');
is($res->{json}{status}, '409', 'status is a string');
$res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => 'other', externalId => '00u1abc' });
expect_status($res, 409, 'same externalId');
like($res->{json}{detail}, qr/externalId "00u1abc" already belongs to another user/, '409 detail');

# authentication
$res = $n->request(GET => '/scim/v2/Users');
expect_status($res, 401, 'no token');
is($res->{headers}{'www-authenticate'}, 'Bearer realm="test"', 'WWW-Authenticate');
is($res->{json}{status}, '401', '401 body is a SCIM error');
$res = $n->request(GET => '/scim/v2/Users', headers => { Authorization => 'Bearer scim_wrong' });
expect_status($res, 401, 'wrong token');

# errors
$res = $n->request(POST => '/scim/v2/Users', token => 1, body => '{"schemas":',
    headers => { 'Content-Type' => 'application/scim+json' });
expect_status($res, 400, 'malformed JSON');
is($res->{json}{scimType}, 'invalidSyntax', 'malformed JSON scimType');
$res = $n->request(POST => '/scim/v2/Users', token => 1, body => 'userName=x',
    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' });
expect_status($res, 415, 'form body');
$res = $n->request(POST => '/scim/v2/Users', token => 1,
    body => qq({"schemas":["$CORE"],"userName":"plainjson"}),
    headers => { 'Content-Type' => 'application/json; charset=utf-8' });
expect_status($res, 201, 'application/json is accepted too');
$res = $n->scim(GET => '/Users?filter=userName+eq');
expect_status($res, 400, 'bad filter');
is($res->{json}{scimType}, 'invalidFilter', 'bad filter scimType');
like($res->{json}{detail}, qr/at position 12/, 'bad filter names the position');
$res = $n->scim(GET => '/Users/does-not-exist');
expect_status($res, 404, 'unknown id');
$res = $n->scim(GET => '/Nope');
expect_status($res, 404, 'unknown endpoint');
$res = $n->scim(GET => '/Me');
expect_status($res, 501, '/Me is not implemented');

# a large body is spooled to a file by nginx and read back
my $big = { schemas => [$CORE], userName => 'big', title => 'x' x 60000 };
$res = $n->scim(POST => '/Users', $big);
expect_status($res, 201, 'POST of a 60 kB user');
is(length $res->{json}{title}, 60000, 'the whole body arrived');

# discovery
$res = $n->scim(GET => '/ServiceProviderConfig');
expect_status($res, 200, 'ServiceProviderConfig');
is($res->{json}{filter}{maxResults}, 1000, 'filter.maxResults');
is($res->{json}{meta}{location}, "http://127.0.0.1:${\ $n->port}/scim/v2/ServiceProviderConfig", 'SPC location');

# delete: the record goes, a later POST starts over
$res = $n->scim(DELETE => "/Users/$id");
expect_status($res, 204, 'DELETE');
is($res->{body}, '', '204 has no body');
expect_status($n->scim(GET => "/Users/$id"), 404, 'GET after DELETE');
expect_status($n->scim(DELETE => "/Users/$id"), 404, 'DELETE twice');
$res = $n->scim(GET => '/Users?filter=userName+eq+%22bjensen%40example.com%22');
is($res->{json}{totalResults}, 0, 'the index forgot the user');
$res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => 'bjensen@example.com', externalId => '00u1abc' });
expect_status($res, 201, 'POST after DELETE');
isnt($res->{json}{id}, $id, 'a new id');

$n->stop;

my $log = $n->error_log;

# base_url: the public URL behind a proxy that terminates TLS
my $b = Test::Scim::Nginx->new(config => <<'EOC');
location /scim/v2/ {
    scim_api test base_url=https://sso.example.com/idp/scim/v2/;
}
EOC
$b->start;
$res = $b->scim(POST => '/Users', { schemas => [$CORE], userName => 'proxied@example.com' });
expect_status($res, 201, 'POST with base_url');
my $public = "https://sso.example.com/idp/scim/v2/Users/$res->{json}{id}";
is($res->{headers}{location}, $public, 'Location uses base_url');
is($res->{json}{meta}{location}, $public, 'meta.location uses base_url');
$b->stop;
for my $bad ('base_url=ftp://x.example/scim', 'base_url=https:///scim', 'base_url=https://x.example/s?q=1', 'baseurl=https://x.example') {
    $b->set_config(config => "location /scim/v2/ { scim_api test $bad; }");
    my ($rc, $out) = $b->test_config;
    isnt($rc, 0, "nginx -t refuses scim_api test $bad");
    like($out, qr/(is not an absolute http|expected base_url=URL).* in \S+nginx\.conf:\d+/,
         "$bad: a sentence with file:line") or diag($out);
}

like($log, qr/\[error\] .*scim directory "test": 409 uniqueness: userName "BJENSEN\@example.com" is already taken, client: 127\.0\.0\.1/,
    '409 logged with its reason and the client');
like($log, qr/\[error\] .*scim directory "test": 401: a bearer token is required/, '401 logged');
like($log, qr/\[error\] .*scim directory "test": 400 invalidFilter: invalid filter: expected a space and a value after the operator at position 12/,
    'bad filter logged');
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg in the log');

done_testing();
