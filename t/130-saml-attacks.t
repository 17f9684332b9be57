# Tests for the ACS against known attacks on SAML Service Providers: each
# block posts a response signed at test time by the xmlsec1 command-line
# tool (with the test IdP's key, or an attacker's), altered the way the
# attack alters it, and checks that it is refused with a log line saying
# what was expected and what came back. Replay across restarts and reloads
# is in t/140-saml-sessions.t.

use Test::Scim;
use Test::Scim::Saml;

my $idp = Test::Scim::Saml->new;
$Test::Scim::Nginx::VARS{TEST_NGINX_SAML} = $idp->dir;

run_saml_blocks($idp);

__DATA__

=== TEST 1: the baseline the attacks start from is accepted
--- users
alice@example.com
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 2: unsigned response
--- users
alice@example.com
--- response
{ sign => 'none' }
--- error_code: 403
--- error_log
neither the Response nor the Assertion is signed; an IdP signature is required

=== TEST 3: a foreign key, with its own certificate embedded in KeyInfo
--- users
alice@example.com
--- response
{ key => 'foreign' }
--- error_code: 403
--- error_log
the Assertion signature does not verify with the configured IdP certificate

=== TEST 4: content changed after signing
--- users
alice@example.com
mallory@example.com
--- response
{ after => sub { $_[0] =~ s/alice\@example\.com/mallory\@example.com/r } }
--- error_code: 403
--- error_log
the Assertion signature does not verify with the configured IdP certificate

=== TEST 5: wrapping: an unsigned evil assertion appended after the signed one
--- users
alice@example.com
mallory@example.com
--- response
{ after => sub {
    my $x = shift;
    my ($a) = $x =~ m{(<saml:Assertion\b.*</saml:Assertion>)}s;
    my $evil = $a =~ s/alice\@example\.com/mallory\@example.com/r;
    $evil =~ s{<ds:Signature.*</ds:Signature>}{}s;
    $evil =~ s/ID="([^"]+)"/ID="$1x"/;
    $x =~ s{</samlp:Response>}{$evil</samlp:Response>};
    $x } }
--- error_code: 403
--- error_log
the Response holds 2 assertions (2 Assertion, 0 EncryptedAssertion); exactly one is accepted

=== TEST 6: wrapping: the signed assertion hidden in Extensions, an evil one in its place
--- users
alice@example.com
mallory@example.com
--- response
{ after => sub {
    my $x = shift;
    my ($a) = $x =~ m{(<saml:Assertion\b.*</saml:Assertion>)}s;
    my $evil = $a =~ s/alice\@example\.com/mallory\@example.com/r;
    $evil =~ s{<ds:Signature.*</ds:Signature>}{}s;
    $x =~ s{\Q$a\E}{$evil};
    $x =~ s{(</saml:Issuer>)}{$1<samlp:Extensions>$a</samlp:Extensions>};
    $x } }
--- error_code: 403
--- error_log
the Response holds 2 assertions

=== TEST 7: wrapping: an evil assertion with the signed one's ID, the original inside its Signature Object
--- users
alice@example.com
mallory@example.com
--- response
{ after => sub {
    my $x = shift;
    my ($a) = $x =~ m{(<saml:Assertion\b.*</saml:Assertion>)}s;
    my ($sig) = $a =~ m{(<ds:Signature.*</ds:Signature>)}s;
    my $evil = $a =~ s/alice\@example\.com/mallory\@example.com/r;
    my $wrapped = $sig =~ s{</ds:Signature>}{<ds:Object>$a</ds:Object></ds:Signature>}r;
    $evil =~ s{<ds:Signature.*</ds:Signature>}{$wrapped}s;
    $x =~ s{\Q$a\E}{$evil};
    $x } }
--- error_code: 403
--- error_log
the Response holds 2 assertions

=== TEST 8: wrapping: the signed Response nested in an evil Response
--- users
alice@example.com
mallory@example.com
--- response
{ sign => 'response', after => sub {
    my $x = shift;
    my $evil = $x =~ s/alice\@example\.com/mallory\@example.com/r;
    $evil =~ s{<ds:Signature.*?</ds:Signature>}{}s;
    $evil =~ s/ID="(_r[^"]+)"/ID="$1x"/;
    $evil =~ s{(</saml:Issuer>)}{$1<samlp:Extensions>$x</samlp:Extensions>};
    $evil } }
--- error_code: 403
--- error_log
the Response holds 2 assertions

=== TEST 9: wrapping: the Response signature references the assertion, not the Response
--- users
alice@example.com
--- response
{ sign => 'response', response_id => '_wrap9r', assertion_id => '_wrap9a',
  edit => sub { $_[0] =~ s/URI="#_wrap9r"/URI="#_wrap9a"/r } }
--- error_code: 403
--- error_log
the Response signature references "#_wrap9a", expected "#_wrap9r" (the ID of the signed Response itself)

=== TEST 10: wrapping: a reference to the whole document (URI="")
--- users
alice@example.com
--- response
{ assertion_id => '_wrap10a', edit => sub { $_[0] =~ s/URI="#_wrap10a"/URI=""/r } }
--- error_code: 403
--- error_log
the Assertion signature references "", expected "#_wrap10a"

=== TEST 11: wrapping: an XPointer reference
--- users
alice@example.com
--- response
{ assertion_id => '_wrap11a', edit => sub { $_[0] =~ s/URI="#_wrap11a"/URI="#xpointer(id('_wrap11a'))"/r } }
--- error_code: 403
--- error_log
the Assertion signature references "#xpointer(id('_wrap11a'))", expected "#_wrap11a"

=== TEST 12: wrapping: an xml:id planted with the assertion's ID
--- users
alice@example.com
--- response
{ assertion_id => '_wrap12a', after => sub {
    $_[0] =~ s{(</saml:Issuer>)}{$1<samlp:Extensions><x xml:id="_wrap12a">evil</x></samlp:Extensions>}r } }
--- error_code: 403
--- error_log
the Assertion's ID "_wrap12a" is used twice in the document (signature wrapping)

=== TEST 13: wrapping: an XPath transform that could cut signed content away
--- users
alice@example.com
--- response
{ edit => sub { $_[0] =~ s{(<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>)}{<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(self::saml:NameID)</ds:XPath></ds:Transform>$1}r } }
--- error_code: 403
--- error_log
the Assertion signature uses Transform "http://www.w3.org/TR/1999/REC-xpath-19991116"; only enveloped-signature and canonicalisation are accepted

=== TEST 14: comment injection in the NameID: the whole NameID is who you are
--- users
victim@example.com
--- response
{ name_id => 'victim@example.com.evil.test',
  after => sub { $_[0] =~ s{(>victim\@example\.com)(\.evil\.test</saml:NameID>)}{$1<!---->$2}r } }
--- error_code: 403
--- response_body_like
no account for you.*victim\@example\.com\.evil\.test
--- error_log
login refused: IdP "https://idp.example.test/saml", NameID "victim@example.com.evil.test": no user of directory "test" has this primary e-mail

=== TEST 15: replay: the same response posted twice
--- users
alice@example.com
--- replay: 1
--- error_code: 403
--- error_log_like
ACS refused a response: assertion "_a\w+" was used before \(replay\)

=== TEST 16: expired: Conditions NotOnOrAfter has passed
--- users
alice@example.com
--- response
{ not_before => ts(time - 1200), not_on_or_after => ts(time - 600) }
--- error_code: 403
--- error_log_like
the Assertion expired: Conditions NotOnOrAfter is \S+, now is \S+ \(clock skew 180s\)

=== TEST 17: expired: SubjectConfirmationData NotOnOrAfter has passed
--- users
alice@example.com
--- response
{ scd_not_on_or_after => ts(time - 600) }
--- error_code: 403
--- error_log_like
no usable bearer SubjectConfirmation: SubjectConfirmationData NotOnOrAfter \S+ has passed

=== TEST 18: not yet valid: Conditions NotBefore is ahead
--- users
alice@example.com
--- response
{ not_before => ts(time + 600) }
--- error_code: 403
--- error_log_like
the Assertion is not yet valid: Conditions NotBefore is \S+, now is \S+ \(clock skew 180s\)

=== TEST 19: a NotBefore within the clock skew is accepted
--- users
alice@example.com
--- response
{ not_before => ts(time + 60) }
--- error_code: 303
--- signed_in: 1
--- no_error_log
[error]

=== TEST 20: wrong Audience
--- users
alice@example.com
--- response
{ audience => 'https://other-sp.example.test/saml' }
--- error_code: 403
--- error_log
the Assertion's Audience is "https://other-sp.example.test/saml", expected "https://sp.example.test/saml" (sp_entity_id)

=== TEST 21: no AudienceRestriction at all
--- users
alice@example.com
--- response
{ audience => undef }
--- error_code: 403
--- error_log
the Assertion has no AudienceRestriction, expected one naming "https://sp.example.test/saml"

=== TEST 22: wrong Recipient
--- users
alice@example.com
--- response
{ recipient => 'https://other-sp.example.test/acs' }
--- error_code: 403
--- error_log
SubjectConfirmationData Recipient is "https://other-sp.example.test/acs", expected "https://sp.example.test/saml/acs"

=== TEST 23: wrong Destination
--- users
alice@example.com
--- response
{ destination => 'https://other-sp.example.test/acs' }
--- error_code: 403
--- error_log
the Response Destination is "https://other-sp.example.test/acs", expected "https://sp.example.test/saml/acs"

=== TEST 24: a signed Response without Destination
--- users
alice@example.com
--- response
{ sign => 'response', destination => undef }
--- error_code: 403
--- error_log
the signed Response has no Destination, expected "https://sp.example.test/saml/acs"

=== TEST 25: wrong Issuer of the Assertion
--- users
alice@example.com
--- response
{ issuer => undef, assertion_issuer => 'https://evil-idp.example.test' }
--- error_code: 403
--- error_log
the Assertion Issuer is "https://evil-idp.example.test", expected "https://idp.example.test/saml"

=== TEST 26: wrong Issuer of the Response
--- users
alice@example.com
--- response
{ issuer => 'https://evil-idp.example.test' }
--- error_code: 403
--- error_log
the Response Issuer is "https://evil-idp.example.test", expected "https://idp.example.test/saml"

=== TEST 27: InResponseTo names no request of ours
--- users
alice@example.com
--- response
{ in_response_to => '_never_sent_by_us' }
--- error_code: 403
--- error_log
InResponseTo "_never_sent_by_us" names no outstanding AuthnRequest of this SP

=== TEST 28: InResponseTo is single use (a second response to one request)
--- users
alice@example.com
--- body
$self->acs($n, $self->form($self->response(in_response_to => $login->{request_id})), cookie => $login->{cookie});
$self->form($xml)
--- error_code: 403
--- error_log_like
InResponseTo "_\w+" names no outstanding AuthnRequest of this SP \(never sent, already answered

=== TEST 29: the answer to a login started by another browser
--- users
alice@example.com
--- cookie: other
--- error_code: 403
--- error_log_like
InResponseTo "_\w+" answers a login started by another browser \(the "scim_session_req" cookie is different\)

=== TEST 30: the answer posted without the login cookie
--- users
alice@example.com
--- cookie: none
--- error_code: 403
--- error_log
cookie is missing

=== TEST 31: InResponseTo of the SubjectConfirmationData differs from the Response's
--- users
alice@example.com
--- response
{ scd_in_response_to => '_another_request' }
--- error_code: 403
--- error_log_like
SubjectConfirmationData InResponseTo is "_another_request", the Response's is "_\w+"

=== TEST 32: an unsolicited response while idp_initiated is off
--- users
alice@example.com
--- idp_initiated
--- error_code: 403
--- error_log
the Response answers no request (no InResponseTo) and IdP-initiated login is off (idp_initiated)

=== TEST 33: DOCTYPE with an external entity
--- body
$self->form(qq{<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0">&x;</samlp:Response>})
--- error_code: 400
--- error_log
the SAML message has a DOCTYPE: refused (a DTD can declare external entities or expand entities without bound)

=== TEST 34: entity expansion (billion laughs)
--- body
my $lol = join '', map { my $p = $_ - 1; qq{<!ENTITY l$_ "} . ("&l$p;" x 10) . '">' } 1 .. 9;
$self->form(qq{<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">$lol]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&l9;</samlp:Response>})
--- error_code: 400
--- error_log
the SAML message has a DOCTYPE: refused

=== TEST 35: two assertions, both from the IdP
--- users
alice@example.com
--- response
{ after => sub {
    my $x = shift;
    my ($a) = $x =~ m{(<saml:Assertion\b.*</saml:Assertion>)}s;
    my $b = $a =~ s/ID="([^"]+)"/ID="$1b"/r;
    $x =~ s{\Q$a\E}{$a$b};
    $x } }
--- error_code: 403
--- error_log
the Response holds 2 assertions (2 Assertion, 0 EncryptedAssertion); exactly one is accepted

=== TEST 36: an oversized body is refused before it is read
--- body
'SAMLResponse=' . ('A' x 200_000)
--- error_code: 413
--- error_log
ACS refused a response: the body has 200013 bytes; max_response_size is 131072

=== TEST 37: a body that is not base64
--- body
'SAMLResponse=not*base64!'
--- error_code: 400
--- error_log
SAMLResponse is not valid base64

=== TEST 38: a body without SAMLResponse
--- body
'RelayState=%2F'
--- error_code: 400
--- error_log
no SAMLResponse in the body

=== TEST 39: SAMLResponse twice (parameter pollution)
--- users
alice@example.com
--- body
$self->form($xml) . '&' . $self->form($xml)
--- error_code: 400
--- error_log
SAMLResponse appears twice in the form

=== TEST 40: base64 of something that is not XML
--- body
'SAMLResponse=aGVsbG8gd29ybGQ%3D'
--- error_code: 400
--- error_log
the SAML message is not well-formed XML

=== TEST 41: another SAML message posted to the ACS
--- body
$self->form(qq{<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_q" Version="2.0"/>})
--- error_code: 400
--- error_log
expected a samlp:Response (urn:oasis:names:tc:SAML:2.0:protocol), got <AuthnRequest in urn:oasis:names:tc:SAML:2.0:protocol>

=== TEST 42: SHA-1 signatures are refused by default
--- users
alice@example.com
--- response
{ sig_alg => 'rsa-sha1', digest => 'sha1' }
--- error_code: 403
--- error_log
the Assertion signature uses SHA-1 (http://www.w3.org/2000/09/xmldsig#rsa-sha1), refused

=== TEST 43: SHA-1 digests are refused by default
--- users
alice@example.com
--- response
{ digest => 'sha1' }
--- error_code: 403
--- error_log
the Assertion signature digests with SHA-1 (http://www.w3.org/2000/09/xmldsig#sha1), refused

=== TEST 44: an HMAC "signature" keyed with public material
--- users
alice@example.com
--- response
{ sig_alg => 'hmac-sha256', signer => '--hmackey ' . $self->write_file('hmac.key', $self->cert_base64('idp')) }
--- error_code: 403
--- error_log
the Assertion signature uses SignatureMethod "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"; expected RSA or ECDSA

=== TEST 45: a failed login passed off as a response
--- users
alice@example.com
--- response
{ status => 'urn:oasis:names:tc:SAML:2.0:status:Responder' }
--- error_code: 403
--- error_log
the IdP answered status "urn:oasis:names:tc:SAML:2.0:status:Responder", expected Success

=== TEST 46: a confirmation method other than bearer
--- users
alice@example.com
--- response
{ method => 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' }
--- error_code: 403
--- error_log
no usable bearer SubjectConfirmation: SubjectConfirmation Method is "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key", expected bearer

=== TEST 47: an encrypted assertion when no sp_key can decrypt it
--- users
alice@example.com
--- response
{ encrypt => 1 }
--- error_code: 403
--- error_log
the assertion is encrypted, but no sp_key is configured to decrypt it

=== TEST 48: a tampered encrypted assertion cannot be used
--- directory
sp_key $TEST_NGINX_SAML/sp.key;
sp_cert $TEST_NGINX_SAML/sp.crt;
--- users
alice@example.com
--- response
{ encrypt => 1, after => sub { $_[0] =~ s{(.*<xenc:CipherValue>)([^<]+)}{$1 . ($2 =~ tr/A-Za-z/B-ZAb-za/r)}ser } }
--- error_code: 403
--- error_log
the EncryptedAssertion cannot be decrypted with sp_key

=== TEST 49: cipher data fetched from a URL (CipherReference): nothing is fetched
--- directory
sp_key $TEST_NGINX_SAML/sp.key;
sp_cert $TEST_NGINX_SAML/sp.crt;
--- users
alice@example.com
--- response
{ encrypt => 1, after => sub { $_[0] =~ s{(.*)<xenc:CipherData><xenc:CipherValue>[^<]*</xenc:CipherValue></xenc:CipherData>}{$1<xenc:CipherData><xenc:CipherReference URI="http://127.0.0.1:9/leak"/></xenc:CipherData>}sr } }
--- error_code: 403
--- error_log
the EncryptedAssertion refers to its cipher data by URI (CipherReference); only inline CipherValue is accepted

=== TEST 50: the wrapped key read from a local file, through an XPath transform
--- directory
sp_key $TEST_NGINX_SAML/sp.key;
sp_cert $TEST_NGINX_SAML/sp.crt;
--- users
alice@example.com
--- response
{ encrypt => 1, after => sub { $_[0] =~ s{<xenc:CipherData><xenc:CipherValue>[^<]*</xenc:CipherValue></xenc:CipherData>}{<xenc:CipherData><xenc:CipherReference URI="file:///etc/passwd"><xenc:Transforms><ds:Transform xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>count(//node()) &gt; 0</ds:XPath></ds:Transform></xenc:Transforms></xenc:CipherReference></xenc:CipherData>}r } }
--- error_code: 403
--- error_log
the EncryptedAssertion refers to its cipher data by URI (CipherReference)

=== TEST 51: a signed assertion that names no request, wrapped in an unsigned Response that does
--- users
alice@example.com
--- response
{ scd_in_response_to => undef }
--- error_code: 403
--- error_log_like
no usable bearer SubjectConfirmation: SubjectConfirmationData has no InResponseTo, and only the unsigned Response says it answers "_\w+"

=== TEST 52: the same, with the Response signed: its InResponseTo is the IdP's word
--- users
alice@example.com
--- response
{ scd_in_response_to => undef, sign => 'response' }
--- error_code: 303
--- signed_in: 1

=== TEST 53: an assertion Issuer that is not an entity name
--- users
alice@example.com
--- response
{ edit => sub { $_[0] =~ s{<saml:Issuer>([^<]+)</saml:Issuer>(<ds:Signature|<saml:Subject)}{<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">$1</saml:Issuer>$2}r } }
--- error_code: 403
--- error_log
the Assertion Issuer has Format "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", expected the entity format
