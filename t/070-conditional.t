# Tests for conditional requests through nginx: the core answers If-Match
# and If-None-Match, and nginx's own not_modified filter must not answer
# them a second time after a write was committed.

use strict;
use warnings;
use Test::More;
use Test::Scim::Nginx;

my $n = Test::Scim::Nginx->new;
$n->start;
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => 'cond' });
my ($id, $v1) = ($res->{json}{id}, $res->{headers}{etag});
like($v1, qr{^W/"\d+"$}, 'a weak ETag');

$res = $n->scim(PATCH => "/Users/$id", { Operations => [{ op => 'replace', path => 'title', value => 'A' }] },
                headers => { 'If-Match' => $v1 });
is($res->{status}, 200, 'PATCH with the current version in If-Match') or diag($res->{body});
my $v2 = $res->{headers}{etag};
isnt($v2, $v1, 'a new version');
is($n->scim(GET => "/Users/$id")->{json}{title}, 'A', 'and it was written');

$res = $n->scim(PUT => "/Users/$id", { schemas => [$CORE], userName => 'cond', title => 'B' },
                headers => { 'If-Match' => $v1 });
is($res->{status}, 412, 'PUT with a stale If-Match is 412');
is($res->{json}{status}, '412', 'a SCIM error body');
is($n->scim(GET => "/Users/$id")->{json}{title}, 'A', 'and nothing was written');

$res = $n->scim(PUT => "/Users/$id", { schemas => [$CORE], userName => 'cond', title => 'C' },
                headers => { 'If-Match' => $v2 });
is($res->{status}, 200, 'PUT with the current If-Match is 200') or diag($res->{body});
my $v3 = $res->{headers}{etag};

$res = $n->scim(PUT => "/Users/$id", { schemas => [$CORE], userName => 'cond', title => 'D' },
                headers => { 'If-None-Match' => '*', 'If-Unmodified-Since' => 'Thu, 01 Jan 1970 00:00:00 GMT' });
is($res->{status}, 200, 'nginx does not apply If-None-Match or If-Unmodified-Since to a PUT');
$v3 = $res->{headers}{etag};

$res = $n->scim(GET => "/Users/$id", undef, headers => { 'If-None-Match' => $v3 });
is($res->{status}, 304, 'GET with the current version in If-None-Match is 304');
is($res->{headers}{etag}, $v3, 'with the ETag');
is($res->{body}, '', 'and no body');
$res = $n->scim(GET => "/Users/$id", undef, headers => { 'If-None-Match' => $v1 });
is($res->{status}, 200, 'GET with an old version is 200');
$res = $n->scim(GET => '/Users', undef, headers => { 'If-None-Match' => '*' });
is($res->{status}, 200, 'a list is not conditional');
ok($res->{json}{totalResults}, 'and has its body');

$res = $n->scim(DELETE => "/Users/$id", undef, headers => { 'If-Match' => $v1 });
is($res->{status}, 412, 'DELETE with a stale If-Match is 412');
is($n->scim(DELETE => "/Users/$id", undef, headers => { 'If-Match' => $v3 })->{status}, 204, 'DELETE with the current one');

$n->stop;
done_testing();
