# End-to-end test with real parts: a real SAML IdP and a real browser sign
# a SCIM-provisioned user in through the module, onto a protected upstream;
# then SCIM deactivates the user and the next login is refused.
#
# The IdP is SimpleSAMLphp 1.19 from Debian (package simplesamlphp) on our
# own php-fpm (php8.2-fpm), served by a second server block of the very
# nginx under test (fastcgi_pass). Chosen over pysaml2's example IdP
# because it is an IdP people deploy: a login form, a session of its own,
# the HTTP-Redirect binding in and an auto-submitting HTTP-POST form out,
# metadata exchanged both ways (nginx reads the IdP metadata SimpleSAMLphp
# serves; SimpleSAMLphp reads the SP metadata nginx serves), and SP-initiated
# single logout. It runs from a configuration directory generated here
# (SIMPLESAMLPHP_CONFIG_DIR in the php-fpm pool); the package's own
# /etc/simplesamlphp is never read.
#
# The browser is Debian's headless Chromium, driven over the W3C WebDriver
# protocol through Debian's chromedriver (Test::Scim::Browser).
#
# Two sites, on TLS, as in production (an IdP at okta.com, the apps at
# example.com): the browser reaches the app at https://app.e2e-sp.test and
# the IdP at https://idp.e2e-idp.test, names that Chromium itself maps to
# 127.0.0.1 (--host-resolver-rules; no DNS, no /etc/hosts), with
# certificates made here and pinned by their key (--ignore-certificate-
# errors-spki-list). So the IdP's POST to the ACS is cross-site, and the
# login needs what only a real browser enforces: the login cookie
# (SameSite=None; Secure) coming back on that POST, the session cookie
# (SameSite=Lax) on the redirect after it. The test harness itself talks
# plain HTTP to other listeners of the same server blocks (SCIM, metadata).
#
# Nothing is skipped: where the IdP or the browser cannot start, the test
# fails and says why (tools/install-deps test installs both).
#
# The product-access gateway (issue 5: scim_product, scim_require, identity
# headers, revocation on the next request) is checked by the subtest
# "gateway"; /app/ is behind "scim_require any".

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::Scim::Browser;
use Test::Scim::Nginx;
use Test::Scim::SimpleSAMLphp;

# Interrupted, the END blocks still stop what was started.
$SIG{INT} = $SIG{TERM} = sub { die "interrupted by SIG$_[0]\n" };

my $GATEWAY = 1;
my $SP_HOST = 'app.e2e-sp.test';
my $IDP_HOST = 'idp.e2e-idp.test';
my $sp_port = Test::Scim::Nginx::free_port();
my $sp = "https://$SP_HOST:$sp_port";
my ($idp, $n, $b);    # the IdP, nginx, the browser
my $started = time;
my $json = JSON::PP->new->canonical;

# Every step depends on the one before: the first that dies fails the test
# with its message, and the rest is not attempted.
sub step {
    my ($name, $code) = @_;
    my $ok = eval { $code->(); 1 };
    return 1 if $ok;
    fail($name);
    diag($@);
    done_testing();
    exit 1;
}

# --- the echo upstream: answers with the request it received, as JSON ------

my ($echo_pid, $echo_port);

END {
    local $?;
    if ($echo_pid) {
        kill 'TERM', $echo_pid;
        waitpid($echo_pid, 0);
    }
}

sub start_echo {
    $echo_port = Test::Scim::Nginx::free_port();
    my $script = Test::Scim::Nginx::repo_root() . '/tools/echo-upstream';
    $echo_pid = fork // die "fork: $!";
    if ($echo_pid == 0) {
        open STDERR, '>', '/dev/null';
        exec $^X, $script, $echo_port;
        exit 127;
    }
    my $deadline = time + 10;
    while (time < $deadline) {
        return if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $echo_port, Proto => 'tcp');
        die "tools/echo-upstream exited at once" if waitpid($echo_pid, WNOHANG) == $echo_pid;
        sleep 0.05;
    }
    die "tools/echo-upstream is not listening on 127.0.0.1:$echo_port";
}

# --- configuration -----------------------------------------------------------

# The SP: directory "test" with the IdP metadata SimpleSAMLphp served.
sub sp_http_config {
    return <<"EOF" . ($GATEWAY ? gateway_http_config() : '');
scim_store \$TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file \$TEST_NGINX_TOKEN_FILE;
    idp_metadata \$TEST_NGINX_PREFIX/conf/idp-metadata.xml;
    sp_entity_id $sp/saml;
    sp_acs_url $sp/saml/acs;
    sp_slo_url $sp/saml/logout;
}
EOF
}

# The app's site on TLS: the same locations as the harness's plain server.
sub sp_tls_server {
    my ($prefix) = @_;
    return <<"EOF" . sp_locations() . "}\n";
server {
    listen 127.0.0.1:$sp_port ssl;
    server_name $SP_HOST;
    ssl_certificate $prefix/conf/sp-tls.crt;
    ssl_certificate_key $prefix/conf/sp-tls.key;
EOF
}

sub sp_locations {
    return <<"EOF" . protected_location_config('/app/') . ($GATEWAY ? gateway_locations() : '');
location /scim/v2/ { scim_api test; }
location = /saml/acs { scim_saml_acs test; }
location = /saml/login { scim_saml_login test; }
location = /saml/metadata { scim_saml_metadata test; }
location = /saml/logout { scim_saml_logout test; }
location = /bye { default_type text/plain; return 200 "signed out"; }
location = /favicon.ico { access_log off; return 204; }
EOF
}

# A location that only a session of an active user opens; the identity
# headers (X-Remote-User-Id among them) reach the echo upstream.
sub protected_location_config {
    my ($path) = @_;
    return <<"EOF";
location $path {
    scim_require any;
    proxy_pass http://127.0.0.1:$echo_port;
}
EOF
}

# Two products, each granted by one SCIM group.
sub gateway_http_config {
    return <<'EOF';
scim_product wiki groups=wiki-users;
scim_product jira groups=jira-users;
EOF
}

# /wiki/ and /jira/ behind scim_require; the identity
# headers reach the echo upstream by themselves, the variables through
# X-Scim-Vars.
sub gateway_locations {
    return <<"EOF";
location /wiki/ {
    scim_require product=wiki;
    proxy_set_header X-Scim-Vars "user=\$scim_user;email=\$scim_email;groups=\$scim_groups;products=\$scim_products";
    proxy_pass http://127.0.0.1:$echo_port;
}
location /jira/ {
    scim_require product=jira;
    proxy_pass http://127.0.0.1:$echo_port;
}
EOF
}

# --- SCIM ----------------------------------------------------------------------

sub scim_ok {
    my ($n, $method, $path, $body, $want) = @_;
    my $res = $n->scim($method, $path, $body);
    die "SCIM $method $path answered $res->{status}: $res->{body}\n"
        unless grep { $res->{status} == $_ } split /\|/, $want // 200;
    return $res->{json};
}

sub provision_user {
    my ($n, %u) = @_;
    return scim_ok($n, POST => '/Users', {
        schemas     => ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName    => $u{email},
        externalId  => "ext-$u{given}",
        name        => { givenName => $u{given}, familyName => $u{family},
                         formatted => "$u{given} $u{family}" },
        displayName => "$u{given} $u{family}",
        emails      => [{ value => $u{email}, type => 'work', primary => JSON::PP::true }],
        active      => JSON::PP::true,
    }, 201)->{id};
}

sub provision_group {
    my ($n, $name, @members) = @_;
    return scim_ok($n, POST => '/Groups', {
        schemas     => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName => $name,
        members     => [map { { value => $_ } } @members],
    }, 201)->{id};
}

sub add_member {
    my ($n, $gid, $uid) = @_;
    scim_ok($n, PATCH => "/Groups/$gid", {
        schemas    => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations => [{ op => 'add', path => 'members', value => [{ value => $uid }] }],
    }, '200|204');
}

# Okta's deactivation: a PATCH without path.
sub deactivate {
    my ($n, $uid) = @_;
    my $u = scim_ok($n, PATCH => "/Users/$uid", {
        schemas    => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations => [{ op => 'replace', value => { active => JSON::PP::false } }],
    });
    die "user $uid is still active after the PATCH\n" if $u->{active};
}

# --- the browser's side of a login ---------------------------------------------

# Chromium with both sites mapped to 127.0.0.1 and their two certificates
# (and only those) trusted.
sub browser {
    my $sp_spki = Test::Scim::SimpleSAMLphp::spki($n->prefix . '/conf/sp-tls.crt');
    return Test::Scim::Browser->new(args => [
        "--host-resolver-rules=MAP $SP_HOST 127.0.0.1, MAP $IDP_HOST 127.0.0.1",
        '--ignore-certificate-errors-spki-list=' . join(',', $sp_spki, $idp->tls_spki),
    ]);
}

# On the IdP's login form: type the credentials and submit. The IdP then
# posts the signed response back to our ACS with its auto-submitting form.
sub fill_login_form {
    my ($b, $user, $password) = @_;
    $b->find('input#username')->clear->type($user);
    $b->find('input#password')->type($password);
    $b->find('#submit_button')->click;
}

# TEST_E2E_SCREENSHOTS=DIR keeps a PNG of the pages a person would see.
sub shot {
    my ($b, $name) = @_;
    my $dir = $ENV{TEST_E2E_SCREENSHOTS} or return;
    mkdir $dir;
    $b->screenshot("$dir/$name.png");
}

sub access_log { Test::Scim::SimpleSAMLphp::slurp($n->prefix . '/logs/access.log') }

sub page_json {
    my ($b) = @_;
    my $text = $b->text('body');
    my $doc = eval { $json->decode($text) };
    die "the page is not the echo upstream's JSON: " . substr($text, 0, 500) . "\n" unless $doc;
    return $doc;
}

# --- start everything ------------------------------------------------------------

my $password = 'Alice-e2e-' . int(rand(1e9));
my $carol_password = 'Carol-e2e-' . int(rand(1e9));
my $gateway_ok;

step('the echo upstream starts', \&start_echo);

step('the IdP starts (SimpleSAMLphp on php-fpm)', sub {
    $idp = Test::Scim::SimpleSAMLphp->new(host => $IDP_HOST, tls => 1, users => {
        alice => { password => $password, mail => 'alice@example.com',
                   givenName => 'Alice', sn => 'Liddell' },
        carol => { password => $carol_password, mail => 'carol@example.com',
                   givenName => 'Carol', sn => 'Example' },
    });
    $idp->start;
    pass('php-fpm runs SimpleSAMLphp');
});

step('nginx serves the IdP, and the SP with the IdP metadata', sub {
    # First the IdP alone: its metadata is what the SP is configured with.
    $n = Test::Scim::Nginx->new(servers => $idp->server_config);
    Test::Scim::SimpleSAMLphp::tls_certificate($n->prefix . '/conf/sp-tls', $SP_HOST);
    $n->start;
    my $md = $idp->fetch_metadata($n->prefix . '/conf/idp-metadata.xml');
    like($md, qr/entityID="\Q${\ $idp->entity_id }\E"/, 'the IdP serves its metadata through nginx');

    if ($GATEWAY) {
        # Without the gateway this configuration is refused; say so and go
        # on with the rest.
        $n->set_config(http_config => sp_http_config(), config => sp_locations(),
                       servers => $idp->server_config . sp_tls_server($n->prefix));
        my ($rc, $out) = $n->test_config;
        $gateway_ok = is($rc, 0, 'nginx -t accepts scim_product and scim_require')
            or diag("the product-access gateway is missing (scim_product/scim_require): nginx -t said:\n$out");
        $GATEWAY = 0 unless $gateway_ok;
    }
    $n->set_config(http_config => sp_http_config(), config => sp_locations(),
                   servers => $idp->server_config . sp_tls_server($n->prefix));
    $n->reload;

    my $res = $n->request(GET => '/saml/metadata');
    is($res->{status}, 200, 'nginx serves the SP metadata') or die "GET /saml/metadata: $res->{status}\n";
    $idp->trust_sp($res->{body});
});

step('the browser starts (headless Chromium through chromedriver)', sub {
    $b = browser();
    pass('Chromium ' . $b->version . ' opened a WebDriver session');
});

my $idp_login = qr{^\Q${\ $idp->base_url }\Emodule\.php/core/loginuserpass\.php\?AuthState=};
my ($alice, $wiki_users, $jira_users);

step('SCIM provisions the user and the groups', sub {
    $alice = provision_user($n, email => 'alice@example.com', given => 'Alice', family => 'Liddell');
    $wiki_users = provision_group($n, 'wiki-users');
    $jira_users = provision_group($n, 'jira-users');
    add_member($n, $wiki_users, $alice);
    my $u = scim_ok($n, GET => "/Users/$alice");
    is(join(',', map { $_->{display} // $_->{value} } @{ $u->{groups} // [] }), 'wiki-users',
       'alice is provisioned, in wiki-users');
});

# --- the login ---------------------------------------------------------------------

step('a protected page sends the browser to the IdP', sub {
    $b->get("$sp/app/page?tab=1");
    my $url = $b->wait_for_url($idp_login);
    like($url, $idp_login, 'the protected page led, through /saml/login, to the IdP login form');
    like($b->text('body'), qr/username and password/i, 'the IdP asks for a username and password');
    shot($b, '1-idp-login');
});

step('the user signs in at the IdP and lands on the protected page', sub {
    fill_login_form($b, 'alice', $password);
    my $url = $b->wait_for_url(qr{^\Q$sp\E/app/});
    is($url, "$sp/app/page?tab=1", 'the browser is back on the page it asked for');
    shot($b, '2-protected-page');
    my $page = page_json($b);
    is($page->{uri}, '/app/page?tab=1', 'the upstream served it');
    is($page->{headers}{'x-remote-user-id'}, $alice, 'to the SCIM user alice (X-Remote-User-Id)');
    is($page->{headers}{'sec-fetch-site'}, 'cross-site',
       'the browser came from the other site (the IdP posted cross-site; the ACS checked the login cookie)');
    my $c = $b->cookies->{scim_session} // {};
    ok($c->{value}, 'the browser holds the session cookie');
    ok($c->{httpOnly} && $c->{secure}, 'HttpOnly and Secure (TLS)');
    is($c->{sameSite}, 'Lax', 'SameSite=Lax');
    like(access_log(), qr{"POST /saml/acs HTTP/1\.1" 303 }, 'the ACS took the POST (303)');
    like($n->error_log,
         qr/user \Q$alice\E signed in \("alice\@example\.com" from IdP "\Q${\ $idp->entity_id }\E"\)/,
         'nginx logged the login with the NameID SimpleSAMLphp sent');
    like(Test::Scim::SimpleSAMLphp::slurp($idp->dir . '/log/simplesamlphp.log'),
         qr/alice/, 'SimpleSAMLphp logged it too');
});

step('the session opens the next page without the IdP', sub {
    $b->get("$sp/app/other");
    is($b->url, "$sp/app/other", 'no trip to the IdP');
    is(page_json($b)->{headers}{'x-remote-user-id'}, $alice, 'same user');
});

# --- single logout through the IdP ---------------------------------------------------

step('logout ends the session here and at the IdP', sub {
    $b->get("$sp/saml/logout?return_to=%2Fbye");
    my $url = $b->wait_for_url(qr{^\Q$sp\E/bye$});
    is($b->text('body'), 'signed out', 'the LogoutResponse of the IdP brought the browser to the return path');
    ok(!$b->cookies->{scim_session}, 'the session cookie is gone');
    $b->get("$sp/app/page");
    like($b->wait_for_url(qr{^\Q$sp\E/app/|$idp_login}), $idp_login,
         'the protected page needs a login again, and the IdP asks for the password again');
});

# --- deactivation -----------------------------------------------------------------------

step('after SCIM deactivates the user, the next login is refused', sub {
    deactivate($n, $alice);
    fill_login_form($b, 'alice', $password);
    my $url = $b->wait_for_url(qr{^\Q$sp\E/(saml/acs|app/)});
    is($url, "$sp/saml/acs", 'the browser stays on the ACS');
    shot($b, '3-deactivated');
    unlike($b->text('body'), qr/"headers"/, 'the upstream is not reached');
    like($b->text('body'), qr/deactivated|not active|inactive/i, 'the page says the account is deactivated')
        or diag($b->text('body'));
    # A page load (Accept: text/html) is sent to the login; a script's
    # fetch() without a session is answered 401.
    is($b->fetch("$sp/app/page", { Accept => 'text/html' })->{type}, 'opaqueredirect',
       'a page load is sent to the login again');
    is($b->fetch("$sp/app/page")->{status}, 401, 'a script without a session gets 401');
    like(access_log(), qr{"POST /saml/acs HTTP/1\.1" 403 }, 'the ACS refused the POST (403)');
    like($n->error_log, qr/login refused: IdP "[^"]+", NameID "alice\@example\.com": user \Q$alice\E .* is deactivated/,
         'nginx logged who and why');
});

# --- the gateway ------------------------------------------------------------------------------
#
# Expects (issue 5): scim_product NAME groups=a,b at http level;
# scim_require product=NAME in a location; no session -> 302 to the login
# with return_to; the upstream receives X-Remote-User (userName),
# X-Remote-Email, X-Remote-Name, X-Remote-User-Id, X-Remote-Groups,
# X-Remote-Products, never a client's copy of them; $scim_user,
# $scim_email, $scim_groups, $scim_products; a user without the product,
# and a deactivated user on the very next request, get 403.

subtest 'gateway: products, identity headers, instant revocation' => sub {
    ok($gateway_ok, 'the product-access gateway is built in (nginx -t accepts scim_require)')
        or return;
    eval { gateway_checks(); 1 } or fail('the gateway checks ran to their end') || diag($@);
};

sub gateway_checks {
    my $carol = provision_user($n, email => 'carol@example.com', given => 'Carol', family => 'Example');
    add_member($n, $wiki_users, $carol);

    my $res = $n->request(GET => '/wiki/page', headers => { Accept => 'text/html' });
    is($res->{status}, 302, 'no session: 302');
    like($res->{headers}{location} // '', qr{/saml/login\?return_to=(%2F|/)wiki(%2F|/)page$},
         'to the login, with the page as return_to');

    # A browser of its own: alice's IdP session stays in the other one.
    my $c = browser();
    $c->get("$sp/wiki/page");
    $c->wait_for_url($idp_login);
    fill_login_form($c, 'carol', $carol_password);
    is($c->wait_for_url(qr{^\Q$sp\E/wiki/}), "$sp/wiki/page", 'carol signs in and lands on /wiki/page');
    my $h = page_json($c)->{headers};
    is($h->{'x-remote-user'}, 'carol@example.com', 'X-Remote-User is the userName');
    is($h->{'x-remote-email'}, 'carol@example.com', 'X-Remote-Email');
    is($h->{'x-remote-name'}, 'Carol Example', 'X-Remote-Name');
    is($h->{'x-remote-user-id'}, $carol, 'X-Remote-User-Id');
    is_deeply([grep { length } split /\s*,\s*/, $h->{'x-remote-groups'} // ''], ['wiki-users'],
              'X-Remote-Groups: wiki-users');
    is($h->{'x-remote-products'}, 'wiki', 'X-Remote-Products: wiki (not jira)');
    my %vars = map { split /=/, $_, 2 } split /;/, $h->{'x-scim-vars'} // '';
    is($vars{user}, 'carol@example.com', '$scim_user');
    is($vars{email}, 'carol@example.com', '$scim_email');
    like($vars{groups} // '', qr/\bwiki-users\b/, '$scim_groups');
    is($vars{products}, 'wiki', '$scim_products');

    my $spoof = $c->fetch("$sp/wiki/spoof", { 'X-Remote-User' => 'admin@example.com',
                                              'X-Remote-Products' => 'jira,wiki',
                                              'X-Remote-Groups' => 'jira-users' });
    is($spoof->{status}, 200, 'a request carrying identity headers of its own: 200');
    my $sh = eval { $json->decode($spoof->{body})->{headers} } // {};
    is($sh->{'x-remote-user'}, 'carol@example.com', 'the client cannot name another user');
    is($sh->{'x-remote-products'}, 'wiki', 'nor grant itself a product');
    is($sh->{'x-remote-groups'}, 'wiki-users', 'nor a group');

    my $jira = $c->fetch("$sp/jira/");
    is($jira->{status}, 403, 'a product carol has not: 403');
    unlike($jira->{body}, qr/"headers"/, 'the upstream is not reached');

    deactivate($n, $carol);
    $c->get("$sp/wiki/page");
    unlike($c->text('body'), qr/"headers"/, 'deactivated: the next page load does not reach the upstream');
    is($c->fetch("$sp/wiki/page")->{status}, 403, 'deactivated: 403 on the very next request');
    $c->quit;
}

# --- the end ---------------------------------------------------------------------

$b->quit;
$n->stop;
$idp->stop;
# Expected: alice's refused login; carol's denials (the gateway subtest).
my @errors = grep { /\[(error|alert|crit|emerg)\]/ && !/login refused: .* is deactivated/
                    && !/\[error\].*"carol\@example\.com"/ }
             split /\n/, $n->error_log;
ok(!@errors, 'no error in the nginx log but those provoked') or diag(join "\n", @errors);
unlike(Test::Scim::SimpleSAMLphp::slurp($idp->dir . '/log/php-errors.log'), qr/PHP (Fatal|Warning)/,
       'no PHP error or warning');
diag(sprintf 'end to end in %.1fs', time - $started) if $ENV{TEST_VERBOSE};
done_testing();
