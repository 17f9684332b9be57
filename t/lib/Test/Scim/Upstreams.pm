package Test::Scim::Upstreams;

# Upstreams that answer with what they received, as JSON, for the gateway
# tests: FastCGI (the CGI parameters, as PHP would see them) and uwsgi
# (its variables). HTTP is tools/echo-upstream; gRPC is a second nginx
# server block speaking HTTP/2. Each listens on 127.0.0.1, runs in a
# forked process and is stopped by its PID when the test ends.

use strict;
use warnings;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Test::Scim::Nginx;

my @pids;

END {
    local $?;
    for my $pid (@pids) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
}

sub listen_socket {
    my $port = Test::Scim::Nginx::free_port();
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 64,
                                  ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
    return ($s, $port);
}

sub serve {
    my ($server, $handle) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid) {
        close $server;
        push @pids, $pid;
        return;
    }
    $SIG{TERM} = sub { POSIX::_exit(0) };
    while (my $c = $server->accept) {
        eval { $handle->($c) };
        close $c;
    }
    POSIX::_exit(0);
}

sub read_exactly {
    my ($c, $n) = @_;
    my $buf = '';
    while (length $buf < $n) {
        my $got = sysread($c, $buf, $n - length $buf, length $buf);
        die "short read" unless $got;
    }
    return $buf;
}

sub json_response { JSON::PP->new->canonical->encode($_[0]) }

# FastCGI: answers every request with {"params": {...}} (multiple
# occurrences of a parameter are joined with "\n").
sub fastcgi {
    my ($server, $port) = listen_socket();
    serve($server, sub {
        my $c = shift;
        my ($id, %params, $params_done, $stdin_done);
        while (!($params_done && $stdin_done)) {
            my ($ver, $type, $rid, $clen, $plen) = unpack('CCnnC', read_exactly($c, 8));
            my $content = $clen ? read_exactly($c, $clen) : '';
            read_exactly($c, $plen) if $plen;
            $id = $rid;
            if ($type == 4) {    # FCGI_PARAMS
                if (!$clen) { $params_done = 1; next }
                my $pos = 0;
                while ($pos < length $content) {
                    my @len;
                    for (1 .. 2) {
                        my $b = ord substr($content, $pos, 1);
                        if ($b >> 7) { push @len, unpack('N', substr($content, $pos, 4)) & 0x7fffffff; $pos += 4 }
                        else { push @len, $b; $pos++ }
                    }
                    my $k = substr($content, $pos, $len[0]);
                    my $v = substr($content, $pos + $len[0], $len[1]);
                    $pos += $len[0] + $len[1];
                    $params{$k} = exists $params{$k} ? "$params{$k}\n$v" : $v;
                }
            } elsif ($type == 5) {    # FCGI_STDIN
                $stdin_done = 1 unless $clen;
            }
        }
        my $body = json_response({ params => \%params });
        my $out = "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n$body";
        print $c pack('CCnnCC', 1, 6, $id, length $out, 0, 0), $out;     # FCGI_STDOUT
        print $c pack('CCnnCC', 1, 6, $id, 0, 0, 0);
        print $c pack('CCnnCC', 1, 3, $id, 8, 0, 0), pack('NCCCC', 0, 0, 0, 0, 0);  # END_REQUEST
    });
    return $port;
}

# uwsgi: answers with {"vars": {...}}.
sub uwsgi {
    my ($server, $port) = listen_socket();
    serve($server, sub {
        my $c = shift;
        my ($m1, $size, $m2) = unpack('Cv C', read_exactly($c, 4));
        my $data = read_exactly($c, $size);
        my (%vars, $pos);
        $pos = 0;
        while ($pos < length $data) {
            my $kl = unpack('v', substr($data, $pos, 2)); $pos += 2;
            my $k = substr($data, $pos, $kl); $pos += $kl;
            my $vl = unpack('v', substr($data, $pos, 2)); $pos += 2;
            my $v = substr($data, $pos, $vl); $pos += $vl;
            $vars{$k} = exists $vars{$k} ? "$vars{$k}\n$v" : $v;
        }
        my $body = json_response({ vars => \%vars });
        print $c "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 . length($body) . "\r\n\r\n$body";
    });
    return $port;
}

# HTTP: tools/echo-upstream, which answers {"method","uri","headers"}.
sub http {
    my $port = Test::Scim::Nginx::free_port();
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDERR, '>', '/dev/null';
        { exec Test::Scim::Nginx::repo_root() . '/tools/echo-upstream', $port }
        POSIX::_exit(127);
    }
    push @pids, $pid;
    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
        select(undef, undef, undef, 0.02);
    }
    return $port;
}

1;
