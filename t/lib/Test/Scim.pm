package Test::Scim;

# Tests for ngx_scim_module against the real nginx binary.
#
# Two ways to write a test:
#
#   * data-driven blocks in Test::Nginx's vocabulary, read by Test::Base:
#       === TEST 1: name
#       --- main_config / --- http_config / --- config
#       --- request            GET /scim/v2/Users
#       --- more_headers       Authorization: Bearer $TEST_NGINX_TOKEN
#       --- request_body
#       --- error_code         201
#       --- response_headers   Content-Type: application/scim+json
#       --- response_headers_like
#       --- response_body / --- response_body_like
#       --- response_json      { status => "401" }   (a subset, Perl syntax)
#       --- error_log / --- no_error_log   (one substring per line; [error] etc.)
#       --- error_log_like     (one regex per line)
#       --- must_die           (nginx -t must fail; error_log checks its output)
#       --- error_line         (with must_die: the file:line of the [emerg]
#                               is a line that contains this text)
#     run with run_blocks();
#
#   * procedural tests through Test::Scim::Nginx (start, request, reload,
#     stop, kill9, test_config) for multi-step scenarios.
#
# Every nginx runs from a fresh temporary prefix, listens on a free port of
# 127.0.0.1, and is stopped by its PID when the test ends.
#
# Section values may use $TEST_NGINX_PORT, $TEST_NGINX_PREFIX,
# $TEST_NGINX_TOKEN and $TEST_NGINX_TOKEN_FILE (directory "test").

use Test::Base -Base;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use JSON::PP ();
use Test::Scim::Nginx;

our @EXPORT = qw(run_blocks run_saml_blocks json_subset default_http_config
                 default_config repo_root);

sub json_subset ($$;$);

my $root = abs_path(dirname(__FILE__) . '/../../..');

sub repo_root () { $root }

sub default_http_config () { Test::Scim::Nginx::default_http_config() }

sub default_config () { Test::Scim::Nginx::default_config() }

# Deep "is $want contained in $got"; returns undef on success or the path
# and the difference.
sub json_subset ($$;$) {
    my ($got, $want, $path) = @_;
    $path //= '';
    if (ref $want eq 'HASH') {
        return "$path: expected an object, got " . JSON::PP->new->canonical->allow_nonref->encode($got)
            unless ref $got eq 'HASH';
        for my $k (sort keys %$want) {
            if (!exists $got->{$k}) {
                return "$path.$k: missing";
            }
            my $r = json_subset($got->{$k}, $want->{$k}, "$path.$k");
            return $r if defined $r;
        }
        return undef;
    }
    if (ref $want eq 'ARRAY') {
        return "$path: expected an array, got " . JSON::PP->new->canonical->allow_nonref->encode($got)
            unless ref $got eq 'ARRAY';
        return "$path: expected " . scalar(@$want) . " elements, got " . scalar(@$got)
            unless @$want == @$got;
        for my $i (0 .. $#$want) {
            my $r = json_subset($got->[$i], $want->[$i], "$path\[$i\]");
            return $r if defined $r;
        }
        return undef;
    }
    if (ref $want eq 'Regexp') {
        return defined $got && !ref $got && $got =~ $want ? undef
            : "$path: expected to match $want, got " . (defined $got ? JSON::PP->new->allow_nonref->encode($got) : 'null');
    }
    if (JSON::PP::is_bool($got)) {
        return (!!$got == !!$want) ? undef : "$path: expected " . ($want ? 'true' : 'false') . ", got " . ($got ? 'true' : 'false');
    }
    return "$path: expected null, got " . JSON::PP->new->allow_nonref->encode($got) if !defined $want && defined $got;
    return undef if !defined $want && !defined $got;
    return "$path: expected \"$want\", got null" unless defined $got;
    return "$path: expected \"$want\", got " . JSON::PP->new->allow_nonref->encode($got) if ref $got;
    return $got eq $want ? undef : "$path: expected \"$want\", got \"$got\"";
}

sub check_log ($$$$) {
    my ($name, $log, $patterns, $want) = @_;
    for my $p (grep { length } map { s/^\s+|\s+$//gr } split /\n/, $patterns) {
        my $found = index($log, $p) >= 0;
        if ($want) {
            ok($found, "$name - error log contains \"$p\"")
                or diag("error log was:\n$log");
        } else {
            ok(!$found, "$name - error log has no \"$p\"")
                or diag("error log was:\n$log");
        }
    }
}

sub check_log_like ($$$) {
    my ($name, $log, $patterns) = @_;
    for my $p (grep { length } map { s/^\s+|\s+$//gr } split /\n/, $patterns) {
        like($log, qr/$p/, "$name - error log matches /$p/");
    }
}

# The [emerg] of nginx -t ends "in FILE:LINE": that line of FILE must hold
# the text (the directive at fault, not its enclosing block).
sub check_error_line ($$$) {
    my ($name, $out, $want) = @_;
    $want =~ s/^\s+|\s+$//g;
    my ($file, $line) = $out =~ /\[emerg\].* in (\S+):(\d+)$/m;
    if (!defined $file) {
        fail("$name - nginx -t names a file:line");
        diag("nginx -t said:\n$out");
        return;
    }
    open my $fh, '<', $file or return fail("$name - $file: $!");
    my @lines = <$fh>;
    my $got = $lines[$line - 1] // '';
    chomp $got;
    ok(index($got, $want) >= 0, "$name - nginx -t points at the line with \"$want\"")
        or diag("expected $file:$line to hold \"$want\", it reads \"$got\"\nnginx -t said:\n$out");
}

sub run_blocks () {
    for my $block (blocks()) {
        run_block($block);
    }
}

# SAML ACS blocks: each signs a fresh response with the xmlsec1 CLI and
# posts it (sections in Test::Scim::Saml::run_block).
sub run_saml_blocks ($) {
    my $idp = shift;
    # The number of checks depends on the sections; Test::Base wants a plan.
    Test::More::plan('no_plan');
    for my $block (blocks()) {
        eval { $idp->run_block($block); 1 }
            or Test::More::fail($block->name . " - ran to its end") && Test::More::diag($@);
    }
}

sub run_block ($) {
    my $block = shift;
    my $name = $block->name;
    my $n = Test::Scim::Nginx->new(
        main_config => $block->main_config // '',
        http_config => $block->http_config // default_http_config(),
        config      => $block->config // default_config(),
    );

    if (defined $block->must_die) {
        my ($rc, $out) = $n->test_config;
        isnt($rc, 0, "$name - nginx -t fails") or diag("nginx -t said:\n$out");
        check_log($name, $out, $n->expand($block->error_log), 1) if defined $block->error_log;
        check_log_like($name, $out, $block->error_log_like) if defined $block->error_log_like;
        check_error_line($name, $out, $block->error_line) if defined $block->error_line;
        return;
    }

    $n->start;
    my ($method, $uri) = split ' ', $n->expand($block->request // 'GET /') =~ s/^\s+|\s+$//gr, 2;
    my %headers;
    for my $line (split /\n/, $n->expand($block->more_headers // '')) {
        next unless $line =~ /\S/;
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*?)\s*$/ or die "bad header line: $line";
        $headers{$k} = $v;
    }
    my $body = $block->request_body;
    if (defined $body) {
        $body = $n->expand($body);
        $body =~ s/\n\z//;
    }
    my $res = $n->request($method, $uri, headers => \%headers, body => $body);

    if (defined $block->error_code) {
        my $want = $block->error_code =~ s/\s+//gr;
        is($res->{status}, $want, "$name - status $want")
            or diag("response body: $res->{body}");
    }
    if (defined $block->response_headers) {
        for my $line (split /\n/, $n->expand($block->response_headers)) {
            next unless $line =~ /\S/;
            my ($k, $v) = $line =~ /^([^:]+):\s*(.*?)\s*$/;
            if ($k =~ s/^!//) {
                ok(!defined $res->{headers}{lc $k}, "$name - no $k header")
                    or diag("$k: $res->{headers}{lc $k}");
            } else {
                is($res->{headers}{lc $k}, $v, "$name - header $k");
            }
        }
    }
    if (defined $block->response_headers_like) {
        for my $line (split /\n/, $n->expand($block->response_headers_like)) {
            next unless $line =~ /\S/;
            my ($k, $v) = $line =~ /^([^:]+):\s*(.*?)\s*$/;
            like($res->{headers}{lc $k} // '', qr/$v/, "$name - header $k like $v");
        }
    }
    if (defined $block->response_body) {
        is($res->{body}, $n->expand($block->response_body), "$name - body");
    }
    if (defined $block->response_body_like) {
        my $re = $n->expand($block->response_body_like) =~ s/\n\z//r;
        like($res->{body}, qr/$re/s, "$name - body like");
    }
    if (defined $block->response_json) {
        my $want = eval $block->response_json;
        die "$name: bad response_json: $@" if $@;
        my $got = eval { JSON::PP->new->decode($res->{body}) };
        if (!defined $got) {
            fail("$name - body is JSON") ; diag("body: $res->{body}");
        } else {
            my $diff = json_subset($got, $want);
            ok(!defined $diff, "$name - JSON body") or diag("$diff\nbody: $res->{body}");
        }
    }
    $n->stop;
    my $log = $n->error_log;
    check_log($name, $log, $n->expand($block->error_log), 1) if defined $block->error_log;
    check_log($name, $log, $block->no_error_log, 0) if defined $block->no_error_log;
    check_log_like($name, $log, $block->error_log_like) if defined $block->error_log_like;
}


1;
