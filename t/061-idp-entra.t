# Tests that replay Microsoft Entra ID's documented provisioning requests
# (the request/response examples of its SCIM endpoint tutorial, and the
# quirks it is known for): capitalised ops, "False" as a string, dotted
# no-path keys, filter paths, a bare manager id, excludedAttributes=members,
# "$ref": null members, and the membership check by filter.

use strict;
use warnings;
use Test::More;
use JSON::PP;
use Test::Scim::Nginx;

my $n = Test::Scim::Nginx->new;
$n->start;

sub entra {
    my ($method, $path, $body) = @_;
    return $n->request($method, "/scim/v2$path", token => 1,
        headers => { 'Content-Type' => 'application/scim+json' },
        defined $body ? (body => $body) : ());
}
sub enc { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }

# Create User (the tutorial's request, verbatim in shape).
my $res = entra(GET => '/Users?filter=' . enc('userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"'));
is($res->{json}{totalResults}, 0, 'Get User by query before create: none');
$res = entra(POST => '/Users', <<'JSON');
{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
 "active":true,"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
 "meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
 "roles":[]}
JSON
is($res->{status}, 201, 'Create User') or diag($res->{body});
my $id = $res->{json}{id};
is($res->{json}{meta}{resourceType}, 'User', 'meta.resourceType');
ok(!exists $res->{json}{roles}, 'an empty multi-valued attribute is unassigned');

$res = entra(GET => '/Users?filter=' . enc('userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"'));
is($res->{json}{totalResults}, 1, 'Get User by query');
$res = entra(GET => '/Users?filter=' . enc('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"'));
is($res->{json}{Resources}[0]{id}, $id, 'Get User by externalId');
$res = entra(GET => '/Users?filter=' . enc('userName eq "non-existent user"'));
is($res->{json}{totalResults}, 0, 'Get User by query - zero results');

# A manager to point at.
$res = entra(POST => '/Users', '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"manager","active":true}');
my $manager = $res->{json}{id};

# Update User [Multi-valued properties] and [Single-valued properties].
$res = entra(PATCH => "/Users/$id", <<'JSON');
{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
 {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
 {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}
JSON
is($res->{status}, 200, 'Update User [Multi-valued properties]') or diag($res->{body});
is($res->{json}{emails}[0]{value}, 'updatedEmail@microsoft.com', 'the work e-mail changed');
is($res->{json}{name}{familyName}, 'updatedFamilyName', 'the family name changed');
$res = entra(PATCH => "/Users/$id", <<'JSON');
{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
 {"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]}
JSON
is($res->{json}{userName}, '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com', 'Update User [Single-valued properties]');
is(entra(GET => '/Users?filter=' . enc('userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"'))->{json}{totalResults},
   0, 'the old userName is free');

# The quirks: no-path value with dotted keys and an enterprise key, a bare
# manager id, "False" as a string.
$res = entra(PATCH => "/Users/$id", <<JSON);
{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
 {"op":"Add","value":{"name.givenName":"Barbara","title":"Tour Guide",
   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Tours"}},
 {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"$manager"}]}
JSON
is($res->{status}, 200, 'no-path Add with dotted keys, and the manager') or diag($res->{body});
is($res->{json}{name}{givenName}, 'Barbara', 'name.givenName');
is($res->{json}{'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'}{manager}{value}, $manager,
   'the bare manager id became manager.value');
is($res->{json}{'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'}{department}, 'Tours', 'department');
ok(grep({ $_ eq 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' } @{ $res->{json}{schemas} }),
   'schemas lists the extension');
$res = entra(PATCH => "/Users/$id",
    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}');
is($res->{status}, 200, 'Disable User with "False"') or diag($res->{body});
ok(JSON::PP::is_bool($res->{json}{active}) && !$res->{json}{active}, 'active is the boolean false');

# Groups.
$res = entra(POST => '/Groups', <<'JSON');
{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
 "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}
JSON
is($res->{status}, 201, 'Create Group (with Microsoft\'s extra schema URN)') or diag($res->{body});
my $gid = $res->{json}{id};
$res = entra(GET => "/Groups/$gid?excludedAttributes=members");
is($res->{status}, 200, 'Get Group');
ok(!exists $res->{json}{members}, 'excludedAttributes=members');
$res = entra(GET => '/Groups?excludedAttributes=members&filter=' . enc('displayName eq "displayName"'));
is($res->{json}{totalResults}, 1, 'Get Group by displayName');
$res = entra(PATCH => "/Groups/$gid",
    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}');
is($res->{status}, 204, 'Update Group [Non-member attributes]');
$res = entra(PATCH => "/Groups/$gid",
    qq({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"\$ref":null,"value":"$id"}]}]}));
is($res->{status}, 204, 'Update Group [Add Members] with "$ref": null') or diag($res->{body});
$res = entra(GET => '/Groups?excludedAttributes=members&filter=' . enc("id eq \"$gid\" and members[value eq \"$id\"]"));
is($res->{json}{totalResults}, 1, 'the membership check by filter finds the member');
ok(!exists $res->{json}{Resources}[0]{members}, 'without listing the members');
$res = entra(GET => '/Groups?excludedAttributes=members&filter=' . enc("id eq \"$gid\" and members[value eq \"$manager\"]"));
is($res->{json}{totalResults}, 0, 'and not a non-member');
$res = entra(PATCH => "/Groups/$gid",
    qq({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"\$ref":null,"value":"$id"}]}]}));
is($res->{status}, 204, 'Update Group [Remove Members]');
$res = entra(GET => '/Groups?excludedAttributes=members&filter=' . enc("id eq \"$gid\" and members[value eq \"$id\"]"));
is($res->{json}{totalResults}, 0, 'the member is gone');

is(entra(DELETE => "/Groups/$gid")->{status}, 204, 'Delete Group');
is(entra(DELETE => "/Users/$id")->{status}, 204, 'Delete User');
is(entra(GET => "/Users/$id")->{status}, 404, 'the user is gone');

$n->stop;
unlike($n->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert in the log');
done_testing();
