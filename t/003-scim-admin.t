# Tests for scim-admin: --help, token and hash, and a stat that only reads:
# it creates nothing where there is no store, fails there, and says so when
# a directory name has no records. Also what nginx -t says of the token
# files scim-admin writes (comments allowed, a pasted token refused with a
# hint that works).

use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use Test::Scim::Nginx;

my $admin = Test::Scim::Nginx::admin();
my $tmp = tempdir('scim-admin-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub slurp {
    open my $fh, '<', $_[0] or return undef;
    local $/;
    return scalar <$fh>;
}

# run(stdin, args...) -> (exit code, stdout, stderr)
sub run {
    my ($stdin, @args) = @_;
    open my $in, '>', "$tmp/stdin" or die $!;
    print $in $stdin // '';
    close $in;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', "$tmp/stdin" or die $!;
        open STDOUT, '>', "$tmp/stdout" or die $!;
        open STDERR, '>', "$tmp/stderr" or die $!;
        exec $admin, @args;
        exit 127;
    }
    waitpid($pid, 0);
    return ($? >> 8, slurp("$tmp/stdout"), slurp("$tmp/stderr"));
}

# --- usage ----------------------------------------------------------------

for my $opt ('--help', '-h') {
    my ($rc, $out, $err) = run(undef, $opt);
    is($rc, 0, "scim-admin $opt exits 0") or diag("stderr: $err");
    like($out, qr/^usage: scim-admin token \[FILE\]\n.*scim-admin stat STORE DIRECTORY\n/s,
         "scim-admin $opt prints the usage on stdout") or diag("stdout: $out");
    is($err, '', "scim-admin $opt writes nothing on stderr");
}
{
    my ($rc, $out, $err) = run(undef);
    is($rc, 2, 'scim-admin without a command exits 2');
    like($err, qr/^usage: /, 'and prints the usage on stderr') or diag("stderr: $err");
    ($rc, undef, $err) = run(undef, 'stats', 'x', 'y');
    is($rc, 2, 'an unknown command exits 2');
}

# --- token and hash --------------------------------------------------------

{
    my $file = "$tmp/new.token";
    my ($rc, $out, $err) = run(undef, 'token', $file);
    is($rc, 0, 'token FILE exits 0') or diag("stderr: $err");
    like($out, qr/^scim_[A-Za-z0-9_-]{43}\n\z/, 'token FILE prints only the token') or diag("stdout: $out");
    chomp(my $token = $out);
    my $line = slurp($file) // '';
    is($line, 'sha256:' . sha256_hex($token) . "\n", 'and appends its hash line to FILE');
    is((stat $file)[2] & 0777, 0600, 'FILE is created 0600');
    ($rc, $out) = run("$token\n", 'hash');
    is($rc, 0, 'hash exits 0');
    is($out, $line, 'hash prints the line token FILE wrote');
    ($rc, $out) = run(undef, 'token');
    like($out, qr/^scim_\S+\nsha256:[0-9a-f]{64}\n\z/, 'token without FILE prints the token and its hash line')
        or diag("stdout: $out");
}

# --- stat ------------------------------------------------------------------

{
    my $empty = "$tmp/empty";
    mkdir $empty or die $!;
    my ($rc, $out, $err) = run(undef, 'stat', $empty, 'okta');
    is($rc, 1, 'stat of a directory without a store exits 1') or diag("stdout: $out");
    like($err, qr/^scim-admin: "\Q$empty\E" holds no store \(no data\.mdb\)/, 'and says there is no store')
        or diag("stderr: $err");
    opendir my $d, $empty or die $!;
    my @left = grep { !/^\.\.?$/ } readdir $d;
    is("@left", '', 'and creates nothing there (no data.mdb, no lock.mdb)');

    ($rc, undef, $err) = run(undef, 'stat', "$tmp/missing", 'okta');
    is($rc, 1, 'stat of a missing directory exits 1');
    like($err, qr/"\Q$tmp\E\/missing" does not exist/, 'and says so') or diag("stderr: $err");
    ok(!-e "$tmp/missing", 'and does not create it');

    ($rc, undef, $err) = run(undef, 'stat', $empty);
    is($rc, 2, 'stat without a directory name is a usage error');
}

my $n = Test::Scim::Nginx->new;
$n->start;
my $user = { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'], userName => 'admin-t@example.com' };
is($n->scim(POST => '/Users', $user)->{status}, 201, 'a user is created over SCIM');
my $store = $n->prefix . '/store';

{
    # while nginx runs: LMDB readers do not block the writer, nor it them
    my ($rc, $out, $err) = run(undef, 'stat', $store, 'test');
    is($rc, 0, 'stat of the running store exits 0') or diag("stderr: $err");
    is($out, "users 1\ngroups 0\n", 'stat counts the user');
    is($err, '', 'without a note');
}
$n->stop;

{
    my $before = sha256_hex(slurp("$store/data.mdb"));
    my ($rc, $out, $err) = run(undef, 'stat', $store, 'okta');
    is($rc, 0, 'stat of an unknown directory name exits 0 (the store cannot tell it from one not provisioned yet)');
    is($out, "users 0\ngroups 0\n", 'with zero counts on stdout');
    like($err, qr/^scim-admin: note: directory "okta" holds no users or groups and never held any in "\Q$store\E"/m,
         'and a note that the name has no records') or diag("stderr: $err");
    like($err, qr/^scim-admin: note: directories with records: test$/m, 'naming the directories that have some')
        or diag("stderr: $err");
    is(sha256_hex(slurp("$store/data.mdb")), $before, 'stat leaves data.mdb as it was');
}

$n->start;
my $id = $n->scim(GET => '/Users')->{json}{Resources}[0]{id};
is($n->scim(DELETE => "/Users/$id")->{status}, 204, 'the user is deleted');
$n->stop;
{
    my ($rc, $out, $err) = run(undef, 'stat', $store, 'test');
    is($rc, 0, 'stat of an emptied directory exits 0');
    like($err, qr/^scim-admin: note: directory "test" holds no users or groups \(all were deleted\)$/m,
         'and says it held records once') or diag("stderr: $err");
}

# --- token files as nginx -t reads them ------------------------------------

{
    my ($token_line) = slurp($n->token_file) =~ /^(sha256:\S+)/m;
    open my $fh, '>', $n->token_file or die $!;
    print $fh "# okta production, rotated 2024-05\n\n    # the old one:\n$token_line  current\n";
    close $fh;
    my ($rc, $out) = $n->test_config;
    is($rc, 0, 'nginx -t accepts whole-line # comments, blank lines and a comment after the hash')
        or diag($out);

    open $fh, '>', $n->token_file or die $!;
    print $fh $n->token, "\n";
    close $fh;
    ($rc, $out) = $n->test_config;
    isnt($rc, 0, 'nginx -t refuses a token file holding a token');
    like($out, qr/line 1 holds a token, not its hash: replace the line with the "sha256:<hex>" line that "scim-admin hash" prints for it/,
         'and names the scim-admin command that prints the hash line') or diag($out);
}

done_testing();
