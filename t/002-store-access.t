# Tests for the store's permissions: nginx -t refuses a store the worker
# user cannot write or reach, prepares one it can, and refuses a file that
# is not an LMDB environment.

use strict;
use warnings;
use Test::More;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Test::Scim::Nginx;

my $root = $> == 0;
my $n = Test::Scim::Nginx->new;
my $store = $n->prefix . '/store';

if ($root) {
    # workers run as nobody: a root-owned 0755 store is not theirs to write
    chown 0, 0, $store;
    chmod 0755, $store;
    my ($rc, $out) = $n->test_config;
    isnt($rc, 0, 'nginx -t fails for a store nobody cannot write');
    like($out, qr/\[emerg\] (?:\d+#\d+: )?scim_store: "\Q$store\E" is not writable by uid \d+ \(the worker user "nobody" must own or be able to write it\) in \S+nginx\.conf:\d+/,
        'the message names the store, the user and file:line') or diag($out);

    # a private parent directory hides the store from the workers
    my $private = tempdir('scim-private-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0700, $private;
    make_path("$private/store");
    $n->give_to_workers("$private/store");
    $n->set_config(http_config => Test::Scim::Nginx::default_http_config() =~ s/\$TEST_NGINX_PREFIX\/store/$private\/store/r);
    ($rc, $out) = $n->test_config;
    isnt($rc, 0, 'nginx -t fails for a store behind a private directory');
    like($out, qr/"\Q$private\E" cannot be searched by uid \d+, so "\Q$private\E\/store" cannot be reached/,
        'the message names the private directory') or diag($out);
    $n->set_config(http_config => Test::Scim::Nginx::default_http_config());

    # given to the worker user, it passes, and the files nginx -t created
    # belong to the workers
    $n->give_to_workers($store);
    ($rc, $out) = $n->test_config;
    is($rc, 0, 'nginx -t passes once the store belongs to the worker user') or diag($out);
    my $uid = (getpwnam('nobody'))[2];
    is((stat "$store/data.mdb")[4], $uid, 'data.mdb belongs to the worker user');
    is((stat "$store/lock.mdb")[4], $uid, 'lock.mdb belongs to the worker user');
    is((stat "$store/data.mdb")[2] & 0777, 0600, 'data.mdb is private to its owner');
} else {
    chmod 0555, $store;
    my ($rc, $out) = $n->test_config;
    isnt($rc, 0, 'nginx -t fails for a read-only store');
    like($out, qr/\[emerg\] (?:\d+#\d+: )?scim_store: cannot open the LMDB environment in "\Q$store\E": Permission denied in \S+nginx\.conf:\d+/,
        'the message names the store and the reason') or diag($out);
    chmod 0755, $store;
    ($rc, $out) = $n->test_config;
    is($rc, 0, 'nginx -t passes with a writable store') or diag($out);
}

# a data.mdb that is not an LMDB file
unlink "$store/data.mdb", "$store/lock.mdb";
open my $fh, '>', "$store/data.mdb" or die $!;
print $fh 'not an LMDB file ' x 1000;
close $fh;
$n->give_to_workers("$store/data.mdb");
my ($rc, $out) = $n->test_config;
isnt($rc, 0, 'nginx -t fails for a corrupt data.mdb');
like($out, qr/\[emerg\] (?:\d+#\d+: )?scim_store: cannot open the LMDB environment in "\Q$store\E": MDB_INVALID/,
    'the message says the file is not LMDB') or diag($out);

# a running nginx refuses a reload to a broken store and keeps serving
unlink "$store/data.mdb";
$n->start;
my $res = $n->scim(POST => '/Users', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'], userName => 'kept' });
is($res->{status}, 201, 'user created');
$n->set_config(http_config => "scim_store /nonexistent/store;\n" .
    "scim_directory test { token_file \$TEST_NGINX_TOKEN_FILE; }\n");
my @workers = $n->workers;
$n->write_config;
kill 'HUP', $n->pid;
sleep 1;
is_deeply([$n->workers], \@workers, 'a reload to a missing store keeps the old workers');
like($n->error_log, qr/scim_store directory "\/nonexistent\/store" does not exist/, 'and logs why');
is($n->scim(GET => "/Users/$res->{json}{id}")->{status}, 200, 'the old configuration still serves');
$n->stop;

done_testing();
