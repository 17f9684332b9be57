# Tests for SAML sessions and the replay record across the life of nginx:
# sessions survive "nginx -s reload" (zone kept) and a restart (zone gone,
# LMDB answers); replay is refused across both; idle and absolute timeouts;
# the IdP's SessionNotOnOrAfter; logout here and at the IdP; a full zone
# evicts and never fails a request; every worker sees a session at once;
# just-in-time users are real SCIM users; the store keeps no usable cookie.

use strict;
use warnings;
use Test::More;
use MIME::Base64 qw(decode_base64);
use POSIX ();
use Time::HiRes qw(sleep time);
use Test::Scim::Nginx;
use Test::Scim::Saml;

my $idp = Test::Scim::Saml->new;
my $UID = qr/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

sub nginx {
    my (%o) = @_;
    my $n = Test::Scim::Nginx->new(
        http_config => $idp->http_config(directory => $o{directory} // '', zone => $o{zone}),
        config      => $idp->locations,
        %{ $o{nginx} // {} },
    );
    return $n->start;
}

# No error in the log but those a test provoked on purpose.
sub no_errors {
    my ($n, $name, $expected) = @_;
    my @errors = grep { /\[(error|alert|crit|emerg)\]/ && !($expected && /$expected/) }
                 split /\n/, $n->error_log;
    ok(!@errors, "$name: no error in the log") or diag(join "\n", @errors);
}

# --- sessions survive reload and restart; replay is refused across both -----

{
    my $n = nginx(directory => 'idp_initiated on;');
    my $uid = $idp->ensure_user($n, 'alice@example.com');

    my $res = $idp->sign_in($n, return_to => '/app/');
    is($res->{status}, 303, 'sign in: 303') or diag($res->{body});
    my $cookie = $res->{session};
    like($idp->whoami($n, $cookie), qr/^user=$uid expires=\d+$/, 'the session names the user');

    my $unsolicited = $idp->form($idp->response);
    is($idp->acs($n, $unsolicited)->{status}, 303, 'an IdP-initiated response is accepted once');

    $n->reload;
    like($idp->whoami($n, $cookie), qr/^user=$uid /, 'the session survives nginx -s reload');
    my $again = $idp->acs($n, $unsolicited);
    is($again->{status}, 403, 'replay after a reload: refused');
    like($n->error_log, qr/assertion "_a\w+" was used before \(replay\)/,
         'the kept zone caught the replay');

    $n->stop;
    $n->start;
    like($idp->whoami($n, $cookie), qr/^user=$uid /,
         'the session survives a restart (the zone is new, LMDB answers)');
    $again = $idp->acs($n, $unsolicited);
    is($again->{status}, 403, 'replay after a restart: refused') or diag($again->{body});
    like($n->error_log, qr/ACS refused a response: the assertion was used before \(recorded in the store\)/,
         'LMDB caught the replay the new zone could not know');

    is($idp->whoami($n, 'scim_session=' . ('A' x 43)), 'user= expires=', 'an unknown session id is no session');
    is($idp->whoami($n, 'scim_session=garbage'), 'user= expires=', 'a malformed cookie is no session');

    # kill -9: the page cache still holds what was committed
    $n->kill9;
    $n->start;
    like($idp->whoami($n, $cookie), qr/^user=$uid /, 'the session survives SIGKILL of every nginx process');
    $n->stop;
    no_errors($n, 'reload and restart', qr/ACS refused a response: (assertion "_a\w+" was|the assertion was) used before/);
}

# --- every worker sees a new session at once --------------------------------

{
    my $n = nginx(nginx => { workers => 4, listen_options => 'reuseport' });
    $idp->ensure_user($n, 'alice@example.com');
    my $seen = 0;
    for my $i (1 .. 10) {
        my $res = $idp->sign_in($n);
        my $ok = 0;
        $ok += $idp->whoami($n, $res->{session}) =~ /^user=$UID / ? 1 : 0 for 1 .. 8;
        $seen++ if $ok == 8;
    }
    is($seen, 10, 'each of 10 sessions is valid on the next 8 requests, whatever worker answers');
    $n->stop;
    no_errors($n, 'workers');
}

# --- concurrent logins share group commits; a racing replay loses -----------

{
    my $n = nginx(directory => 'idp_initiated on;');
    my $uid = $idp->ensure_user($n, 'alice@example.com');
    my @bodies = map { $idp->form($idp->response) } 1 .. 24;
    my $twice = $idp->form($idp->response);
    push @bodies, $twice, $twice, $twice;
    my $dir = $idp->dir;
    my @kids;
    for my $i (0 .. $#bodies) {
        my $pid = fork // die;
        if (!$pid) {
            my $res = $idp->acs($n, $bodies[$i]);
            open my $fh, '>', "$dir/acs-$i" or die;
            print $fh "$res->{status} " . ($res->{session} // '-') . "\n";
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    waitpid($_, 0) for @kids;
    my @results = map { Test::Scim::Saml::slurp("$dir/acs-$_") =~ s/\s+$//r } 0 .. $#bodies;
    my $distinct = grep { /^303 scim_session=/ } @results[0 .. 23];
    is($distinct, 24, '24 concurrent logins: all signed in');
    my $alive = grep { $idp->whoami($n, (split ' ', $_)[1]) =~ /^user=$uid / } @results[0 .. 23];
    is($alive, 24, 'and every one of their sessions works');
    my @race = map { (split ' ', $_)[0] } @results[24 .. 26];
    is(join(' ', sort @race), '303 403 403', 'the same assertion posted three times at once: one login, two refusals')
        or diag("@race");
    $n->stop;
    no_errors($n, 'concurrent', qr/ACS refused a response: (assertion "_a\w+" was|the assertion was) used before/);
}

# --- idle and absolute timeouts, SessionNotOnOrAfter -------------------------

{
    my $n = nginx(directory => "session_idle 2s;\nsession_lifetime 1h;");
    my $uid = $idp->ensure_user($n, 'alice@example.com');
    my $a = $idp->sign_in($n)->{session};
    my $b = $idp->sign_in($n)->{session};
    for (1 .. 4) {
        sleep 0.8;
        like($idp->whoami($n, $a), qr/^user=$uid /, "session used every 0.8s is alive ($_)");
    }
    is($idp->whoami($n, $b), 'user= expires=', 'session unused for 3.2s (session_idle 2s) has ended');

    # After a restart the idle timeout counts from the last use LMDB knows.
    $n->stop;
    $n->start;
    sleep 2.2;
    is($idp->whoami($n, $a), 'user= expires=', 'idle timeout honoured after a restart');
    $n->stop;
    no_errors($n, 'idle');
}

{
    my $n = nginx(directory => "session_idle 1h;\nsession_lifetime 2s;");
    my $uid = $idp->ensure_user($n, 'alice@example.com');
    my $res = $idp->sign_in($n);
    my ($expires) = $idp->whoami($n, $res->{session}) =~ /expires=(\d+)/;
    cmp_ok(abs($expires - (time + 2)), '<=', 2, '$scim_session_expires is login + session_lifetime');
    sleep 1;
    like($idp->whoami($n, $res->{session}), qr/^user=$uid /, 'alive within session_lifetime');
    sleep 1.5;
    is($idp->whoami($n, $res->{session}), 'user= expires=', 'ended at session_lifetime despite use');
    $n->stop;
    no_errors($n, 'lifetime');
}

{
    my $n = nginx();
    $idp->ensure_user($n, 'alice@example.com');
    my $cap = int(time) + 600;
    my $res = $idp->sign_in($n, response => { session_not_on_or_after => Test::Scim::Saml::ts($cap) });
    like($idp->whoami($n, $res->{session}), qr/expires=$cap$/,
         "the IdP's SessionNotOnOrAfter caps the session (expires=$cap)");
    $n->stop;
    no_errors($n, 'SessionNotOnOrAfter');
}

# --- logout ------------------------------------------------------------------

{
    my $n = nginx();
    my $uid = $idp->ensure_user($n, 'alice@example.com');
    my $signin = $idp->sign_in($n);
    my $cookie = $signin->{session};
    my $index = $idp->last->{session_index};

    my $res = $n->request(GET => '/saml/logout?return_to=%2Fbye', headers => { Cookie => $cookie });
    is($res->{status}, 302, 'logout: 302');
    my $loc = $res->{headers}{location} // '';
    like($loc, qr{^https://idp\.example\.test/slo\?SAMLRequest=[^&]+&RelayState=%2Fbye$},
         'to the IdP SingleLogoutService, RelayState carrying the return path');
    like(Test::Scim::Saml::cookie_of($res, 'scim_session') // '', qr/^scim_session=$/, 'the cookie is cleared');
    like(join(' ', Test::Scim::Saml::set_cookies($res)), qr/Max-Age=0/, 'with Max-Age=0');
    my ($q) = $loc =~ /SAMLRequest=([^&]+)/;
    my $xml = Test::Scim::Saml::inflate_raw(decode_base64(Test::Scim::Saml::uri_unescape($q)));
    like($xml, qr{<saml:NameID Format="urn:oasis:names:tc:SAML:1\.1:nameid-format:emailAddress">alice\@example\.com</saml:NameID>},
         'the LogoutRequest names the NameID');
    like($xml, qr{<samlp:SessionIndex>\Q$index\E</samlp:SessionIndex>}, 'and the SessionIndex');
    like($xml, qr{Destination="https://idp\.example\.test/slo"}, 'and is addressed to the SLO URL');
    is($idp->whoami($n, $cookie), 'user= expires=', 'the old cookie opens nothing');
    $n->stop;
    $n->start;
    is($idp->whoami($n, $cookie), 'user= expires=', 'not even after a restart (deleted in LMDB)');

    $res = $n->request(GET => '/saml/logout?SAMLResponse=abc&RelayState=%2Fbye');
    is($res->{status}, 302, 'the LogoutResponse coming back: 302');
    like($res->{headers}{location} // '', qr{^http://127\.0\.0\.1:\d+/bye$}, 'to its RelayState');
    $res = $n->request(GET => '/saml/logout?SAMLResponse=abc&RelayState=https%3A%2F%2Fevil.test');
    like($res->{headers}{location} // '', qr{^http://127\.0\.0\.1:\d+/$}, 'never to another site');
    $res = $n->request(GET => '/saml/logout');
    is($res->{status}, 302, 'logout without a session: 302');
    like($res->{headers}{location} // '', qr{^http://127\.0\.0\.1:\d+/$}, 'to /');
    $n->stop;
    no_errors($n, 'logout');
}

{
    my $file = $idp->metadata(file => 'no-slo.xml', slo => undef);
    my $n = Test::Scim::Nginx->new(http_config => $idp->http_config(metadata => $file),
                                   config => $idp->locations)->start;
    $idp->ensure_user($n, 'alice@example.com');
    my $cookie = $idp->sign_in($n)->{session};
    my $res = $n->request(GET => '/saml/logout?return_to=%2Fbye', headers => { Cookie => $cookie });
    like($res->{headers}{location} // '', qr{^http://127\.0\.0\.1:\d+/bye$},
         'without an IdP SLO URL, logout ends the session here and goes to the return path');
    is($idp->whoami($n, $cookie), 'user= expires=', 'the session is gone');
    $n->stop;
    no_errors($n, 'logout without SLO');
}

# --- a full zone evicts and never fails a request ----------------------------

{
    my $n = nginx(zone => 'scim:32k');
    my $uid = $idp->ensure_user($n, 'alice@example.com');
    my $cookie = $idp->sign_in($n)->{session};
    my $failed = 0;
    for my $i (1 .. 400) {
        my $res = $idp->login($n, '/p/' . ('x' x 200) . "/$i");
        $failed++ unless $res->{status} == 302;
    }
    is($failed, 0, '400 logins into a 32k zone: none failed (older entries were evicted)');
    like($idp->whoami($n, $cookie), qr/^user=$uid /,
         'a session evicted from the zone is read back from LMDB');
    my $res = $idp->sign_in($n);
    is($res->{status}, 303, 'a login still completes after the evictions');
    $n->stop;
    no_errors($n, 'eviction');
}

# --- the SCIM API's response filters and the session share the request ctx --

{
    my $n = Test::Scim::Nginx->new(
        http_config => $idp->http_config,
        config => $idp->locations =~ s{location /scim/v2/ \{ scim_api test; \}}{location /scim/v2/ { scim_api test; client_max_body_size 1k; add_header X-User \$scim_user_id always; }}r,
    )->start;
    my $uid = $idp->ensure_user($n, 'alice@example.com');
    my $cookie = $idp->sign_in($n)->{session};
    my $res = $n->request(GET => '/scim/v2/Users', headers => { Cookie => $cookie, Authorization => 'Bearer nope' });
    is($res->{status}, 401, 'a SCIM request with a session cookie and a bad token: 401');
    is($res->{headers}{'x-user'}, $uid, '$scim_user_id in a SCIM location names the session user');
    $res = $n->request(POST => '/scim/v2/Users', headers => { Cookie => $cookie, 'Content-Type' => 'application/scim+json' },
                       body => 'x' x 4096);
    is($res->{status}, 413, 'nginx refuses a body over client_max_body_size');
    like($res->{body}, qr/"status":"413"/, 'and the SCIM filter still turns it into a SCIM error')
        or diag($res->{body});
    $n->stop;
    no_errors($n, 'shared ctx', qr/client intended to send too large body|bearer token is not valid/);
}

# --- just-in-time users are SCIM users; the store keeps no usable cookie ----

{
    my $n = Test::Scim::Nginx->new(
        http_config => $idp->http_config(directory => 'jit on;'),
        config => $idp->locations . "location = /generation { return 200 \$scim_generation; }\n",
    )->start;
    my $before = $n->request(GET => '/generation')->{body};
    my $res = $idp->sign_in($n, response => {
        name_id => 'frank@example.com',
        attributes => { givenName => ['Frank'], sn => ['Ocean'] } });
    is($res->{status}, 303, 'jit: the unknown user signs in') or diag($res->{body});
    my ($uid) = $idp->whoami($n, $res->{session}) =~ /user=(\S+)/;
    my $user = $n->scim(GET => "/Users/$uid");
    is($user->{status}, 200, 'the created user is a SCIM user');
    is($user->{json}{userName}, 'frank@example.com', 'userName is the login');
    is($user->{json}{emails}[0]{value}, 'frank@example.com', 'its primary e-mail too');
    is($user->{json}{name}{givenName}, 'Frank', 'givenName from the assertion');
    is($user->{json}{name}{familyName}, 'Ocean', 'familyName from the assertion');
    ok($user->{json}{active}, 'active');
    is($n->request(GET => '/generation')->{body}, $before + 1, 'the SCIM write counter moved');
    my $again = $idp->sign_in($n, response => { name_id => 'FRANK@example.com' });
    like($idp->whoami($n, $again->{session}), qr/^user=$uid /, 'the next login links to the same user');

    my $raw = decode_base64(($res->{session} =~ s/^scim_session=//r =~ tr/-_/+\//r) . '=');
    my $hex = unpack('H*', $raw);
    my $dump = `mdb_dump -s sessions ${\ $n->prefix}/store 2>&1`;
    is($?, 0, 'mdb_dump reads the sessions database') or diag($dump);
    like($dump, qr/^ 74657374/m, 'sessions are keyed by directory');
    unlike($dump, qr/$hex/, 'the store never holds a session id, only its hash');
    $n->stop;
    no_errors($n, 'jit');
}

# --- the identity variables need no scim_product ----------------------------

{
    # Without any scim_product the glue has no policy: reading $scim_user
    # with a valid session crashed the worker (signal 11) before the core
    # accepted a missing policy.
    my $n = nginx(nginx => { config => $idp->locations
        . qq{location = /me { return 200 "user=\$scim_user groups=\$scim_groups products=\$scim_products"; }\n} });
    my $uid = $idp->ensure_user($n, 'grace@example.com');
    my $res = $idp->sign_in($n, response => { name_id => 'grace@example.com' });
    is($res->{status}, 303, 'no scim_product: sign in') or diag($res->{body});
    my $me = $n->request(GET => '/me', headers => { Cookie => $res->{session} });
    is($me->{status}, 200, 'no scim_product: $scim_user with a session answers 200');
    is($me->{body}, 'user=grace@example.com groups= products=', 'the identity, no group, no product');
    $n->stop;
    unlike($n->error_log, qr/exited on signal/, 'no scim_product: no worker crashed');
    no_errors($n, 'no scim_product');
}

done_testing();
