# Tests for the ACS accepting what real IdPs send: a response signed at
# test time by the xmlsec1 command-line tool is posted, linked to the user
# provisioned through SCIM, and opens a session (the cookie then names the
# user in $scim_user_id). One block per feature, and the refusals of the
# user link: no such user, a deactivated user.

use Test::Scim;
use Test::Scim::Saml;

my $idp = Test::Scim::Saml->new;
$Test::Scim::Nginx::VARS{TEST_NGINX_SAML} = $idp->dir;

run_saml_blocks($idp);

__DATA__

=== TEST 1: SP-initiated login, assertion signed: 303 to the return path with a session cookie
--- users
alice@example.com
--- return_to: /wiki/page?x=1
--- error_code: 303
--- response_headers_like
Location: ^http://127\.0\.0\.1:\d+/wiki/page\?x=1$
Set-Cookie: ^scim_session=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Lax\nscim_session_req=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax$
Cache-Control: ^no-store$
--- signed_in: 1
--- error_log_like
user [0-9a-f-]{36} signed in \("alice\@example\.com" from IdP "https://idp\.example\.test/saml"\)
--- no_error_log
[error]

=== TEST 2: the Response signed instead of the Assertion
--- users
alice@example.com
--- response
{ sign => 'response' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 3: both the Response and the Assertion signed
--- users
alice@example.com
--- response
{ sign => 'both' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 4: RSA-SHA512
--- users
alice@example.com
--- response
{ sig_alg => 'rsa-sha512' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 5: an ECDSA (P-256) IdP key
--- metadata
{ certs => ['ec'] }
--- users
alice@example.com
--- response
{ key => 'ec' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 6: key rollover: metadata with the old and the new certificate
--- metadata
{ certs => ['foreign', 'idp'] }
--- users
alice@example.com
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 7: an EncryptedAssertion decrypted with sp_key
--- directory
sp_key $TEST_NGINX_SAML/sp.key;
sp_cert $TEST_NGINX_SAML/sp.crt;
--- users
alice@example.com
--- response
{ encrypt => 1 }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 8: an EncryptedAssertion in a signed Response
--- directory
sp_key $TEST_NGINX_SAML/sp.key;
sp_cert $TEST_NGINX_SAML/sp.crt;
--- users
alice@example.com
--- response
{ encrypt => 1, sign => 'both' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 9: the NameID matches the primary e-mail case-insensitively
--- users
Bob.Smith@Example.com
--- response
{ name_id => 'BOB.SMITH@EXAMPLE.COM' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 10: a user without "active" counts as active
--- users
noactive@example.com no-active
--- response
{ name_id => 'noactive@example.com' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 11: login_attribute: the e-mail comes in an attribute, the NameID is opaque
--- directory
login_attribute mail;
--- users
carol@example.com
--- response
{ name_id => 'u-7f3a9', name_id_format => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  attributes => { mail => ['carol@example.com'] } }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 12: IdP-initiated login allowed, RelayState names the page
--- directory
idp_initiated on;
--- users
alice@example.com
--- idp_initiated
--- body
$self->form($xml, '/reports/today')
--- error_code: 303
--- response_headers_like
Location: ^http://127\.0\.0\.1:\d+/reports/today$
--- signed_in: 1
--- no_error_log
[error]

=== TEST 13: IdP-initiated login: a RelayState on another site is not followed
--- directory
idp_initiated on;
--- users
alice@example.com
--- idp_initiated
--- body
$self->form($xml, 'https://evil.example.test/phish')
--- error_code: 303
--- response_headers_like
Location: ^http://127\.0\.0\.1:\d+/$
--- signed_in: 1
--- no_error_log
[error]

=== TEST 14: SP-initiated: the stored return path wins over a RelayState changed in flight
--- users
alice@example.com
--- return_to: /wiki/
--- body
$self->form($xml, '/elsewhere')
--- error_code: 303
--- response_headers_like
Location: ^http://127\.0\.0\.1:\d+/wiki/$
--- no_error_log
[error]

=== TEST 15: SHA-1 accepted with allow_sha1 on
--- directory
allow_sha1 on;
--- users
alice@example.com
--- response
{ sig_alg => 'rsa-sha1', digest => 'sha1' }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 16: no provisioned user: 403, a page that says why, one log line with IdP, NameID, reason
--- users
alice@example.com
--- response
{ name_id => 'stranger@example.com' }
--- error_code: 403
--- response_body_like
<h1>Sign-in refused</h1>.*this application has no account for you\. Ask your administrator to assign you to the application\. Account: stranger\@example\.com
--- error_log
login refused: IdP "https://idp.example.test/saml", NameID "stranger@example.com": no user of directory "test" has this primary e-mail (provision the user through SCIM, or set jit on)

=== TEST 17: a deactivated user is refused
--- users
dave@example.com inactive
--- response
{ name_id => 'dave@example.com' }
--- error_code: 403
--- response_body_like
Your account in this application is deactivated
--- error_log_like
login refused: IdP "https://idp\.example\.test/saml", NameID "dave\@example\.com": user [0-9a-f-]{36} of directory "test" is deactivated \(active: false\)

=== TEST 18: the page escapes what the IdP sent
--- users
alice@example.com
--- response
{ name_id => 'x&lt;script&gt;@example.com' }
--- error_code: 403
--- response_body_like
Account: x&lt;script&gt;\@example\.com</p>
--- error_log
NameID "x<script>@example.com": no user

=== TEST 19: the login attribute is missing
--- directory
login_attribute mail;
--- users
carol@example.com
--- error_code: 403
--- error_log
the Assertion has no value for attribute "mail" (login_attribute)

=== TEST 20: jit on creates the user from the assertion
--- directory
jit on;
--- response
{ name_id => 'erin@example.com', attributes => { givenName => ['Erin'], sn => ['Young'] } }
--- error_code: 303
--- error_log_like
created user [0-9a-f-]{36} just in time for "erin\@example\.com"
--- no_error_log
[error]
