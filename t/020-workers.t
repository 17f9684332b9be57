# Tests for the truth shared by all workers: a user written through one
# worker is read through another on the next request; data survives
# "nginx -s reload" and a stop/start; the shm zone keeps its data across a
# reload.

use strict;
use warnings;
use Test::More;
use Test::Scim::Nginx;

my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

my $config = <<'EOF_CONF';
location /scim/v2/ {
    scim_api test;
    add_header X-Worker $pid always;
}
location = /generation {
    return 200 "$scim_generation";
}
EOF_CONF

my $n = Test::Scim::Nginx->new(workers => 4, listen_options => 'reuseport', config => $config);
$n->start;
is(scalar(my @w = $n->workers), 4, '4 workers running');

my (%created_by, %doc, %served);
for my $i (1 .. 40) {
    my $res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => "worker-user-$i" });
    is($res->{status}, 201, "create user $i") or diag($res->{body});
    my $id = $res->{json}{id};
    $created_by{$id} = $res->{headers}{'x-worker'};
    $doc{$id} = $res->{json};
    $served{$res->{headers}{'x-worker'}}++;
}

# Read each user through a worker other than the one that wrote it, on the
# request that follows the write.
my $cross = 0;
for my $id (sort keys %created_by) {
    for my $try (1 .. 60) {
        my $res = $n->scim(GET => "/Users/$id");
        $served{$res->{headers}{'x-worker'}}++;
        if ($res->{headers}{'x-worker'} ne $created_by{$id}) {
            is($res->{status}, 200, "user $id written by $created_by{$id}, read by $res->{headers}{'x-worker'}")
                or diag($res->{body});
            is_deeply($res->{json}, $doc{$id}, "user $id reads back the same");
            $cross++;
            last;
        }
        # a read by the writer itself proves nothing here; it must still work
        if ($res->{status} != 200) {
            fail("user $id read by its writer: expected 200, got $res->{status}");
            diag($res->{body});
        }
    }
}
is($cross, 40, 'every user was read through another worker than its writer');
cmp_ok(scalar(keys %served), '>=', 3, 'requests spread over at least 3 of the 4 workers')
    or diag(explain \%served);

# A filter through another worker than the writer, immediately.
my $res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => 'just-written' });
my $writer = $res->{headers}{'x-worker'};
for my $try (1 .. 60) {
    $res = $n->scim(GET => '/Users?filter=userName+eq+%22JUST-WRITTEN%22');
    next if $res->{headers}{'x-worker'} eq $writer;
    is($res->{json}{totalResults}, 1, 'the index entry is visible to another worker at once');
    last;
}

is($n->request(GET => '/generation')->{body}, '41', 'the shm zone counted 41 writes');

# reload: the real "nginx -s reload" command
my @before = $n->workers;
$n->reload(signaller => 1);
my @after = $n->workers;
is(scalar(@after), 4, '4 new workers after reload');
ok(!(grep { my $o = $_; grep { $_ == $o } @after } @before), 'all workers were replaced');
is($n->request(GET => '/generation')->{body}, '41', 'the shm zone kept its data across the reload');
for my $id (sort keys %doc) {
    $res = $n->scim(GET => "/Users/$id");
    is_deeply($res->{json}, $doc{$id}, "user $id after reload") or diag($res->{body});
}

# stop and start: LMDB is the truth, the zone starts over
$n->stop;
$n->start;
is($n->request(GET => '/generation')->{body}, '0', 'a restart starts a new zone');
for my $id (sort keys %doc) {
    $res = $n->scim(GET => "/Users/$id");
    is_deeply($res->{json}, $doc{$id}, "user $id after restart") or diag($res->{body});
}
$res = $n->scim(GET => '/Users?count=0');
is($res->{json}{totalResults}, 41, '41 users after restart');

# A zone whose size changes is a new zone (nginx keeps a zone only with
# the same name and size); the store does not care.
$n->scim(POST => '/Users', { schemas => [$CORE], userName => 'before-resize' });
is($n->request(GET => '/generation')->{body}, '1', 'one write counted');
$n->set_config(http_config => Test::Scim::Nginx::default_http_config() =~ s/scim:1m/scim:2m/r);
$n->reload;
is($n->request(GET => '/generation')->{body}, '0', 'a resized zone starts over');
is($n->scim(GET => '/Users?count=0')->{json}{totalResults}, 42, 'the store kept all 42 users');

$n->stop;
unlike($n->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg in the log');

done_testing();
