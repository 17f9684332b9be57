package Test::Scim::Nginx;

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

my @instances;

END {
    # Whatever a failing test left running is stopped here, by its PID;
    # waitpid() must not turn the test's exit status into a success.
    local $?;
    $_->stop for grep { $_->{pid} } @instances;
}

sub binary { $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx' }

sub module {
    my $m = $ENV{TEST_NGINX_MODULE} // repo_root() . '/build/ngx_http_scim_module.so';
    die "module $m is missing: run make first\n" unless -f $m;
    return abs_path($m);
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
        or die "cannot find a free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub admin { repo_root() . '/build/scim-admin' }

sub repo_root { abs_path(dirname(__FILE__) . '/../../../..') }

# new(%args): main_config, http_config, config, workers (1), servers (extra
# server blocks, text), listen_options ("reuseport" spreads connections over
# the workers), prefix (reuse a prefix), port.
sub new {
    my ($class, %args) = @_;
    my $self = bless {
        workers     => 1,
        main_config => '',
        http_config => default_http_config(),
        config      => default_config(),
        servers     => '',
        log_level   => 'info',
        listen_options => '',
        %args,
    }, $class;
    if (!$self->{prefix}) {
        $self->{prefix} = tempdir('scim-t-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TEST_KEEP});
        chmod 0755, $self->{prefix};
        make_path(map { "$self->{prefix}/$_" } qw(conf logs store temp));
        $self->give_to_workers("$self->{prefix}/store");
        my $out = `${\ admin()} token $self->{prefix}/conf/test.token`;
        die "scim-admin token failed" if $?;
        chomp $out;
        $self->{token} = $out;
    }
    $self->{port} //= free_port();
    push @instances, $self;
    return $self;
}

sub prefix { $_[0]{prefix} }
sub port { $_[0]{port} }
sub token { $_[0]{token} }
sub token_file { "$_[0]{prefix}/conf/test.token" }
sub pid { $_[0]{pid} }

# More $TEST_NGINX_* variables for section values and configs (a test file
# sets e.g. $Test::Scim::Nginx::VARS{TEST_NGINX_SAML} to its fixtures).
our %VARS;

sub expand {
    my ($self, $text) = @_;
    return $text unless defined $text;
    my %v = (
        %VARS,
        TEST_NGINX_PORT       => $self->port,
        TEST_NGINX_PREFIX     => $self->prefix,
        TEST_NGINX_TOKEN      => $self->token,
        TEST_NGINX_TOKEN_FILE => $self->token_file,
    );
    $text =~ s/\$(TEST_NGINX_[A-Z_]+)/exists $v{$1} ? $v{$1} : "\$$1"/ge;
    return $text;
}

sub default_http_config {
    return <<'EOT';
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
}
EOT
}

sub default_config {
    return <<'EOT';
location /scim/v2/ {
    scim_api test;
}
EOT
}

# The user workers run as when the tests run as root.
sub worker_user { $> == 0 ? 'nobody' : undef }

sub give_to_workers {
    my ($self, $path) = @_;
    return unless defined worker_user();
    my (undef, undef, $uid, $gid) = getpwnam(worker_user());
    chown $uid, $gid, $path;
}

sub write_config {
    my $self = shift;
    my $user = defined worker_user() ? "user ${\ worker_user()} nogroup;" : '';
    my $module = module();
    my $conf = <<"EOF";
daemon off;
master_process on;
worker_processes $self->{workers};
pid logs/nginx.pid;
error_log logs/error.log $self->{log_level};
$user
load_module $module;
$self->{main_config}
events {
    worker_connections 256;
}
http {
    access_log logs/access.log;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
$self->{http_config}
    server {
        listen 127.0.0.1:$self->{port} $self->{listen_options};
        server_name localhost;
$self->{config}
    }
$self->{servers}
}
EOF
    $conf = $self->expand($conf);
    open my $fh, '>', "$self->{prefix}/conf/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;
    return $conf;
}

sub set_config {
    my ($self, %args) = @_;
    $self->{$_} = $args{$_} for keys %args;
}

# nginx -t; returns (exit code, combined output).
sub test_config {
    my $self = shift;
    $self->write_config;
    my $out = `${\ binary()} -t -p $self->{prefix}/ -c conf/nginx.conf 2>&1`;
    return ($? >> 8, $out);
}

sub start {
    my $self = shift;
    die "already running" if $self->{pid};
    $self->write_config;
    my $size = -s "$self->{prefix}/logs/error.log" // 0;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{prefix}/logs/stderr.log";
        open STDERR, '>&', \*STDOUT;
        exec binary(), '-p', "$self->{prefix}/", '-c', 'conf/nginx.conf';
        exit 127;
    }
    $self->{pid} = $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            die "nginx exited at start (status $?):\n" . $self->error_log . $self->stderr_log;
        }
        my @w = $self->workers;
        if (@w >= $self->{workers}
            && IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp'))
        {
            return $self;
        }
        sleep 0.02;
    }
    $self->stop;
    die "nginx did not start listening on port $self->{port}:\n" . $self->error_log;
}

# PIDs of the running master's children.
sub workers {
    my $self = shift;
    return () unless $self->{pid};
    my @w;
    opendir my $d, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh>;
        close $fh;
        next unless defined $stat && $stat =~ /\)\s+\S+\s+(\d+)/;
        push @w, $p if $1 == $self->{pid};
    }
    @w = sort { $a <=> $b } @w;
    return @w;
}

sub wait_gone {
    my ($pids, $timeout) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 unless grep { kill 0, $_ } @$pids;
        sleep 0.02;
    }
    return 0;
}

# Reload as "nginx -s reload" does (signaller => 1 runs that very command).
sub reload {
    my ($self, %opt) = @_;
    $self->write_config;
    my @old = $self->workers;
    if ($opt{signaller}) {
        my $out = `${\ binary()} -p $self->{prefix}/ -c conf/nginx.conf -s reload 2>&1`;
        die "nginx -s reload failed: $out" if $?;
    } else {
        kill 'HUP', $self->{pid};
    }
    wait_gone(\@old, 10) or die "old workers @old did not exit after reload:\n" . $self->error_log;
    my $deadline = time + 10;
    while (time < $deadline) {
        my @w = $self->workers;
        return $self if @w >= $self->{workers};
        sleep 0.02;
    }
    die "no new workers after reload:\n" . $self->error_log;
}

sub stop {
    my $self = shift;
    my $pid = delete $self->{pid} or return;
    end_process($pid, 'QUIT');
}

# Ends a child this process started: SIGNAL, then SIGKILL if it is still
# there after 10 s; reaps it either way. Shared by every helper that forks
# a server (nginx, chromedriver, php-fpm).
sub end_process {
    my ($pid, $signal) = @_;
    kill $signal, $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        return if waitpid($pid, WNOHANG) == $pid;
        sleep 0.02;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

# SIGKILL the master and every worker: a crash, as far as the store can tell.
sub kill9 {
    my $self = shift;
    # The master first: killed after a worker, it could still log the
    # worker's death, which a crash would not.
    my @all = ($self->{pid}, $self->workers);
    kill 'KILL', @all;
    waitpid($self->{pid}, 0);
    delete $self->{pid};
    wait_gone(\@all, 10);
}

sub error_log {
    my $self = shift;
    open my $fh, '<', "$self->{prefix}/logs/error.log" or return '';
    local $/;
    return scalar <$fh>;
}

sub stderr_log {
    my $self = shift;
    open my $fh, '<', "$self->{prefix}/logs/stderr.log" or return '';
    local $/;
    return scalar <$fh>;
}

my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 30, max_redirect => 0);

# request(METHOD, URI, headers => {...}, body => '...', json => $perl,
# token => 1 (send the test token)) -> { status, headers, body, json }
sub request {
    my ($self, $method, $uri, %opt) = @_;
    my %h = %{ $opt{headers} // {} };
    $h{Authorization} = "Bearer $self->{token}" if $opt{token};
    my $body = $opt{body};
    if (exists $opt{json}) {
        $body = JSON::PP->new->canonical->encode($opt{json});
        $h{'Content-Type'} //= 'application/scim+json';
    }
    my $res = $http->request($method, "http://127.0.0.1:$self->{port}$uri",
        { headers => \%h, defined $body ? (content => $body) : () });
    my $out = { status => $res->{status}, headers => $res->{headers}, body => $res->{content} // '' };
    if (($res->{headers}{'content-type'} // '') =~ /json/) {
        $out->{json} = eval { JSON::PP->new->decode($out->{body}) };
    }
    return $out;
}

# Shorthand for SCIM calls with the directory token.
sub scim {
    my ($self, $method, $path, $json, %opt) = @_;
    return $self->request($method, "/scim/v2$path", token => 1,
        defined $json ? (json => $json) : (), %opt);
}

1;
