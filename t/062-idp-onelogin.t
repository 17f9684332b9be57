# Tests that replay OneLogin's "SCIM Provisioner with SAML (SCIM v2 Core)"
# flow: users from its default SCIM JSON template (userName from a
# parameter, a primary work e-mail), updates by PUT of the whole template,
# suspension by PATCH with a path, role-to-group pushes, deletion.

use strict;
use warnings;
use Test::More;
use JSON::PP;
use Test::Scim::Nginx;

my $n = Test::Scim::Nginx->new;
$n->start;
my $json = JSON::PP->new->canonical;

sub onelogin {
    my ($method, $path, $body) = @_;
    return $n->request($method, "/scim/v2$path", token => 1,
        headers => { 'Content-Type' => 'application/json' },   # OneLogin sends plain JSON
        defined $body ? (body => ref $body ? $json->encode($body) : $body) : ());
}
sub enc { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }

sub template {
    my %u = @_;
    return { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'], userName => $u{userName},
             name => { givenName => $u{given}, familyName => $u{family} },
             emails => [{ value => $u{email}, type => 'work', primary => JSON::PP::true }] };
}

my $res = onelogin(GET => '/Users?filter=' . enc('userName eq "jdoe@onelogin.example"'));
is($res->{json}{totalResults}, 0, 'lookup before create');
$res = onelogin(POST => '/Users', template(userName => 'jdoe@onelogin.example', given => 'Jane', family => 'Doe',
                                           email => 'jdoe@onelogin.example'));
is($res->{status}, 201, 'create from the template (Content-Type: application/json)') or diag($res->{body});
my $id = $res->{json}{id};

# The e-mail changes; OneLogin sends the whole template again with PUT.
$res = onelogin(PUT => "/Users/$id", template(userName => 'jdoe@onelogin.example', given => 'Jane', family => 'Doe-Smith',
                                              email => 'jane.doe-smith@onelogin.example'));
is($res->{status}, 200, 'update by PUT') or diag($res->{body});
is($res->{json}{emails}[0]{value}, 'jane.doe-smith@onelogin.example', 'the new e-mail');
$res = onelogin(GET => '/Users?filter=' . enc('emails.value eq "jdoe@onelogin.example"'));
is($res->{json}{totalResults}, 0, 'the old e-mail no longer finds the user');
$res = onelogin(GET => '/Users?filter=' . enc('emails[type eq "work" and value eq "Jane.Doe-Smith@onelogin.example"]'));
is($res->{json}{totalResults}, 1, 'the new one does, case-insensitively');

# A second user may not take Jane's primary e-mail: no duplicate account.
$res = onelogin(POST => '/Users', template(userName => 'other@onelogin.example', given => 'O', family => 'T',
                                           email => 'JANE.DOE-SMITH@onelogin.example'));
is($res->{status}, 409, 'a second user with the same primary e-mail is refused');
like($res->{json}{detail}, qr/primary e-mail/, 'and the detail says why');

# Roles pushed as groups.
$res = onelogin(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => 'Engineering' });
is($res->{status}, 201, 'role pushed as a group');
my $gid = $res->{json}{id};
$res = onelogin(PATCH => "/Groups/$gid", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations => [{ op => 'add', path => 'members', value => [{ value => $id }] }] });
is($res->{status}, 204, 'member added');
is(onelogin(GET => "/Users/$id")->{json}{groups}[0]{display}, 'Engineering', 'the user shows the group');

# Suspension, then deletion.
$res = onelogin(PATCH => "/Users/$id", { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations => [{ op => 'replace', path => 'active', value => JSON::PP::false }] });
is($res->{status}, 200, 'suspend');
ok(!$res->{json}{active}, 'inactive');
is(scalar @{ onelogin(GET => "/Groups/$gid")->{json}{members} }, 1, 'an inactive user keeps its memberships');
is(onelogin(DELETE => "/Users/$id")->{status}, 204, 'delete');
ok(!exists onelogin(GET => "/Groups/$gid")->{json}{members}, 'deleting the user emptied its group');
$res = onelogin(POST => '/Users', template(userName => 'jdoe@onelogin.example', given => 'Jane', family => 'Doe',
                                           email => 'jane.doe-smith@onelogin.example'));
is($res->{status}, 201, 'after a delete, a POST starts over');
isnt($res->{json}{id}, $id, 'with a new id');

$n->stop;
unlike($n->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert in the log');
done_testing();
