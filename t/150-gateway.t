# Tests for the product-access gateway: scim_product and scim_require, the
# identity headers through proxy_pass, fastcgi_pass, uwsgi_pass and
# grpc_pass, the variables, spoofed headers, the session cookie kept from
# the app, internal redirects, huge group lists, default groups,
# revocation seen on the very next request by every worker, the log lines
# of a denial; a configuration without any scim_product, and scim_require
# at server level, which leaves the module's own endpoints alone.

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use JSON::PP;
use Test::Scim::Nginx;
use Test::Scim::Saml;
use Test::Scim::Upstreams;

my $idp = Test::Scim::Saml->new;
my $http_port = Test::Scim::Upstreams::http();
my $fcgi_port = Test::Scim::Upstreams::fastcgi();
my $uwsgi_port = Test::Scim::Upstreams::uwsgi();
my $grpc_port = Test::Scim::Nginx::free_port();

my $products = <<'EOF';
scim_product jira groups=jira-users,jira-admins;
scim_product confluence groups=confluence-users;
scim_product wiki default=Everyone;
underscores_in_headers on;
log_format who '$status user=$scim_user products=[$scim_products] id=$scim_user_id';
EOF

my $config = $idp->locations . <<"EOF";
location /jira/ {
    scim_require product=jira;
    access_log logs/who.log who;
    add_header X-Worker \$pid always;
    proxy_pass http://127.0.0.1:$http_port;
}
location /confluence/ {
    scim_require product=confluence;
    proxy_pass http://127.0.0.1:$http_port;
}
location /api/ {
    scim_require product=jira unauthenticated=401;
    proxy_pass http://127.0.0.1:$http_port;
}
location /any/ {
    scim_require any;
    proxy_set_header X-Vars "user=\$scim_user|email=\$scim_email|name=\$scim_name|groups=\$scim_groups|products=\$scim_products|id=\$scim_user_id";
    proxy_set_header X-Cookie-Vars "\$http_cookie|\$cookie_scim_session|\$cookie_theme";
    proxy_pass http://127.0.0.1:$http_port;
}
location /login-with-query/ {
    scim_require product=jira;
    scim_login_url https://sso.example.com/saml/login?app=jira;
    proxy_pass http://127.0.0.1:$http_port;
}
location /vars-without-require/ {
    return 200 "user=\$scim_user";
}
location /public/ {
    proxy_pass http://127.0.0.1:$http_port;
}
location /jira-static/ {
    scim_require product=jira;
    root \$TEST_NGINX_PREFIX/html;
}
location /jira-try/ {
    scim_require product=jira;
    try_files /nonexistent \@jira-app;
}
location \@jira-app {
    scim_require product=jira;
    proxy_pass http://127.0.0.1:$http_port;
}
location /fcgi/ {
    scim_require product=jira;
    fastcgi_pass 127.0.0.1:$fcgi_port;
    include /etc/nginx/fastcgi_params;
}
location /uwsgi/ {
    scim_require product=jira;
    uwsgi_pass 127.0.0.1:$uwsgi_port;
    include /etc/nginx/uwsgi_params;
}
location /grpc/ {
    scim_require product=jira;
    grpc_pass grpc://127.0.0.1:$grpc_port;
}
location /small/ {
    scim_require any;
    scim_identity_headers_max_size 64;
    proxy_pass http://127.0.0.1:$http_port;
}
location /named/ {
    scim_require any;
    scim_identity_headers X-Auth-;
    scim_identity_header email X-Mail;
    proxy_pass http://127.0.0.1:$http_port;
}
EOF

# The gRPC upstream: a server block speaking HTTP/2 that prints the headers.
my $grpc_server = <<"EOF";
server {
    listen 127.0.0.1:$grpc_port http2;
    location / {
        return 200 "user=[\$http_x_remote_user] spoof=[\$http_x_remote_groups] products=[\$http_x_remote_products]";
    }
}
EOF

my $n = Test::Scim::Nginx->new(workers => 4, listen_options => 'reuseport',
    http_config => $idp->http_config . $products, config => $config, servers => $grpc_server);
mkdir $_ for map { $n->prefix . $_ } '/html', '/html/jira-static';
open my $index, '>', $n->prefix . '/html/jira-static/index.html' or die $!;
print $index "jira's static index\n";
close $index;
$n->start;

sub get {
    my ($path, %h) = @_;
    return $n->request(GET => $path, headers => { Accept => 'text/html', %h });
}

sub echoed { my $r = shift; eval { JSON::PP->new->decode($r->{body}) } // {} }

# GET with the header lines exactly as given, in that order and case
# (HTTP::Tiny orders and cases headers as it likes).
sub raw_get {
    my ($server, $path, @lines) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $server->port, Proto => 'tcp')
        or die "connect: $!";
    print $s join("\r\n", "GET $path HTTP/1.0", 'Host: localhost', @lines, '', '');
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    return { status => $status // 0, body => $body // '' };
}

# Provision: alice in jira-users; bob in confluence-users only.
my $alice = $idp->provision($n, 'alice@example.com', displayName => 'Alice Liddell', active => JSON::PP::true);
my $bob = $idp->provision($n, 'bob@example.com', active => JSON::PP::true);
my %group;
for my $g (qw(jira-users confluence-users)) {
    my $res = $n->scim(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => $g });
    $group{$g} = $res->{json}{id};
}
sub member {
    my ($op, $g, $u) = @_;
    my $res = $n->scim(PATCH => "/Groups/$group{$g}", { Operations => [
        $op eq 'add' ? { op => 'add', path => 'members', value => [{ value => $u }] }
                     : { op => 'remove', path => "members[value eq \"$u\"]" } ] });
    die "member $op: $res->{body}" unless $res->{status} == 204;
}
member(add => 'jira-users', $alice);
member(add => 'confluence-users', $bob);

# --- without a session
my $res = get('/jira/page?q=1&r=a+b');
is($res->{status}, 302, 'a browser without a session is sent to the login');
my ($return_to) = ($res->{headers}{location} // '') =~ m{^http://127\.0\.0\.1:\d+/saml/login\?return_to=([^&]*)$};
is(Test::Scim::Saml::uri_unescape($return_to // ''), '/jira/page?q=1&r=a+b', 'with its URL as return path')
    or diag($res->{headers}{location});
$res = get('/login-with-query/x?y=1');
is($res->{headers}{location}, 'https://sso.example.com/saml/login?app=jira&return_to=/login-with-query/x%3Fy=1',
   'a login URL with a query of its own gets "&return_to="');
$res = get('/jira/page', Accept => 'application/json');
is($res->{status}, 401, 'an API client gets 401');
like($res->{headers}{'www-authenticate'}, qr/^SAML realm="[^"]*", login="\/saml\/login"$/, 'with WWW-Authenticate');
$res = $n->request(POST => '/jira/page', headers => { Accept => 'text/html' }, body => 'x=1');
is($res->{status}, 401, 'a POST without a session gets 401 (a login could not replay it)');
is(get('/api/x')->{status}, 401, 'unauthenticated=401 answers 401 to a browser too');

# --- alice signs in
my $login = $idp->sign_in($n, response => { name_id => 'alice@example.com' });
is($login->{status}, 303, 'alice signs in') or diag($login->{body});
my $cookie = $login->{session};
ok($cookie, 'a session cookie');

$res = get('/jira/page', Cookie => $cookie, 'X-Remote-User' => 'admin', 'X_Remote_User' => 'admin',
           'x-remote-groups' => 'jira-admins', 'X-Remote-Products' => 'everything');
is($res->{status}, 200, 'alice reaches jira') or diag($res->{body});
my $h = echoed($res)->{headers};
is($h->{'x-remote-user'}, 'alice@example.com', 'X-Remote-User is the userName, and only ours');
is($h->{'x-remote-email'}, 'alice@example.com', 'X-Remote-Email');
is($h->{'x-remote-name'}, 'Alice Liddell', 'X-Remote-Name');
is($h->{'x-remote-user-id'}, $alice, 'X-Remote-User-Id');
is($h->{'x-remote-groups'}, 'jira-users,Everyone', 'X-Remote-Groups: synced groups and the default group');
is($h->{'x-remote-products'}, 'jira,wiki', 'X-Remote-Products');
ok(!exists $h->{x_remote_user}, 'the underscore disguise is removed');
$res = get('/jira/page', Cookie => "theme=dark; $cookie; scim_session_req=abc; lang=en");
is(echoed($res)->{headers}{cookie}, 'theme=dark; lang=en',
   'the app gets its own cookies, not the session and login cookies');
# a stale or planted cookie of the same name sent first (a sibling
# subdomain can set one with a longer Path) does not lock the user out
for my $planted ('scim_session=bad', 'scim_session=' . ('A' x 43)) {
    $res = get('/jira/page', Cookie => "$planted; $cookie");
    is($res->{status}, 200, "Cookie: $planted first, then the live session: let in") or diag($res->{body});
}
# written the ways the session lookup still accepts: another case, a space
# before "=", a comma as the separator
(my $session_value = $cookie) =~ s/^[^=]+=//;
for my $variant ("SCIM_SESSION=$session_value", "scim_session =$session_value", "theme=dark, scim_session=$session_value") {
    $res = get('/jira/page', Cookie => $variant);
    my $got = echoed($res)->{headers}{cookie} // '';
    unlike($got, qr/\Q$session_value\E/, "Cookie: $variant: the session value never reaches the app (got \"$got\")");
}

# The session and login cookies never reach the app, whatever identity
# headers the client sends alongside, in whatever order and case; a Cookie
# header that carried only ours is removed, not sent empty. [name, request
# header lines, the Cookie headers the app must get]
my @cookie_cases = (
    ['the cookie, then a spoofed header', ["Cookie: $cookie", 'X-Remote-User: evil'], []],
    ['a spoofed header, then the cookie', ['X-Remote-User: evil', "Cookie: $cookie"], []],
    ['the cookie alone', ["Cookie: $cookie"], []],
    ['spoofs in other cases and with underscores, app cookies around ours',
     ['x_remote_groups: evil', "Cookie: theme=dark; $cookie; lang=en", 'X-REMOTE-USER: evil'],
     ['theme=dark; lang=en']],
    ['two Cookie headers, a spoof between them',
     ['Cookie: theme=dark', 'x-remote-email: evil@example.com', "cookie: $cookie; scim_session_req=abc"],
     ['theme=dark']],
    ['our cookie alone in the first of two Cookie headers',
     ["COOKIE: $cookie", 'Cookie: lang=en', 'X-Remote-Products: everything'], ['lang=en']],
);
for my $c (@cookie_cases) {
    my ($name, $lines, $want) = @$c;

    $res = raw_get($n, '/jira/x', @$lines);
    my $echo = echoed($res);
    my $got = $echo->{headers}{cookie};
    is_deeply([!defined $got ? () : ref $got ? @$got : ($got)], $want,
              "proxy_pass, $name: the Cookie headers the app gets")
        or diag("status $res->{status}: $res->{body}");
    is($echo->{headers}{'x-remote-user'}, 'alice@example.com', "proxy_pass, $name: X-Remote-User is ours");

    $res = raw_get($n, '/fcgi/x', @$lines);
    my $params = echoed($res)->{params} // {};
    $got = $params->{HTTP_COOKIE};
    is_deeply([!defined $got ? () : $got eq '' ? ('') : split(/\n/, $got, -1)], $want,
              "fastcgi_pass, $name: the HTTP_COOKIE parameters the app gets")
        or diag("status $res->{status}: $res->{body}");
    is($params->{HTTP_X_REMOTE_USER}, 'alice@example.com', "fastcgi_pass, $name: HTTP_X_REMOTE_USER is ours");
}

# An internal redirect (index, try_files to a named location) empties the
# request's module contexts after the session cookie was taken out: the
# session must survive it.
$res = get('/jira-static/', Cookie => $cookie);
is("$res->{status} $res->{body}", "200 jira's static index\n", 'index: the internal redirect keeps the session');
$res = get('/jira-try/x', Cookie => "theme=dark; $cookie");
is($res->{status}, 200, 'try_files to a named location: the session survives the redirect') or diag($res->{body});
$h = echoed($res)->{headers};
is($h->{'x-remote-user'}, 'alice@example.com', 'and the named location sends the identity headers');
is($h->{cookie}, 'theme=dark', 'and the app\'s own cookies only');

$res = get('/public/x', 'X-Remote-User' => 'admin', 'X_Remote_Groups' => 'x');
$h = echoed($res)->{headers};
ok(!exists $h->{'x-remote-user'} && !exists $h->{x_remote_groups},
   'identity headers sent by a client are removed where no session is required too');

$res = get('/any/x', Cookie => $cookie);
is(echoed($res)->{headers}{'x-vars'},
   "user=alice\@example.com|email=alice\@example.com|name=Alice Liddell|groups=jira-users,Everyone|products=jira,wiki|id=$alice",
   'the variables');
is(echoed(get('/any/x', Cookie => "theme=dark; $cookie"))->{headers}{'x-cookie-vars'}, 'theme=dark||dark',
   '$http_cookie and $cookie_NAME see the Cookie header the app gets');
is(get('/vars-without-require/', Cookie => $cookie)->{body}, 'user=alice@example.com',
   'the variables work where no scim_require is');
is(get('/vars-without-require/')->{body}, 'user=', 'and are empty without a session');
$res = get('/any/x');
is($res->{status}, 302, 'scim_require any refuses a request without a session');

# --- FastCGI, uwsgi, gRPC
$res = get('/fcgi/x', Cookie => $cookie, 'X-Remote-User' => 'admin', 'X_Remote_User' => 'admin');
my $p = echoed($res)->{params} // {};
is($p->{HTTP_X_REMOTE_USER}, 'alice@example.com', 'FastCGI: HTTP_X_REMOTE_USER is ours alone') or diag($res->{body});
is($p->{HTTP_X_REMOTE_PRODUCTS}, 'jira,wiki', 'FastCGI: HTTP_X_REMOTE_PRODUCTS');
$res = get('/uwsgi/x', Cookie => $cookie, 'X-Remote-User' => 'admin');
my $v = echoed($res)->{vars} // {};
is($v->{HTTP_X_REMOTE_USER}, 'alice@example.com', 'uwsgi: HTTP_X_REMOTE_USER is ours alone') or diag($res->{body});
$res = get('/grpc/x', Cookie => $cookie, 'X-Remote-Groups' => 'spoofed');
is($res->{body}, 'user=[alice@example.com] spoof=[jira-users,Everyone] products=[jira,wiki]', 'gRPC: the headers reach an HTTP/2 upstream')
    or diag("$res->{status} $res->{body}");

# --- other header names, and the size bound on groups
$res = get('/named/x', Cookie => $cookie, 'X-Mail' => 'spoof@example.com');
$h = echoed($res)->{headers};
is($h->{'x-auth-user'}, 'alice@example.com', 'a prefix renames the headers');
is($h->{'x-mail'}, 'alice@example.com', 'a header can be named one by one, and a client copy is removed');

# --- products
$res = get('/confluence/x', Cookie => $cookie);
is($res->{status}, 403, 'alice has no confluence');
like($res->{body}, qr/Your account has no access to confluence/, 'the page says why');
like($res->{headers}{'content-type'}, qr/^text\/html/, 'a short HTML page');

# --- revocation: the very next request, whatever worker serves it
my %seen;
for (1 .. 40) { $seen{ get('/jira/x', Cookie => $cookie)->{headers}{'x-worker'} // '?' }++ }
cmp_ok(scalar(keys %seen), '>=', 2, 'requests spread over several workers') or diag(explain \%seen);

sub next_requests {
    my ($path, $want, $what) = @_;
    my %statuses;
    $statuses{ get($path, Cookie => $cookie)->{status} }++ for 1 .. 12;
    is_deeply(\%statuses, { $want => 12 }, $what) or diag(explain \%statuses);
}

$res = $n->scim(PATCH => "/Users/$alice", { Operations => [{ op => 'replace', value => { active => JSON::PP::false } }] });
is($res->{status}, 200, 'deactivate alice through SCIM');
next_requests('/jira/x', 403, 'every following request, on every worker, is refused');
like(get('/jira/x', Cookie => $cookie)->{body}, qr/deactivated/, 'the page says the account is deactivated');
$n->scim(PATCH => "/Users/$alice", { Operations => [{ op => 'replace', path => 'active', value => 'True' }] });
next_requests('/jira/x', 200, 'reactivated: allowed again at once');

member(remove => 'jira-users', $alice);
next_requests('/jira/x', 403, 'removed from jira-users: jira is refused at once');
next_requests('/wiki-check', 404, 'sanity: an unknown location is 404') if 0;
member(add => 'jira-users', $alice);
next_requests('/jira/x', 200, 'added back: allowed at once');

$n->scim(PATCH => "/Groups/$group{'jira-users'}", { Operations => [{ op => 'replace', path => 'displayName', value => 'jira-people' }] });
next_requests('/jira/x', 403, 'the group renamed away from the product: refused at once');
$n->scim(PATCH => "/Groups/$group{'jira-users'}", { Operations => [{ op => 'replace', path => 'displayName', value => 'jira-users' }] });
next_requests('/jira/x', 200, 'renamed back');
is($n->scim(DELETE => "/Groups/$group{'jira-users'}")->{status}, 204, 'delete the group');
next_requests('/jira/x', 403, 'the group deleted: refused at once');
like(echoed(get('/any/x', Cookie => $cookie))->{headers}{'x-vars'}, qr/products=wiki\|/, 'the default group still grants wiki');

# --- the default group is not a synced group
$res = $n->scim(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => 'everyone' });
is($res->{status}, 409, 'the IdP cannot push a group named like a default group');
like($res->{json}{detail}, qr/"everyone" is the default group of product "wiki"/, 'and is told why');

# --- huge group lists are never truncated
for my $i (1 .. 12) {
    my $r = $n->scim(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName => "group-with-a-rather-long-name-$i", members => [{ value => $alice }] });
    die $r->{body} unless $r->{status} == 201;
}
$res = get('/small/x', Cookie => $cookie);
$h = echoed($res)->{headers};
is($h->{'x-remote-groups'}, '', 'over the bound, the groups header is empty, not cut');
is($h->{'x-remote-groups-overflow'}, '13', 'and the overflow header counts the groups');
is($h->{'x-remote-products'}, 'wiki', 'the products are complete');

# --- a deleted user
is($n->scim(DELETE => "/Users/$alice")->{status}, 204, 'delete alice');
$res = get('/jira/x', Cookie => $cookie);
is($res->{status}, 403, 'a deleted user is refused');
like($res->{body}, qr/no longer exists/, 'the page says so');

# --- header values cannot carry line breaks
my $eve = $idp->provision($n, 'eve@example.com', displayName => "Eve\r\nX-Injected: 1", active => JSON::PP::true);
member(add => 'confluence-users', $eve);
my $eve_login = $idp->sign_in($n, response => { name_id => 'eve@example.com' });
$res = get('/confluence/x', Cookie => $eve_login->{session});
$h = echoed($res)->{headers};
is($h->{'x-remote-name'}, 'Eve%0D%0AX-Injected: 1', 'control characters are percent-encoded');
ok(!exists $h->{'x-injected'}, 'no header was injected');

$n->stop;
my $log = $n->error_log;
like($log, qr/\[error\].*scim: access denied to user "alice\@example.com" \(id \Q$alice\E\) of directory "test": deactivated, client: /,
     'a denial is one error-log line with the user and the reason: deactivated');
like($log, qr/\[error\].*scim: access denied to user "alice\@example.com" \(id \Q$alice\E\) of directory "test": not granted product "confluence", client: /,
     'a product not granted');
like($log, qr/\[error\].*scim: access denied to user \(id \Q$alice\E\) of directory "test": deleted, client: /,
     'a deleted user');
my @sentences = $log =~ /^(.*access denied.*(?:Your account|identity provider).*)$/mg;
is_deeply(\@sentences, [], 'the log lines are for operators: no sentence of the page in them');
my $who = do { local $/; open my $fh, '<', $n->prefix . '/logs/who.log' or die "who.log: $!"; <$fh> };
like($who, qr/^200 user=alice\@example\.com products=\[jira,wiki\] id=\Q$alice\E$/m,
     'the access log names the user of an allowed request') or diag($who);
like($who, qr/^403 user=alice\@example\.com products=\[\] id=\Q$alice\E$/m,
     'and the deactivated user a 403 was for, with no product') or diag($who);
like($log, qr/\[warn\].*scim: 13 groups of user "alice\@example.com" exceed scim_identity_headers_max_size \(64 bytes\)/,
     'the overflow is logged');
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert in the log');

# --- no scim_product anywhere: sessions, identities and "any" still work
{
    my $m = Test::Scim::Nginx->new(http_config => $idp->http_config, config => $idp->locations . <<"EOF");
location /app/ {
    scim_require any;
    proxy_pass http://127.0.0.1:$http_port;
}
location = /who {
    return 200 "user=\$scim_user products=[\$scim_products] groups=[\$scim_groups]";
}
EOF
    $m->start;
    $idp->provision($m, 'alice@example.com', active => JSON::PP::true);
    my $session = $idp->sign_in($m, response => { name_id => 'alice@example.com' })->{session};
    ok($session, 'no scim_product: alice signs in');
    my $r = $m->request(GET => '/who', headers => { Cookie => $session });
    is("$r->{status} $r->{body}", '200 user=alice@example.com products=[] groups=[]',
       'no scim_product: $scim_user names the user, with no product');
    $r = $m->request(GET => '/app/x', headers => { Cookie => $session });
    is($r->{status}, 200, 'no scim_product: "scim_require any" lets alice in') or diag($r->{body});
    my $hh = echoed($r)->{headers} // {};
    is($hh->{'x-remote-user'}, 'alice@example.com', 'no scim_product: X-Remote-User');
    is($hh->{'x-remote-products'}, '', 'no scim_product: X-Remote-Products is empty');
    $m->stop;
    my @crashes = $m->error_log =~ /^(.*exited on signal.*)$/mg;
    is_deeply(\@crashes, [], 'no scim_product: no worker died');
}

# --- scim_require at server level: the module's own endpoints stay open
{
    my $m = Test::Scim::Nginx->new(
        http_config => $idp->http_config . "scim_product jira groups=jira-users;\n",
        config => <<"EOF");
scim_require product=jira;
location /scim/v2/ {
    scim_api test;
    if (\$request_method = GET) { set \$reading 1; }
}
location = /saml/acs { scim_saml_acs test; }
location = /saml/login { scim_saml_login test; }
location = /saml/metadata {
    scim_saml_metadata test;
    if (\$http_user_agent ~ "probe") { set \$probe 1; }
}
location = /saml/logout { scim_saml_logout test; }
location /app/ {
    proxy_pass http://127.0.0.1:$http_port;
}
EOF
    $m->start;
    # an "if" inside an endpoint's location is a location of its own: it
    # keeps the endpoint (it crashed the worker), and stays open
    my $r = $m->scim(GET => '/Users');
    is($r->{status}, 200, 'server-level scim_require: the SCIM API answers a valid token, through an "if"') or diag($r->{body});
    $r = $m->request(GET => '/saml/metadata', headers => { 'User-Agent' => 'probe' });
    is($r->{status}, 200, 'the metadata is served through an "if" in its location') or diag($r->{body});
    my $uid = $idp->provision($m, 'alice@example.com', active => JSON::PP::true);
    $idp->provision($m, 'bob@example.com', active => JSON::PP::true);
    $r = $m->scim(POST => '/Groups', { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName => 'jira-users', members => [{ value => $uid }] });
    is($r->{status}, 201, 'server-level scim_require: SCIM writes work');

    $r = $m->request(GET => '/app/x', headers => { Accept => 'text/html' });
    is($r->{status}, 302, 'server-level scim_require: an ordinary location is protected');
    like($r->{headers}{location} // '', qr{/saml/login\?return_to=/app/x$}, 'and sends the browser to the login');

    my $login = $idp->login($m, '/app/x', headers => { Accept => 'text/html' });
    is($login->{status}, 302, 'server-level scim_require: the login redirects');
    like($login->{headers}{location} // '', qr{^https://idp\.example\.test/sso\?SAMLRequest=},
         'to the IdP, not to itself');

    my $acs = $idp->sign_in($m, response => { name_id => 'alice@example.com' });
    is($acs->{status}, 303, 'server-level scim_require: the ACS takes the IdP\'s POST') or diag($acs->{body});
    my $session = $acs->{session};
    $r = $m->request(GET => '/app/x', headers => { Cookie => $session });
    is($r->{status}, 200, 'alice, granted jira, passes');
    is(echoed($r)->{headers}{'x-remote-user'}, 'alice@example.com', 'with her identity headers');
    my $bob = $idp->sign_in($m, response => { name_id => 'bob@example.com' })->{session};
    is($m->request(GET => '/app/x', headers => { Cookie => $bob })->{status}, 403, 'bob, without jira, does not');

    $r = $m->request(GET => '/saml/metadata');
    is($r->{status}, 200, 'server-level scim_require: the metadata is served');
    like($r->{body}, qr/EntityDescriptor/, 'and is metadata');

    $r = $m->request(GET => '/saml/logout?return_to=%2Fbye', headers => { Cookie => $session });
    is($r->{status}, 302, 'server-level scim_require: logout answers');
    like($r->{headers}{location} // '', qr{^https://idp\.example\.test/slo\?SAMLRequest=}, 'and goes to the IdP');
    $r = $m->request(GET => '/saml/logout?SAMLResponse=abc&RelayState=%2Fbye', headers => { Accept => 'text/html' });
    like($r->{headers}{location} // '', qr{^http://127\.0\.0\.1:\d+/bye$},
         'the IdP\'s LogoutResponse, without a session, reaches the logout endpoint');
    $m->stop;
    unlike($m->error_log, qr/\[(alert|crit|emerg)\]/, 'server-level scim_require: no alert in the log');
}

done_testing();
