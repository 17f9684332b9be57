# Tests for the SAML configuration: "nginx -t" refuses unreadable or
# invalid IdP metadata, expired or malformed certificates, a key that does
# not match its certificate and incoherent settings, each with file:line;
# scim_saml_metadata serves an SPSSODescriptor an IdP can import.

use Test::Scim;
use Test::Scim::Saml;

my $idp = Test::Scim::Saml->new;
my $dir = $idp->dir;
$Test::Scim::Nginx::VARS{TEST_NGINX_SAML} = $dir;

$idp->metadata;
$idp->metadata(file => 'two-idps.xml');
{
    # an EntitiesDescriptor with two IdPs
    my $one = Test::Scim::Saml::slurp($idp->file('two-idps.xml')) =~ s/^<\?xml[^>]*\?>\s*//r;
    my $two = $one =~ s/idp\.example\.test\/saml/idp2.example.test\/saml/r;
    $idp->write_file('two-idps.xml', qq{<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">$one$two</md:EntitiesDescriptor>});
}
$idp->metadata(file => 'want-signed.xml', want_signed => 1);
$idp->write_file('not-xml.xml', "this is not XML\n");
$idp->write_file('not-metadata.xml', qq{<html><body>login page</body></html>\n});
$idp->write_file('doctype.xml', qq{<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">&e;</md:EntityDescriptor>\n});
$idp->write_file('bad-cert.xml', Test::Scim::Saml::slurp($idp->file('idp-metadata.xml')) =~ s{<ds:X509Certificate>MII}{<ds:X509Certificate>AAAAMII}r);
$idp->expired_keypair('old');
$idp->metadata(file => 'expired.xml', certs => ['old']);
$idp->write_file('not-pem.crt', "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
$idp->keypair('weak', bits => 1024);
$idp->keypair('ec', type => 'ec');

Test::More::plan('no_plan');
run_blocks();

# --- the SP metadata an IdP imports -------------------------------------

my $config = $idp->locations;
my $n = Test::Scim::Nginx->new(config => $config, http_config => $idp->http_config(directory => <<"EOF"));
sp_key $dir/sp.key;
sp_cert $dir/sp.crt;
sp_slo_url https://sp.example.test/saml/logout;
EOF
$n->start;
my $res = $n->request(GET => '/saml/metadata');
Test::More::is($res->{status}, 200, 'metadata: 200');
Test::More::is($res->{headers}{'content-type'}, 'application/samlmetadata+xml', 'as application/samlmetadata+xml');
my $xml = $res->{body};
my $file = $idp->write_file('sp-metadata.xml', $xml);
my $lint = `xmllint --noout --nonet $file 2>&1`;
Test::More::is($?, 0, 'well-formed XML (xmllint)') or Test::More::diag($lint);
my $cert = $idp->cert_base64('sp');
for ([qr{<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2\.0:metadata" xmlns:ds="http://www\.w3\.org/2000/09/xmldsig#" entityID="https://sp\.example\.test/saml">}, 'an EntityDescriptor with our entityID'],
     [qr{<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2\.0:protocol">}, 'an SPSSODescriptor for SAML 2.0 that signs its requests'],
     [qr{<md:KeyDescriptor use="signing">\s*<ds:KeyInfo><ds:X509Data><ds:X509Certificate>\Q$cert\E</ds:X509Certificate>}, 'sp_cert as signing key'],
     [qr{<md:KeyDescriptor use="encryption">\s*<ds:KeyInfo><ds:X509Data><ds:X509Certificate>\Q$cert\E</ds:X509Certificate>.*<md:EncryptionMethod Algorithm="http://www\.w3\.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>}s, 'and as encryption key, with the algorithms we decrypt'],
     [qr{<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-Redirect" Location="https://sp\.example\.test/saml/logout"/>}, 'SingleLogoutService (HTTP-Redirect)'],
     [qr{<md:NameIDFormat>urn:oasis:names:tc:SAML:1\.1:nameid-format:emailAddress</md:NameIDFormat>}, 'NameIDFormat emailAddress'],
     [qr{<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST" Location="https://sp\.example\.test/saml/acs" index="0" isDefault="true"/>}, 'the ACS, HTTP-POST'],
     [qr{</md:KeyDescriptor>\s*<md:SingleLogoutService.*</md:NameIDFormat>\s*<md:AssertionConsumerService}s, 'in schema order: KeyDescriptor, SingleLogoutService, NameIDFormat, AssertionConsumerService'],
) {
    Test::More::like($xml, $_->[0], "metadata: $_->[1]");
}
$n->stop;

$n = Test::Scim::Nginx->new(config => $config, http_config => $idp->http_config);
$n->start;
$xml = $n->request(GET => '/saml/metadata')->{body};
Test::More::like($xml, qr{AuthnRequestsSigned="false"}, 'without sp_key: AuthnRequestsSigned="false"');
Test::More::unlike($xml, qr{KeyDescriptor|SingleLogoutService}, 'and neither keys nor SingleLogoutService');
Test::More::is($n->request(POST => '/saml/metadata', body => 'x')->{status}, 405, 'POST: 405');
$n->stop;
Test::More::unlike($n->error_log, qr/\[(error|alert|emerg)\]/, 'no error logged');

__DATA__

=== TEST 1: explicit settings without metadata serve the SP
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_entity_id https://idp.example.test/saml;
    idp_sso_url https://idp.example.test/sso;
    idp_cert $TEST_NGINX_SAML/idp.crt;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    clock_skew 30s;
    session_idle 15m;
    session_lifetime 12h;
    max_response_size 256k;
    session_cookie app_session;
    session_cookie_secure on;
    idp_initiated off;
    jit off;
    allow_sha1 off;
}
--- config
location = /saml/metadata { scim_saml_metadata test; }
location = /saml/acs { scim_saml_acs test; }
--- request
GET /saml/metadata
--- error_code: 200
--- response_body_like
entityID="https://sp\.example\.test/saml"
--- no_error_log
[error]

=== TEST 2: idp_metadata unreadable
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/missing.xml;
}
--- config
--- must_die
--- error_log_like
cannot read "\S+/missing\.xml": No such file or directory in \S+nginx\.conf:\d+

=== TEST 3: idp_metadata is not XML
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/not-xml.xml;
}
--- config
--- must_die
--- error_log_like
"\S+/not-xml\.xml" is not well-formed XML: line 1: Start tag expected, '<' not found in \S+nginx\.conf:\d+

=== TEST 4: idp_metadata is XML but not SAML metadata
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/not-metadata.xml;
}
--- config
--- must_die
--- error_log_like
"\S+/not-metadata\.xml" is not SAML metadata: expected an EntityDescriptor in namespace urn:oasis:names:tc:SAML:2\.0:metadata, found <html> in \S+nginx\.conf:\d+

=== TEST 5: idp_metadata with a DOCTYPE
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/doctype.xml;
}
--- config
--- must_die
--- error_log_like
"\S+/doctype\.xml" has a DOCTYPE: refused .* in \S+nginx\.conf:\d+

=== TEST 6: idp_metadata with a malformed certificate
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/bad-cert.xml;
}
--- config
--- must_die
--- error_log_like
"\S+/bad-cert\.xml": signing certificate 1 is malformed \(line 2\) in \S+nginx\.conf:\d+

=== TEST 7: idp_metadata with an expired certificate
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/expired.xml;
}
--- config
--- must_die
--- error_log_like
signing certificate 1 of idp_metadata "\S+/expired\.xml" \(/CN=old\.example\.test\) expired on 2021-01-01T00:00:00Z in \S+nginx\.conf:\d+

=== TEST 8: idp_cert expired
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_cert $TEST_NGINX_SAML/old.crt;
}
--- config
--- must_die
--- error_log_like
idp_cert "\S+/old\.crt" \(/CN=old\.example\.test\) expired on 2021-01-01T00:00:00Z in \S+nginx\.conf:\d+

=== TEST 9: idp_cert malformed
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_cert $TEST_NGINX_SAML/not-pem.crt;
}
--- config
--- must_die
--- error_log_like
"\S+/not-pem\.crt" is not a PEM certificate \("-----BEGIN CERTIFICATE-----"\) in \S+nginx\.conf:\d+

=== TEST 10: idp_cert with a 1024-bit RSA key
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_cert $TEST_NGINX_SAML/weak.crt;
}
--- config
--- must_die
--- error_log_like
idp_cert "\S+/weak\.crt" has a 1024-bit RSA key; at least 2048 bits are required in \S+nginx\.conf:\d+

=== TEST 11: sp_key does not match sp_cert
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_cert $TEST_NGINX_SAML/sp.crt;
    sp_key $TEST_NGINX_SAML/foreign.key;
}
--- config
--- must_die
--- error_log_like
sp_key "\S+/foreign\.key" does not match sp_cert "\S+/sp\.crt" in \S+nginx\.conf:\d+

=== TEST 12: sp_key is not a key
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    sp_key $TEST_NGINX_SAML/sp.crt;
}
--- config
--- must_die
--- error_log_like
"\S+/sp\.crt" is not an unencrypted PEM private key .* in \S+nginx\.conf:\d+

=== TEST 13: sp_key must be RSA
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    sp_key $TEST_NGINX_SAML/ec.key;
}
--- config
--- must_die
--- error_log_like
sp_key "\S+/ec\.key" is a id-ecPublicKey key; an RSA key is required in \S+nginx\.conf:\d+

=== TEST 14: sp_key without sp_cert
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    sp_key $TEST_NGINX_SAML/sp.key;
}
--- config
--- must_die
--- error_log_like
scim_directory "test": sp_key needs sp_cert \(published in the SP metadata\) in \S+nginx\.conf:\d+

=== TEST 15: sp_entity_id missing
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
--- must_die
--- error_log_like
scim_directory "test": sp_entity_id is required \(the Audience the IdP names\) in \S+nginx\.conf:\d+

=== TEST 16: sp_acs_url missing
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
}
--- config
--- must_die
--- error_log_like
scim_directory "test": sp_acs_url is required \(the absolute URL of the scim_saml_acs location\) in \S+nginx\.conf:\d+

=== TEST 17: sp_acs_url is not an absolute URL
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    sp_acs_url /saml/acs;
}
--- config
--- must_die
--- error_log_like
sp_acs_url "/saml/acs" must be an absolute http:// or https:// URL in \S+nginx\.conf:\d+

=== TEST 18: no IdP certificate at all
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_entity_id https://idp.example.test/saml;
    idp_sso_url https://idp.example.test/sso;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
--- must_die
--- error_log_like
scim_directory "test": no IdP signing certificate: set idp_metadata or idp_cert in \S+nginx\.conf:\d+

=== TEST 19: an IdP that wants signed requests, and no sp_key
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/want-signed.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
--- must_die
--- error_log_like
scim_directory "test": the IdP metadata sets WantAuthnRequestsSigned: set sp_key and sp_cert in \S+nginx\.conf:\d+

=== TEST 20: metadata describing two IdPs, none chosen
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/two-idps.xml;
}
--- config
--- must_die
--- error_log_like
"\S+/two-idps\.xml" describes 2 identity providers: name one with idp_entity_id in \S+nginx\.conf:\d+

=== TEST 21: metadata describing two IdPs, one chosen by idp_entity_id
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_entity_id https://idp2.example.test/saml;
    idp_metadata $TEST_NGINX_SAML/two-idps.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
location = /saml/login { scim_saml_login test; }
--- request
GET /saml/login
--- error_code: 302
--- no_error_log
[error]

=== TEST 22: scim_saml_acs without scim_zone
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
location = /saml/acs { scim_saml_acs test; }
--- must_die
--- error_log_like
"scim_saml_acs" needs a "scim_zone" in the http block: login state and sessions live there in \S+nginx\.conf:\d+

=== TEST 23: scim_saml_login without scim_store
--- http_config
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
location = /saml/login { scim_saml_login test; }
--- must_die
--- error_log_like
"scim_saml_login" needs a "scim_store" in the http block: users and sessions live there in \S+nginx\.conf:\d+

=== TEST 24: scim_saml_acs in a location that is not sp_acs_url
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
location = /sso/acs { scim_saml_acs test; }
--- must_die
--- error_log_like
"scim_saml_acs" is in location "/sso/acs", but sp_acs_url of directory "test" points at "/saml/acs": the IdP posts there in \S+nginx\.conf:\d+

=== TEST 25: a SAML location naming a directory without an IdP
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
}
--- config
location = /saml/login { scim_saml_login test; }
--- must_die
--- error_log_like
directory "test" has no identity provider: add "idp_metadata" .* in \S+nginx\.conf:\d+

=== TEST 26: a SAML location naming an unknown directory
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
--- config
location = /saml/metadata { scim_saml_metadata okta; }
--- must_die
--- error_log_like
unknown directory "okta": declare it with "scim_directory okta \{ \.\.\. \}" in \S+nginx\.conf:\d+

=== TEST 27: session settings without an IdP
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    session_idle 10m;
}
--- config
--- must_die
--- error_log_like
scim_directory "test" has SAML session settings but no identity provider: add "idp_metadata" .* in \S+nginx\.conf:\d+

=== TEST 28: scim_saml_logout without a directory, two SAML directories
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory a {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/a;
    sp_acs_url https://sp.example.test/a/acs;
}
scim_directory b {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/b;
    sp_acs_url https://sp.example.test/b/acs;
}
--- config
location = /logout { scim_saml_logout; }
--- must_die
--- error_log_like
"scim_saml_logout" must name its directory: several have SAML settings in \S+nginx\.conf:\d+

=== TEST 29: an invalid flag value
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    jit yes;
}
--- config
--- must_die
--- error_log_like
invalid value "yes" in "jit" directive, it must be "on" or "off" in \S+nginx\.conf:\d+

=== TEST 30: an invalid session_cookie name
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    session_cookie "a;b";
}
--- config
--- must_die
--- error_log_like
invalid session_cookie name "a;b": a cookie name is ASCII letters, digits and !#\$%&'\*\+-\.\^_`\|~, without spaces in \S+nginx\.conf:\d+
--- error_line
session_cookie "a;b";

=== TEST 31: scim_saml_acs and scim_api in one location
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
--- config
location /saml/acs { scim_saml_acs test; scim_api test; }
--- must_die
--- error_log_like
"scim_saml_acs" and "scim_api" cannot share a location in \S+nginx\.conf:\d+

=== TEST 32: scim_zone may come after the directories and locations that need it
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
}
scim_zone scim:1m;
--- config
location = /saml/login { scim_saml_login test; }
--- request
GET /saml/login
--- error_code: 302
--- no_error_log
[error]

=== TEST 33: clock_skew over 1h, reported at its own line
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    clock_skew 1d;
}
--- config
--- must_die
--- error_log_like
clock_skew "1d" is out of range: expected a time from 0 to 1h in \S+nginx\.conf:\d+
--- error_line
clock_skew 1d;

=== TEST 34: clock_skew that is not a time
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    clock_skew 3x;
}
--- config
--- must_die
--- error_log_like
clock_skew "3x" is not a time: expected a time from 0 to 1h, such as 3m in \S+nginx\.conf:\d+
--- error_line
clock_skew 3x;

=== TEST 35: session_idle 0
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    session_idle 0;
}
--- config
--- must_die
--- error_log_like
session_idle "0" is out of range: expected a time from 1s to 365d in \S+nginx\.conf:\d+
--- error_line
session_idle 0;

=== TEST 36: session_lifetime over a year
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    session_lifetime 2y;
}
--- config
--- must_die
--- error_log_like
session_lifetime "2y" is out of range: expected a time from 1s to 365d in \S+nginx\.conf:\d+
--- error_line
session_lifetime 2y;

=== TEST 37: max_response_size 0
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    max_response_size 0;
}
--- config
--- must_die
--- error_log_like
max_response_size "0" is out of range: expected a size from 1k to 64m in \S+nginx\.conf:\d+
--- error_line
max_response_size 0;

=== TEST 38: max_response_size 100g
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    max_response_size 100g;
}
--- config
--- must_die
--- error_log_like
max_response_size "100g" is out of range: expected a size from 1k to 64m in \S+nginx\.conf:\d+
--- error_line
max_response_size 100g;

=== TEST 39: max_response_size that is not a size
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    max_response_size lots;
}
--- config
--- must_die
--- error_log_like
max_response_size "lots" is not a size: expected a size from 1k to 64m, such as 256k in \S+nginx\.conf:\d+
--- error_line
max_response_size lots;

=== TEST 40: session_cookie with a space
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    session_cookie 'bad name';
}
--- config
--- must_die
--- error_log_like
invalid session_cookie name "bad name": a cookie name is ASCII letters.* in \S+nginx\.conf:\d+
--- error_line
session_cookie 'bad name';

=== TEST 41: a setting given twice
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    clock_skew 1m;
    clock_skew 2m;
}
--- config
--- must_die
--- error_log_like
"clock_skew" directive is duplicate in \S+nginx\.conf:\d+
--- error_line
clock_skew 2m;

=== TEST 42: the largest allowed settings pass
--- http_config
scim_store $TEST_NGINX_PREFIX/store;
scim_zone scim:1m;
scim_directory test {
    token_file $TEST_NGINX_TOKEN_FILE;
    idp_metadata $TEST_NGINX_SAML/idp-metadata.xml;
    sp_entity_id https://sp.example.test/saml;
    sp_acs_url https://sp.example.test/saml/acs;
    clock_skew 1h;
    session_idle 365d;
    session_lifetime 365d;
    max_response_size 64m;
    session_cookie __Host-sso;
}
--- config
location = /saml/metadata { scim_saml_metadata test; }
--- request
GET /saml/metadata
--- error_code: 200
--- no_error_log
[error]
