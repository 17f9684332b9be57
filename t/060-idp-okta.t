# Tests that replay Okta's documented SCIM 2.0 provisioning sequence (its
# "SCIM 2.0" reference and its spec test): test API credentials, user
# lifecycle with the exact request bodies Okta sends, and group push.

use strict;
use warnings;
use Test::More;
use JSON::PP;
use Test::Scim::Nginx;

my $n = Test::Scim::Nginx->new;
$n->start;
my $json = JSON::PP->new->canonical;

# Okta's headers on every request.
my %okta = ('User-Agent' => 'Okta SCIM Client 1.0.0', Accept => 'application/scim+json',
            'Content-Type' => 'application/scim+json; charset=utf-8');

sub okta {
    my ($method, $path, $body) = @_;
    my $res = $n->request($method, "/scim/v2$path", token => 1, headers => {%okta},
        defined $body ? (body => ref $body ? $json->encode($body) : $body) : ());
    return $res;
}

sub enc { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }

# "Test API Credentials": Okta lists users and groups with constant parameters.
my $res = okta(GET => '/Users?startIndex=1&count=1');
is($res->{status}, 200, 'test credentials: GET /Users?startIndex=1&count=1');
is($res->{json}{totalResults}, 0, 'an empty directory');
is_deeply($res->{json}{Resources}, [], 'Resources is an empty array, not missing');
$res = okta(GET => '/Groups?startIndex=1&count=100');
is($res->{status}, 200, 'test credentials: GET /Groups?startIndex=1&count=100');

# Assign a user: look up by userName first, then create.
$res = okta(GET => '/Users?filter=' . enc('userName eq "test.user@okta.local"') . '&startIndex=1&count=100');
is($res->{json}{totalResults}, 0, 'lookup before create finds nobody');
my $create = {
    schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName => 'test.user@okta.local',
    name => { givenName => 'Test', familyName => 'User' },
    emails => [{ primary => JSON::PP::true, value => 'test.user@okta.local', type => 'work' }],
    displayName => 'Test User', locale => 'en-US', externalId => '00ujl29u0le5T6Aj10h7',
    groups => [], password => '1mz050nq', active => JSON::PP::true,
};
$res = okta(POST => '/Users', $create);
is($res->{status}, 201, 'POST /Users') or diag($res->{body});
my $user = $res->{json};
my $id = $user->{id};
ok(!exists $user->{password}, 'the password is never returned');
is($user->{externalId}, '00ujl29u0le5T6Aj10h7', 'externalId round-trips');
is($res->{headers}{'content-type'}, 'application/scim+json', 'SCIM content type');

# Okta's spec test: the upper-cased userName finds the same user.
$res = okta(GET => '/Users?filter=' . enc('userName eq "TEST.USER@OKTA.LOCAL"') . '&startIndex=1&count=100');
is($res->{json}{totalResults}, 1, 'filter on the upper-cased userName');
is($res->{json}{Resources}[0]{id}, $id, 'it is the same user');
is($res->{json}{itemsPerPage}, 1, 'itemsPerPage counts what was returned');
$res = okta(GET => '/Users/010101010-0101-0101-0101-0101010101');
is($res->{status}, 404, 'an unknown id is 404');
is($res->{json}{status}, '404', 'with a SCIM error whose status is a string');
$res = okta(POST => '/Users', $create);
is($res->{status}, 409, 'creating the same user again is a conflict');
is($res->{json}{scimType}, 'uniqueness', 'scimType uniqueness');

# Profile update: PUT with the read-only id, meta and groups Okta echoes back.
my $put = { %$user, name => { givenName => 'Another', familyName => 'User' }, groups => [] };
delete $put->{emails};
$res = okta(PUT => "/Users/$id", $put);
is($res->{status}, 200, 'PUT /Users/{id}') or diag($res->{body});
is($res->{json}{name}{givenName}, 'Another', 'the profile changed');
ok(!exists $res->{json}{emails}, 'what the PUT did not send is cleared');
is($res->{json}{meta}{created}, $user->{meta}{created}, 'meta.created is kept');

# Deactivate and reactivate with Okta's no-path PATCH.
for my $active (JSON::PP::false, JSON::PP::true) {
    $res = okta(PATCH => "/Users/$id", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations => [{ op => 'replace', value => { active => $active } }] });
    is($res->{status}, 200, 'PATCH active=' . ($active ? 'true' : 'false')) or diag($res->{body});
    is(!!$res->{json}{active}, !!$active, 'the response shows it');
    is(!!okta(GET => "/Users/$id")->{json}{active}, !!$active, 'and so does a GET');
}

# Group push: create, rename, add and remove members, look up, delete.
$res = okta(POST => '/Users', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName => 'second@okta.local', externalId => '00u2', active => JSON::PP::true });
my $id2 = $res->{json}{id};
$res = okta(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName => 'Test SCIMv2', members => [] });
is($res->{status}, 201, 'POST /Groups') or diag($res->{body});
my $gid = $res->{json}{id};
$res = okta(PATCH => "/Groups/$gid", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations => [{ op => 'replace', value => { id => $gid, displayName => 'Test SCIMv2 renamed' } }] });
is($res->{status}, 204, 'rename by no-path replace carrying the id') or diag($res->{body});
$res = okta(PATCH => "/Groups/$gid", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations => [{ op => 'add', path => 'members',
        value => [{ value => $id, display => 'test.user@okta.local' }, { value => $id2, display => 'second@okta.local' }] }] });
is($res->{status}, 204, 'add members') or diag($res->{body});
$res = okta(GET => '/Groups?filter=' . enc('displayName eq "Test SCIMv2 renamed"') . '&startIndex=1&count=100');
is($res->{json}{totalResults}, 1, 'the group by displayName');
is(scalar @{ $res->{json}{Resources}[0]{members} }, 2, 'with two members');
is(okta(GET => "/Users/$id")->{json}{groups}[0]{display}, 'Test SCIMv2 renamed', "the user's groups show it");
$res = okta(PATCH => "/Groups/$gid", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations => [{ op => 'remove', path => "members[value eq \"$id2\"]" }] });
is($res->{status}, 204, 'remove a member');
is(scalar @{ okta(GET => "/Groups/$gid")->{json}{members} }, 1, 'one member left');
$res = okta(DELETE => "/Groups/$gid");
is($res->{status}, 204, 'DELETE /Groups/{id}');
ok(!exists okta(GET => "/Users/$id")->{json}{groups}, 'the user is in no group any more');

$n->stop;
unlike($n->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert in the log');
done_testing();
