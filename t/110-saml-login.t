# Tests for scim_saml_login: the redirect to the IdP (HTTP-Redirect
# binding), the AuthnRequest inside it (inflated and read independently),
# RelayState, the login cookie, signing per the binding (checked with the
# openssl command-line tool), and refusing return paths that leave the site.

use strict;
use warnings;
use Test::More;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time);
use Test::Scim::Nginx;
use Test::Scim::Saml;

my $idp = Test::Scim::Saml->new;

sub nginx {
    my ($directory) = @_;
    return Test::Scim::Nginx->new(http_config => $idp->http_config(directory => $directory // ''),
                                  config => $idp->locations)->start;
}

sub xmllint_ok {
    my ($xml, $name) = @_;
    my $file = $idp->write_file('lint.xml', $xml);
    my $out = `xmllint --noout --nonet $file 2>&1`;
    is($?, 0, "$name is well-formed XML (xmllint)") or diag($out);
}

{
    my $n = nginx();
    my $t0 = int(time);
    my $res = $idp->login($n, '/wiki/Some%20Page?tab=2');
    is($res->{status}, 302, 'login: 302');
    like($res->{headers}{location}, qr{^https://idp\.example\.test/sso\?SAMLRequest=[A-Za-z0-9%._~-]+&RelayState=[^&]+$},
         'to the IdP SingleSignOnService (HTTP-Redirect), with SAMLRequest and RelayState');
    is($res->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');
    is($res->{relay_state}, '/wiki/Some%20Page?tab=2', 'RelayState carries the return path');
    ok(!exists $res->{query}{Signature}, 'not signed without sp_key');

    my $xml = $res->{request} // '';
    xmllint_ok($xml, 'the inflated AuthnRequest');
    like($xml, qr{^<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2\.0:protocol"}, 'an AuthnRequest');
    like($res->{request_id}, qr/^_[0-9a-f]{40}$/, 'its ID: "_" and 160 random bits');
    like($xml, qr{ Version="2\.0"}, 'Version 2.0');
    like($xml, qr{ Destination="https://idp\.example\.test/sso"}, 'Destination: the SSO URL');
    like($xml, qr{ AssertionConsumerServiceURL="https://sp\.example\.test/saml/acs"}, 'our ACS URL');
    like($xml, qr{ ProtocolBinding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST"}, 'answered by HTTP-POST');
    like($xml, qr{<saml:Issuer>https://sp\.example\.test/saml</saml:Issuer>}, 'our entityID as Issuer');
    like($xml, qr{<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1\.1:nameid-format:emailAddress"},
         'asks for the e-mail as NameID');
    my ($instant) = $xml =~ /IssueInstant="([^"]+)"/;
    my $expect = Test::Scim::Saml::ts($t0);
    ok(defined $instant && abs(_epoch($instant) - $t0) <= 2, "IssueInstant is now ($instant, ~$expect)");

    like($res->{cookie} // '', qr/^scim_session_req=[A-Za-z0-9_-]{43}$/, 'a login cookie binds the request to this browser');
    my ($set) = grep { /^scim_session_req=/ } Test::Scim::Saml::set_cookies($res);
    like($set, qr/; Path=\/; Max-Age=600; HttpOnly$/, 'HttpOnly, 10 minutes, no Secure/SameSite=None on plain HTTP');

    my $second = $idp->login($n, '/other', headers => { Cookie => $res->{cookie} });
    isnt($second->{request_id}, $res->{request_id}, 'each login has a new request ID');
    is($second->{cookie}, $res->{cookie}, 'the browser keeps its login cookie (parallel logins work)');

    my $plain = $idp->login($n, undef);
    is($plain->{relay_state}, '/', 'without return_to, RelayState is "/"');

    for my $bad ('https://evil.example.test/', '//evil.example.test/x', "/\\evil.example.test",
                 'javascript:alert(1)', "/ok\r\nSet-Cookie: x=1", 'relative/path', "/a b") {
        my $r = $idp->login($n, $bad);
        is($r->{status}, 400, "return_to " . Test::Scim::Saml::uri_escape($bad) . " is refused (400)");
        like($r->{body}, qr/The return address of this sign-in link is not a page of this site/, '... with a page saying why');
    }
    my $log = $n->error_log;
    like($log, qr/login refused: return_to "https:\/\/evil\.example\.test\/" is not a relative path on this site/,
         'and an error log line naming the return path');

    my $post = $n->request(POST => '/saml/login', body => 'x=1');
    is($post->{status}, 405, 'POST /saml/login: 405');
    my $get = $n->request(GET => '/saml/acs');
    is($get->{status}, 405, 'GET /saml/acs: 405');
    $n->stop;
}

# --- cookie flags and names --------------------------------------------------

{
    my $n = nginx("session_cookie_secure on;\nsession_cookie sso;");
    $idp->ensure_user($n, 'alice@example.com');
    my $login = $idp->login($n, '/', cookie_name => 'sso_req');
    my ($set) = grep { /^sso_req=/ } Test::Scim::Saml::set_cookies($login);
    like($set, qr/; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=None$/,
         'session_cookie_secure on: the login cookie is Secure; SameSite=None (it must come back on the IdP POST)');
    my $xml = $idp->response(in_response_to => $login->{request_id});
    my $res = $idp->acs($n, $idp->form($xml), cookie => $login->{cookie}, cookie_name => 'sso');
    is($res->{status}, 303, 'the login completes with the custom cookie names');
    my ($session) = grep { /^sso=/ } Test::Scim::Saml::set_cookies($res);
    like($session, qr/^sso=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
         'the session cookie: HttpOnly; Secure; SameSite=Lax');
    $n->stop;
}

# --- signed AuthnRequests (sp_key), checked with openssl ----------------------

{
    my $md = $idp->metadata(file => 'want-signed.xml', want_signed => 1);
    my $n = Test::Scim::Nginx->new(
        http_config => $idp->http_config(metadata => $md,
            directory => "sp_key ${\ $idp->file('sp.key')};\nsp_cert ${\ $idp->file('sp.crt')};"),
        config => $idp->locations)->start;
    my $res = $idp->login($n, '/secure');
    is($res->{status}, 302, 'an IdP that wants signed requests gets them');
    my ($query) = $res->{headers}{location} =~ /\?(.*)$/;
    like($query, qr/^SAMLRequest=[^&]+&RelayState=%2Fsecure&SigAlg=http%3A%2F%2Fwww\.w3\.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=[^&]+$/,
         'SigAlg rsa-sha256 and Signature, in the order of the binding');
    my ($signed, $sig) = $query =~ /^(.*)&Signature=(.*)$/;
    $idp->write_file('signed-query.txt', $signed);
    open my $fh, '>', $idp->file('query.sig') or die $!;
    print $fh decode_base64(Test::Scim::Saml::uri_unescape($sig));
    close $fh;
    Test::Scim::Saml::run("openssl x509 -in ${\ $idp->file('sp.crt')} -pubkey -noout > ${\ $idp->file('sp.pub')}");
    my $out = `openssl dgst -sha256 -verify ${\ $idp->file('sp.pub')} -signature ${\ $idp->file('query.sig')} ${\ $idp->file('signed-query.txt')} 2>&1`;
    like($out, qr/Verified OK/, 'openssl verifies the signature over the query string with sp_cert');
    $n->stop;
}

sub _epoch {
    my ($s) = @_;
    my ($Y, $M, $D, $h, $m, $sec) = $s =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)Z$/ or return -1;
    require Time::Local;
    return Time::Local::timegm($sec, $m, $h, $D, $M - 1, $Y);
}

done_testing();
