# Tests that a 201 is never lost: nginx is killed with SIGKILL (master and
# workers) in the middle of concurrent create loops, and every user whose
# creation was acknowledged is found after a restart.

use strict;
use warnings;
use Test::More;
use Test::Scim::Nginx;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

my $n = Test::Scim::Nginx->new(workers => 2, listen_options => 'reuseport');
$n->start;

# Two clients create users as fast as they can and write down each
# acknowledged id, unbuffered, before sending the next request.
my @clients;
for my $c (1 .. 2) {
    my $file = $n->prefix . "/acked-$c.txt";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open my $fh, '>', $file or die $!;
        $fh->autoflush(1);
        for my $i (1 .. 1_000_000) {
            my $res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => "crash-$c-$i" });
            last if $res->{status} == 599;    # nginx is gone
            print $fh "$res->{json}{id} crash-$c-$i\n" if $res->{status} == 201;
        }
        POSIX::_exit(0);
    }
    push @clients, [$pid, $file];
}

# Let them write for a while, then crash nginx under them.
my $deadline = time + 20;
my $acked = 0;
while (time < $deadline) {
    sleep 0.1;
    $acked = 0;
    for (@clients) { $acked += (-s $_->[1] // 0) / 50 }
    last if $acked >= 200;
}
$n->kill9;
for (@clients) { waitpid($_->[0], 0) }

my %acked;
for (@clients) {
    open my $fh, '<', $_->[1] or die $!;
    while (<$fh>) {
        my ($id, $name) = split;
        $acked{$id} = $name;
    }
}
cmp_ok(scalar(keys %acked), '>=', 100, 'at least 100 creates were acknowledged before the crash')
    or diag('acknowledged: ' . scalar(keys %acked));

$n->start;
my $missing = 0;
for my $id (sort keys %acked) {
    my $res = $n->scim(GET => "/Users/$id");
    if ($res->{status} != 200 || $res->{json}{userName} ne $acked{$id}) {
        $missing++;
        diag("acknowledged user $id ($acked{$id}) after restart: $res->{status} $res->{body}");
    }
}
is($missing, 0, 'every acknowledged user survived SIGKILL (' . scalar(keys %acked) . ' checked)');

# Unacknowledged writes may have committed (the 201 was lost in flight),
# but no more than one per client can be in that state.
my $res = $n->scim(GET => '/Users?count=0');
my $total = $res->{json}{totalResults};
cmp_ok($total, '>=', scalar(keys %acked), 'the store holds at least the acknowledged users');
cmp_ok($total, '<=', scalar(keys %acked) + 2, 'and at most one in-flight create per client more');

# The store is still a consistent LMDB environment and still writable.
my $stat = `mdb_stat -a ${\ $n->prefix}/store 2>&1`;
is($?, 0, 'mdb_stat reads the store after the crash') or diag($stat);
$res = $n->scim(POST => '/Users', { schemas => [$CORE], userName => 'after-crash' });
is($res->{status}, 201, 'the store accepts writes after the crash');

# The index agrees with the records: every acknowledged userName is found.
my $unindexed = 0;
for my $id ((sort keys %acked)[0 .. 19]) {
    my $q = "userName+eq+%22$acked{$id}%22";
    $res = $n->scim(GET => "/Users?filter=$q");
    $unindexed++ unless ($res->{json}{Resources}[0]{id} // '') eq $id;
}
is($unindexed, 0, 'the userName index agrees with the records after the crash');

$n->stop;
done_testing();
