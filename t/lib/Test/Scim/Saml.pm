package Test::Scim::Saml;

# SAML fixtures for the tests of the Service Provider.
#
# Everything a real IdP would do is done here by independent tools, never
# by the module's own code: key pairs and certificates come from the
# openssl command-line tool, responses are signed (and encrypted) by the
# xmlsec1 command-line tool, AuthnRequests are inflated and read with
# Perl's zlib.
#
#   my $idp = Test::Scim::Saml->new;          # keys made once per test file
#   my $xml = $idp->response(in_response_to => $id, name_id => 'a@b.test');
#   my $res = $idp->acs($nginx, $idp->form($xml), cookie => $login->{cookie});
#
# response() options (undef omits an attribute or element):
#   response_id assertion_id issue_instant destination in_response_to
#   issuer assertion_issuer status name_id name_id_format method recipient
#   scd_not_on_or_after scd_in_response_to not_before not_on_or_after
#   audience session_index attributes ({ Name => [values] })
#   sign      'assertion' (default), 'response', 'both' or 'none'
#   key       'idp' (default), 'foreign', 'ec'
#   sig_alg   'rsa-sha256' (default), 'rsa-sha1', 'rsa-sha512', 'ecdsa-sha256'
#   digest    'sha256' (default), 'sha1'
#   signer    xmlsec1 key options instead of the key pair (e.g. --hmackey F)
#   session_not_on_or_after   AuthnStatement SessionNotOnOrAfter
#   edit      sub { $_[0] } changes the XML before it is signed
#   after     sub { $_[0] } changes the XML after it is signed (attacks)
#   encrypt   1: the signed assertion goes into an EncryptedAssertion for
#             the SP certificate (AES-256-CBC, RSA-OAEP)

use strict;
use warnings;

use Compress::Raw::Zlib;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use MIME::Base64 qw(encode_base64 decode_base64);
use JSON::PP ();
use POSIX qw(strftime);
use Test::More ();
use Test::Scim::Nginx;

my $NS_P = 'urn:oasis:names:tc:SAML:2.0:protocol';
my $NS_A = 'urn:oasis:names:tc:SAML:2.0:assertion';
my $ID_ATTRS = "--id-attr:ID $NS_P:Response --id-attr:ID $NS_A:Assertion";

my %SIG_ALG = (
    'hmac-sha256'  => 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
    'rsa-sha256'   => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'rsa-sha512'   => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
    'rsa-sha1'     => 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    'ecdsa-sha256' => 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
);
my %DIGEST = (
    sha256 => 'http://www.w3.org/2001/04/xmlenc#sha256',
    sha1   => 'http://www.w3.org/2000/09/xmldsig#sha1',
);

sub new {
    my ($class, %args) = @_;
    my $self = bless {
        dir        => tempdir('scim-saml-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TEST_KEEP}),
        idp_entity => 'https://idp.example.test/saml',
        sso_url    => 'https://idp.example.test/sso',
        slo_url    => 'https://idp.example.test/slo',
        sp_entity  => 'https://sp.example.test/saml',
        acs_url    => 'https://sp.example.test/saml/acs',
        %args,
    }, $class;
    chmod 0755, $self->{dir};
    $self->keypair($_) for qw(idp sp foreign);
    return $self;
}

sub dir { $_[0]{dir} }
sub file { "$_[0]{dir}/$_[1]" }

sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    die "command failed ($?): $cmd\n$out" if $?;
    return $out;
}

# A key and a self-signed certificate: NAME.key, NAME.crt in dir().
sub keypair {
    my ($self, $name, %o) = @_;
    my $type = $o{type} // 'rsa';
    my $new = $type eq 'ec' ? '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1'
                            : "-newkey rsa:" . ($o{bits} // 2048);
    run("openssl req -x509 $new -nodes -keyout $self->{dir}/$name.key "
        . "-out $self->{dir}/$name.crt -days 2 -subj /CN=$name.example.test");
    return ($self->file("$name.key"), $self->file("$name.crt"));
}

# A certificate that expired in 2021 (openssl ca is what can backdate one).
sub expired_keypair {
    my ($self, $name) = @_;
    my $ca = "$self->{dir}/ca-$name";
    run("mkdir -p $ca/newcerts && touch $ca/index.txt && echo 01 > $ca/serial");
    open my $fh, '>', "$ca/ca.cnf" or die $!;
    print $fh "[ca]\ndefault_ca = t\n[t]\ndir = $ca\ndatabase = \$dir/index.txt\n"
            . "new_certs_dir = \$dir/newcerts\nserial = \$dir/serial\ndefault_md = sha256\n"
            . "policy = p\n[p]\ncommonName = supplied\n";
    close $fh;
    run("openssl req -new -newkey rsa:2048 -nodes -keyout $self->{dir}/$name.key "
        . "-out $ca/req.csr -subj /CN=$name.example.test");
    run("openssl ca -batch -config $ca/ca.cnf -selfsign -keyfile $self->{dir}/$name.key "
        . "-in $ca/req.csr -startdate 20200101000000Z -enddate 20210101000000Z "
        . "-out $self->{dir}/$name.crt");
    return ($self->file("$name.key"), $self->file("$name.crt"));
}

sub cert_base64 {
    my ($self, $name) = @_;
    $self->keypair($name, type => $name eq 'ec' ? 'ec' : 'rsa') unless -f $self->file("$name.crt");
    open my $fh, '<', $self->file("$name.crt") or die $!;
    my $pem = do { local $/; <$fh> };
    # "openssl ca" writes a text dump before the PEM block
    my ($b64) = $pem =~ /-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----/s or die "no PEM in $name.crt";
    return $b64 =~ s/\s+//gr;
}

# IdP metadata with the given signing certificates (names of key pairs).
sub metadata {
    my ($self, %o) = @_;
    my @certs = @{ $o{certs} // ['idp'] };
    my $keys = join '', map {
        qq{<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>}
        . $self->cert_base64($_)
        . qq{</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>}
    } @certs;
    my $slo = exists $o{slo} ? $o{slo} : $self->{slo_url};
    my $xml = qq{<?xml version="1.0"?>\n}
        . qq{<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" }
        . qq{xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="$self->{idp_entity}">}
        . qq{<md:IDPSSODescriptor WantAuthnRequestsSigned="} . ($o{want_signed} ? 'true' : 'false')
        . qq{" protocolSupportEnumeration="$NS_P">$keys}
        . ($slo ? qq{<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="$slo"/>} : '')
        . qq{<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>}
        . qq{<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="$self->{sso_url}/post"/>}
        . qq{<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="$self->{sso_url}"/>}
        . qq{</md:IDPSSODescriptor></md:EntityDescriptor>\n};
    my $file = $self->file($o{file} // 'idp-metadata.xml');
    open my $fh, '>', $file or die $!;
    print $fh $xml;
    close $fh;
    return $file;
}

sub ts { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

my $serial = 0;
sub new_id { sprintf('_%s%x%04x', $_[0] // 'id', time, $$) . sprintf('%06d', ++$serial) . int(rand(1e6)) }

sub attr_xml {
    my ($name, $value) = @_;
    return defined $value ? qq{ $name="$value"} : '';
}

sub signature_template {
    my ($self, $ref, %o) = @_;
    my $alg = $SIG_ALG{ $o{sig_alg} } // die "unknown sig_alg $o{sig_alg}";
    my $digest = $DIGEST{ $o{digest} } // die "unknown digest $o{digest}";
    return qq{<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>}
        . qq{<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>}
        . qq{<ds:SignatureMethod Algorithm="$alg"/><ds:Reference URI="#$ref"><ds:Transforms>}
        . qq{<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>}
        . qq{<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>}
        . qq{<ds:DigestMethod Algorithm="$digest"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>}
        . qq{<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data>}
        . qq{</ds:KeyInfo></ds:Signature>};
}

sub response {
    my ($self, %o) = @_;
    my $now = time;
    my %v = (
        response_id         => new_id('r'),
        assertion_id        => new_id('a'),
        issue_instant       => ts($now),
        destination         => $self->{acs_url},
        in_response_to      => undef,
        issuer              => $self->{idp_entity},
        assertion_issuer    => $self->{idp_entity},
        status              => 'urn:oasis:names:tc:SAML:2.0:status:Success',
        name_id             => 'alice@example.com',
        name_id_format      => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        method              => 'urn:oasis:names:tc:SAML:2.0:cm:bearer',
        recipient           => $self->{acs_url},
        scd_not_on_or_after => ts($now + 300),
        not_before          => ts($now - 60),
        not_on_or_after     => ts($now + 300),
        audience            => $self->{sp_entity},
        session_index       => new_id('s'),
        attributes          => {},
        sign                => 'assertion',
        key                 => 'idp',
        sig_alg             => 'rsa-sha256',
        digest              => 'sha256',
        %o,
    );
    $v{scd_in_response_to} = $v{in_response_to} unless exists $o{scd_in_response_to};
    $v{key} = 'ec', $v{sig_alg} = 'ecdsa-sha256' if $v{key} eq 'ec' || $v{sig_alg} =~ /^ecdsa/;
    $self->keypair('ec', type => 'ec') if $v{key} eq 'ec' && !-f $self->file('ec.key');

    my $sign_response = $v{sign} =~ /^(response|both)$/;
    my $sign_assertion = $v{sign} =~ /^(assertion|both)$/;
    my $attrs = '';
    if (%{ $v{attributes} }) {
        $attrs = '<saml:AttributeStatement>' . join('', map {
            my $name = $_;
            qq{<saml:Attribute Name="$name">}
            . join('', map { "<saml:AttributeValue>$_</saml:AttributeValue>" } @{ $v{attributes}{$name} })
            . '</saml:Attribute>'
        } sort keys %{ $v{attributes} }) . '</saml:AttributeStatement>';
    }
    my $xml = qq{<samlp:Response xmlns:samlp="$NS_P" xmlns:saml="$NS_A" ID="$v{response_id}" Version="2.0"}
        . attr_xml(IssueInstant => $v{issue_instant}) . attr_xml(Destination => $v{destination})
        . attr_xml(InResponseTo => $v{in_response_to}) . '>'
        . (defined $v{issuer} ? "<saml:Issuer>$v{issuer}</saml:Issuer>" : '')
        . ($sign_response ? $self->signature_template($v{response_id}, %v) : '')
        . qq{<samlp:Status><samlp:StatusCode Value="$v{status}"/></samlp:Status>}
        . qq{<saml:Assertion ID="$v{assertion_id}" Version="2.0" IssueInstant="$v{issue_instant}">}
        . (defined $v{assertion_issuer} ? "<saml:Issuer>$v{assertion_issuer}</saml:Issuer>" : '')
        . ($sign_assertion ? $self->signature_template($v{assertion_id}, %v) : '')
        . '<saml:Subject>'
        . (defined $v{name_id} ? '<saml:NameID' . attr_xml(Format => $v{name_id_format}) . ">$v{name_id}</saml:NameID>" : '')
        . qq{<saml:SubjectConfirmation Method="$v{method}"><saml:SubjectConfirmationData}
        . attr_xml(Recipient => $v{recipient}) . attr_xml(NotOnOrAfter => $v{scd_not_on_or_after})
        . attr_xml(InResponseTo => $v{scd_in_response_to}) . '/></saml:SubjectConfirmation></saml:Subject>'
        . '<saml:Conditions' . attr_xml(NotBefore => $v{not_before}) . attr_xml(NotOnOrAfter => $v{not_on_or_after}) . '>'
        . (defined $v{audience} ? "<saml:AudienceRestriction><saml:Audience>$v{audience}</saml:Audience></saml:AudienceRestriction>" : '')
        . '</saml:Conditions>'
        . qq{<saml:AuthnStatement AuthnInstant="$v{issue_instant}"} . attr_xml(SessionIndex => $v{session_index})
        . attr_xml(SessionNotOnOrAfter => $v{session_not_on_or_after})
        . '><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
        . '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>'
        . $attrs
        . '</saml:Assertion></samlp:Response>';
    $xml = $v{edit}->($xml) if $v{edit};

    my $key = $v{signer} // "--privkey-pem $self->{dir}/$v{key}.key,$self->{dir}/$v{key}.crt";
    $xml = $self->xmlsec_sign($xml, $key, "//*[local-name()='Assertion']/*[local-name()='Signature']")
        if $sign_assertion;
    $xml = $self->encrypt_assertion($xml) if $v{encrypt};
    $xml = $self->xmlsec_sign($xml, $key, "/*/*[local-name()='Signature']") if $sign_response;
    $xml = $v{after}->($xml) if $v{after};
    $self->{last} = \%v;
    return $xml;
}

# What response() used last (IDs and times).
sub last { $_[0]{last} }

sub write_file {
    my ($self, $name, $text) = @_;
    open my $fh, '>', $self->file($name) or die $!;
    print $fh $text;
    close $fh;
    return $self->file($name);
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return scalar <$fh>;
}

sub xmlsec_sign {
    my ($self, $xml, $key, $xpath) = @_;
    my $in = $self->write_file('to-sign.xml', $xml);
    my $out = $self->file('signed.xml');
    run(qq{xmlsec1 --sign $key $ID_ATTRS --node-xpath "$xpath" --output $out $in});
    return slurp($out) =~ s/^<\?xml[^>]*\?>\s*//r;
}

sub encrypt_assertion {
    my ($self, $xml) = @_;
    $xml =~ s{(<saml:Assertion\b.*</saml:Assertion>)}{<saml:EncryptedAssertion>$1</saml:EncryptedAssertion>}s
        or die "no assertion to encrypt";
    my $in = $self->write_file('to-encrypt.xml', $xml);
    my $tmpl = $self->write_file('enc-template.xml',
        q{<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">}
        . q{<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>}
        . q{<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>}
        . q{<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>}
        . q{<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>}
        . q{<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>});
    my $out = $self->file('encrypted.xml');
    run(qq{xmlsec1 --encrypt --pubkey-cert-pem $self->{dir}/sp.crt --session-key aes-256 }
        . qq{--xml-data $in --node-xpath "//*[local-name()='Assertion']" --output $out $tmpl});
    return slurp($out) =~ s/^<\?xml[^>]*\?>\s*//r;
}

sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub uri_unescape {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

# The HTTP-POST binding form of a response.
sub form {
    my ($self, $xml, $relay_state) = @_;
    my $body = 'SAMLResponse=' . uri_escape(encode_base64($xml, "\n"));
    $body .= '&RelayState=' . uri_escape($relay_state) if defined $relay_state;
    return $body;
}

sub inflate_raw {
    my ($data) = @_;
    my ($i, $status) = Compress::Raw::Zlib::Inflate->new(-WindowBits => -MAX_WBITS);
    die "inflate: $status" if $status != Z_OK;
    my $out;
    $status = $i->inflate($data, $out);
    die "inflate failed: $status" unless $status == Z_STREAM_END;
    return $out;
}

sub set_cookies {
    my ($res) = @_;
    my $h = $res->{headers}{'set-cookie'} // [];
    return ref $h ? @$h : ($h);
}

# "name=value" of a Set-Cookie named NAME, or undef.
sub cookie_of {
    my ($res, $name) = @_;
    for (set_cookies($res)) {
        return $1 if /^(\Q$name\E=[^;]*)/;
    }
    return undef;
}

# GET the login endpoint; returns the response with what the redirect
# carries: request_id, relay_state, request (the AuthnRequest XML), query
# (parameters), cookie (the login cookie as "name=value").
sub login {
    my ($self, $n, $return_to, %o) = @_;
    my $uri = ($o{path} // '/saml/login') . (defined $return_to ? '?return_to=' . uri_escape($return_to) : '');
    my $res = $n->request(GET => $uri, headers => { %{ $o{headers} // {} } });
    $res->{cookie} = cookie_of($res, $o{cookie_name} // 'scim_session_req');
    my $loc = $res->{headers}{location} // '';
    if ($loc =~ /\?(.*)$/) {
        my %q = map { my ($k, $v) = split /=/, $_, 2; ($k => uri_unescape($v // '')) } split /&/, $1;
        $res->{query} = \%q;
        $res->{relay_state} = $q{RelayState};
        if (defined $q{SAMLRequest}) {
            $res->{request} = inflate_raw(decode_base64($q{SAMLRequest}));
            ($res->{request_id}) = $res->{request} =~ /\bID="([^"]+)"/;
        }
    }
    return $res;
}

# POST a body to the ACS; headers and cookies as given.
sub acs {
    my ($self, $n, $body, %o) = @_;
    my %h = ('Content-Type' => 'application/x-www-form-urlencoded', %{ $o{headers} // {} });
    $h{Cookie} = $o{cookie} if defined $o{cookie};
    my $res = $n->request(POST => $o{path} // '/saml/acs', headers => \%h, body => $body);
    $res->{session} = cookie_of($res, $o{cookie_name} // 'scim_session');
    return $res;
}

# login + a signed response to it + the ACS POST: the whole SP-initiated
# round trip. Returns the ACS response (with ->{login}).
sub sign_in {
    my ($self, $n, %o) = @_;
    my $login = $self->login($n, $o{return_to});
    die "login did not redirect: $login->{status} $login->{body}" unless $login->{request_id};
    my $xml = $self->response(in_response_to => $login->{request_id}, %{ $o{response} // {} });
    my $res = $self->acs($n, $self->form($xml), cookie => $login->{cookie});
    $res->{login} = $login;
    $res->{xml} = $xml;
    return $res;
}

# The http{} lines of a SAML directory "test" (store, zone, directory);
# extra lines go inside the directory block.
sub http_config {
    my ($self, %o) = @_;
    my $metadata = $o{metadata} // $self->metadata;
    my $extra = $o{directory} // '';
    my $zone = $o{zone} // 'scim:1m';
    return <<"EOF";
scim_store \$TEST_NGINX_PREFIX/store;
scim_zone $zone;
scim_directory test {
    token_file \$TEST_NGINX_TOKEN_FILE;
    idp_metadata $metadata;
    sp_entity_id $self->{sp_entity};
    sp_acs_url $self->{acs_url};
$extra
}
EOF
}

# The SAML locations, and /whoami answering "$scim_user_id $scim_session_expires".
sub locations {
    return <<'EOF';
location /scim/v2/ { scim_api test; }
location = /saml/acs { scim_saml_acs test; }
location = /saml/login { scim_saml_login test; }
location = /saml/metadata { scim_saml_metadata test; }
location = /saml/logout { scim_saml_logout test; }
location = /whoami { return 200 "user=$scim_user_id expires=$scim_session_expires"; }
EOF
}

# Provision a user through SCIM; returns its id.
sub provision {
    my ($self, $n, $email, %extra) = @_;
    my $res = $n->scim(POST => '/Users', {
        schemas  => ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName => $email,
        emails   => [{ value => $email, type => 'work', primary => JSON::PP::true() }],
        %extra,
    });
    die "provisioning $email failed: $res->{status} $res->{body}" unless $res->{status} == 201;
    return $res->{json}{id};
}

# A user with that primary e-mail, provisioned once; "active => 0" makes
# it deactivated, "no_active => 1" leaves "active" out.
sub ensure_user {
    my ($self, $n, $email, %o) = @_;
    my $res = $n->scim(GET => '/Users?filter=' . uri_escape(qq{userName eq "$email"}));
    return $res->{json}{Resources}[0]{id} if $res->{json}{totalResults};
    my %extra;
    $extra{active} = $o{active} ? JSON::PP::true() : JSON::PP::false() if exists $o{active};
    $extra{active} = JSON::PP::true() unless exists $o{active} || $o{no_active};
    return $self->provision($n, $email, %extra);
}

# One nginx per distinct configuration, shared by the blocks that use it.
sub instance {
    my ($self, %args) = @_;
    my $key = join "\0", map { "$_=" . ($args{$_} // '') } sort keys %args;
    return $self->{instances}{$key} //= Test::Scim::Nginx->new(%args)->start;
}

sub log_since {
    my ($n, $offset) = @_;
    open my $fh, '<', $n->prefix . '/logs/error.log' or return '';
    seek $fh, $offset, 0;
    local $/;
    return scalar(<$fh>) // '';
}

# One ACS block of a t/1NN-saml-*.t file. Sections:
#   --- directory     lines added to the scim_directory block
#   --- metadata      Perl: options of metadata() (e.g. { certs => ['ec'] })
#   --- users         e-mails to provision, one per line ("inactive" after
#                     one deactivates it)
#   --- idp_initiated no login first: the response answers no request
#   --- return_to     the login's return path
#   --- response      Perl: options of response(); $login is in scope
#   --- body          Perl: the POST body; $xml holds the signed response
#   --- cookie        "none" (no login cookie) or "other" (another browser's)
#   --- replay        post the same body this many times more first
#   --- error_code / --- response_headers_like / --- response_body_like
#   --- signed_in     1: the session cookie works (/whoami names the user)
#   --- error_log / --- error_log_like / --- no_error_log (this block's lines)
sub run_block {
    my ($self, $block) = @_;
    my $name = $block->name;
    my $metadata = defined $block->metadata
        ? $self->metadata(file => new_id('md') . '.xml', %{ eval($block->metadata) // die "$name: metadata: $@" })
        : $self->metadata;
    my $n = $self->instance(
        http_config => $self->http_config(metadata => $metadata, directory => $block->directory // ''),
        config      => $self->locations,
    );
    my %ids;
    for my $line (grep { /\S/ } split /\n/, $block->users // '') {
        my ($email, $state) = split ' ', $line;
        $ids{lc $email} = $self->ensure_user($n, $email,
            ($state // '') eq 'inactive' ? (active => 0) : ($state // '') eq 'no-active' ? (no_active => 1) : ());
    }
    my $offset = -s $n->prefix . '/logs/error.log';

    my $login;
    if (!defined $block->idp_initiated) {
        $login = $self->login($n, defined $block->return_to ? $block->return_to =~ s/\s+$//r : undef);
        die "$name: login failed: $login->{status}" unless $login->{request_id};
    }
    my %opts = $login ? (in_response_to => $login->{request_id}) : ();
    if (defined $block->response) {
        my $o = eval $block->response;
        die "$name: response: $@" if $@;
        %opts = (%opts, %$o);
    }
    my $xml = $self->response(%opts);
    my $body = $self->form($xml);
    if (defined $block->body) {
        $body = eval $block->body;
        die "$name: body: $@" if $@;
    }
    my $cookie = $login ? $login->{cookie} : undef;
    if (defined $block->cookie) {
        $cookie = $block->cookie =~ /other/ ? $self->login($n, '/')->{cookie} : undef;
    }
    $self->acs($n, $body, cookie => $cookie) for 1 .. ($block->replay // 0);
    my $res = $self->acs($n, $body, cookie => $cookie);

    if (defined $block->error_code) {
        my $want = $block->error_code =~ s/\s+//gr;
        Test::More::is($res->{status}, $want, "$name - status $want")
            or Test::More::diag("response: $res->{body}\nlog:\n" . log_since($n, $offset));
    }
    for my $line (grep { /\S/ } split /\n/, $block->response_headers_like // '') {
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*?)\s*$/;
        my $got = join "\n", map { $_ // '' } (ref $res->{headers}{lc $k} ? @{ $res->{headers}{lc $k} } : $res->{headers}{lc $k});
        Test::More::like($got, qr/$v/, "$name - header $k like $v");
    }
    if (defined $block->response_body_like) {
        my $re = $block->response_body_like =~ s/\n\z//r;
        Test::More::like($res->{body}, qr/$re/s, "$name - body like $re");
    }
    if (defined $block->signed_in) {
        my ($email) = grep { /\S/ } split /\s+/, $block->users // '';
        my $uid = $block->signed_in =~ /^\s*1\s*$/ ? $ids{lc($email // '')} : $block->signed_in =~ s/\s+//gr;
        Test::More::like($self->whoami($n, $res->{session}), qr/^user=\Q$uid\E expires=\d+$/,
                         "$name - the session cookie names user $uid")
            or Test::More::diag("Set-Cookie: " . join(' | ', set_cookies($res)) . "\nlog:\n" . log_since($n, $offset));
    }
    my $log = log_since($n, $offset);
    for my $p (grep { length } map { s/^\s+|\s+$//gr } split /\n/, $block->error_log // '') {
        Test::More::ok(index($log, $p) >= 0, "$name - error log has \"$p\"")
            or Test::More::diag("this block's log:\n$log");
    }
    for my $p (grep { length } map { s/^\s+|\s+$//gr } split /\n/, $block->error_log_like // '') {
        Test::More::like($log, qr/$p/, "$name - error log matches /$p/");
    }
    for my $p (grep { length } map { s/^\s+|\s+$//gr } split /\n/, $block->no_error_log // '') {
        Test::More::ok(index($log, $p) < 0, "$name - error log has no \"$p\"")
            or Test::More::diag("this block's log:\n$log");
    }
    return $res;
}

# GET /whoami with a session cookie.
sub whoami {
    my ($self, $n, $cookie) = @_;
    my $res = $n->request(GET => '/whoami', headers => defined $cookie ? { Cookie => $cookie } : {});
    return $res->{body};
}

1;
