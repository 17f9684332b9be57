/*
 * Tests for the core's SAML C API (include/scim_saml.h): SP configuration,
 * identifiers and return paths, the login redirect, the ACS checks (with
 * responses signed once per run by the xmlsec1 command-line tool and the
 * clock moved through now_ms), linking to users, sessions and the replay
 * record in LMDB.
 */

#include <lmdb.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <time.h>
#include <zlib.h>

#include "scim_saml.h"
#include "unit.h"

#define IDP "https://idp.example.test/saml"
#define SSO "https://idp.example.test/sso"
#define SLO "https://idp.example.test/slo"
#define SPID "https://sp.example.test/saml"
#define ACS "https://sp.example.test/saml/acs"

static char fixtures[128];
static int64_t signed_at; /* ms: the time the fixtures were signed for */

static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) {
        fprintf(stderr, "fixture command failed: %s\n", cmd);
        exit(2);
    }
}

static char *path_of(const char *name)
{
    static char buf[8][256];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 256, "%s/%s", fixtures, name);
    return p;
}

static char *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(path_of(name), "rb");
    ck_assert_msg(f != NULL, "fixture %s is missing", name);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t) n + 1);
    ck_assert_int_eq(fread(s, 1, (size_t) n, f), (size_t) n);
    s[n] = '\0';
    fclose(f);
    if (len) *len = (size_t) n;
    return s;
}

static void iso(char *buf, size_t len, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A response template (IdP-initiated: no InResponseTo) for NAME_ID, valid
 * from signed_at - 60 s to signed_at + 300 s, with a signature template in
 * the assertion (digest and method as given) or none.
 */
static void write_template(const char *file, const char *name_id, const char *method,
                           const char *digest, int signature, const char *extra_subject)
{
    char now[32], before[32], after[32];
    time_t t = (time_t) (signed_at / 1000);
    iso(now, sizeof(now), t);
    iso(before, sizeof(before), t - 60);
    iso(after, sizeof(after), t + 300);
    FILE *f = fopen(path_of(file), "w");
    fprintf(f,
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
        "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r-%s\" Version=\"2.0\" "
        "IssueInstant=\"%s\" Destination=\"" ACS "\"><saml:Issuer>" IDP "</saml:Issuer>"
        "<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>"
        "</samlp:Status><saml:Assertion ID=\"_a-%s\" Version=\"2.0\" IssueInstant=\"%s\">"
        "<saml:Issuer>" IDP "</saml:Issuer>",
        file, now, file, now);
    if (signature) {
        fprintf(f,
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
            "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
            "<ds:SignatureMethod Algorithm=\"%s\"/><ds:Reference URI=\"#_a-%s\"><ds:Transforms>"
            "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
            "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>"
            "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>"
            "<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data>"
            "</ds:KeyInfo></ds:Signature>",
            method, file, digest);
    }
    fprintf(f,
        "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:"
        "emailAddress\">%s</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:"
        "SAML:2.0:cm:bearer\"><saml:SubjectConfirmationData Recipient=\"" ACS "\" "
        "NotOnOrAfter=\"%s\"/></saml:SubjectConfirmation>%s</saml:Subject>"
        "<saml:Conditions NotBefore=\"%s\" NotOnOrAfter=\"%s\"><saml:AudienceRestriction>"
        "<saml:Audience>" SPID "</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
        "<saml:AuthnStatement AuthnInstant=\"%s\" SessionIndex=\"_s-%s\"><saml:AuthnContext>"
        "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        "<saml:AttributeStatement><saml:Attribute Name=\"givenName\"><saml:AttributeValue>Ann"
        "</saml:AttributeValue></saml:Attribute><saml:Attribute Name=\"sn\"><saml:AttributeValue>"
        "Lee</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
        "</saml:Assertion></samlp:Response>",
        name_id, after, extra_subject, before, after, now, file);
    fclose(f);
}

#define RSA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define RSA1 "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
#define SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define SHA1 "http://www.w3.org/2000/09/xmldsig#sha1"

static void sign(const char *name, const char *key)
{
    sh("cd %s && xmlsec1 --sign --privkey-pem %s.key,%s.crt "
       "--id-attr:ID urn:oasis:names:tc:SAML:2.0:assertion:Assertion "
       "--output %s.xml %s.tmpl 2>/dev/null", fixtures, key, key, name, name);
}

/* Once per run: key pairs (openssl CLI), metadata, signed responses. */
static void fixtures_make(void)
{
    snprintf(fixtures, sizeof(fixtures), "/tmp/scim-unit-saml-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fixtures));
    const char *pairs[] = {"idp", "sp", "foreign"};
    for (int i = 0; i < 3; i++)
        sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout %s.key -out %s.crt "
           "-days 2 -subj /CN=%s 2>/dev/null", fixtures, pairs[i], pairs[i], pairs[i]);
    /* after the certificates: they are valid from the second they were made */
    signed_at = (int64_t) time(NULL) * 1000;
    /* IdP metadata with the idp certificate and an SLO URL */
    sh("cd %s && { printf '<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
       "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"" IDP "\">"
       "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
       "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'; "
       "grep -v CERTIFICATE idp.crt | tr -d '\\n'; "
       "printf '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
       "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" "
       "Location=\"" SLO "\"/><md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:"
       "bindings:HTTP-Redirect\" Location=\"" SSO "\"/></md:IDPSSODescriptor>"
       "</md:EntityDescriptor>'; } > idp-metadata.xml", fixtures);

    write_template("good.tmpl", "ann@example.com", RSA256, SHA256, 1, "");
    sign("good", "idp");
    write_template("other.tmpl", "ann@example.com", RSA256, SHA256, 1, "");
    sign("other", "idp");
    /* a second bearer confirmation that stays usable for an hour */
    {
        char later[32], extra[512];
        iso(later, sizeof(later), (time_t) (signed_at / 1000) + 3600);
        snprintf(extra, sizeof(extra),
                 "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">"
                 "<saml:SubjectConfirmationData Recipient=\"" ACS "\" NotOnOrAfter=\"%s\"/>"
                 "</saml:SubjectConfirmation>", later);
        write_template("twoconf.tmpl", "ann@example.com", RSA256, SHA256, 1, extra);
        sign("twoconf", "idp");
    }
    write_template("nobody.tmpl", "nobody@example.com", RSA256, SHA256, 1, "");
    sign("nobody", "idp");
    write_template("foreign.tmpl", "ann@example.com", RSA256, SHA256, 1, "");
    sign("foreign", "foreign");
    write_template("sha1.tmpl", "ann@example.com", RSA1, SHA1, 1, "");
    sign("sha1", "idp");
    write_template("unsigned.tmpl", "ann@example.com", RSA256, SHA256, 0, "");
    sh("cp %s/unsigned.tmpl %s/unsigned.xml", fixtures, fixtures);
    write_template("comment.tmpl", "ann@example.com.evil.test", RSA256, SHA256, 1, "");
    sign("comment", "idp");
    /* after signing: a comment inside the NameID keeps the signature valid */
    sh("cd %s && sed -i 's/ann@example.com.evil.test/ann@example.com<!---->.evil.test/' comment.xml",
       fixtures);
    /* an encrypted copy of good.xml for the sp certificate */
    sh("cd %s && sed 's|<saml:Assertion |<saml:EncryptedAssertion><saml:Assertion |; "
       "s|</saml:Assertion>|</saml:Assertion></saml:EncryptedAssertion>|' other.xml > to-enc.xml && "
       "printf '%%s' '<xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" "
       "Type=\"http://www.w3.org/2001/04/xmlenc#Element\"><xenc:EncryptionMethod "
       "Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/><ds:KeyInfo "
       "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><xenc:EncryptedKey><xenc:EncryptionMethod "
       "Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/><xenc:CipherData>"
       "<xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData>"
       "<xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>' > enc.tmpl && "
       "xmlsec1 --encrypt --pubkey-cert-pem sp.crt --session-key aes-128 --xml-data to-enc.xml "
       "--node-xpath \"//*[local-name()='Assertion']\" --output enc.xml enc.tmpl 2>/dev/null",
       fixtures);
    /* its cipher data by reference: a local file */
    sh("cd %s && perl -0pe 's{(.*)<xenc:CipherValue>[^<]*</xenc:CipherValue>}"
       "{$1<xenc:CipherReference URI=\"file:///etc/passwd\"/>}s' enc.xml > cipherref.xml", fixtures);
}

static void fixtures_remove(void)
{
    sh("rm -rf '%s'", fixtures);
}

/* The HTTP-POST binding form of a fixture: SAMLResponse=<base64, url-encoded> */
static char *form_of(const char *name, size_t *len)
{
    size_t n;
    char *xml = slurp(name, &n);
    unsigned char *b64 = malloc(4 * (n / 3 + 2));
    int m = EVP_EncodeBlock(b64, (unsigned char *) xml, (int) n);
    char *form = malloc(16 + 3 * (size_t) m);
    size_t o = (size_t) sprintf(form, "SAMLResponse=");
    for (int i = 0; i < m; i++) {
        if (b64[i] == '+' || b64[i] == '/' || b64[i] == '=')
            o += (size_t) sprintf(form + o, "%%%02X", b64[i]);
        else
            form[o++] = (char) b64[i];
    }
    form[o] = '\0';
    free(xml);
    free(b64);
    *len = o;
    return form;
}

static scim_directory_t *dir;
static scim_saml_sp_t *sp;
static char err[1024];

/* An SP as the glue builds it: metadata, our IDs, idp_initiated on. */
static scim_saml_sp_t *sp_make(int idp_initiated, int with_key)
{
    scim_saml_sp_t *s;
    scim_saml_policy_t policy;
    ck_assert_int_eq(scim_saml_sp_new(dir, &s, err, sizeof(err)), SCIM_OK);
    ck_assert_msg(scim_saml_sp_load_idp_metadata(s, path_of("idp-metadata.xml"), signed_at, err,
                                                 sizeof(err)) == SCIM_OK, "metadata: %s", err);
    ck_assert_int_eq(scim_saml_sp_set(s, SCIM_SAML_SP_ENTITY_ID, SPID, strlen(SPID), err,
                                      sizeof(err)), SCIM_OK);
    ck_assert_int_eq(scim_saml_sp_set(s, SCIM_SAML_SP_ACS_URL, ACS, strlen(ACS), err,
                                      sizeof(err)), SCIM_OK);
    if (with_key) {
        ck_assert_msg(scim_saml_sp_load_sp_key(s, path_of("sp.key"), err, sizeof(err)) == SCIM_OK,
                      "%s", err);
        ck_assert_msg(scim_saml_sp_load_sp_cert(s, path_of("sp.crt"), signed_at, err,
                                                sizeof(err)) == SCIM_OK, "%s", err);
    }
    scim_saml_policy_default(&policy);
    policy.idp_initiated = (unsigned) idp_initiated;
    policy.jit = 0;
    ck_assert_int_eq(scim_saml_sp_set_policy(s, &policy, err, sizeof(err)), SCIM_OK);
    ck_assert_msg(scim_saml_sp_finish(s, err, sizeof(err)) == SCIM_OK, "finish: %s", err);
    return s;
}

static void setup(void)
{
    ck_assert_int_eq(scim_directory_new("test", 4, &dir, NULL, 0), SCIM_OK);
    sp = sp_make(1, 1);
}

static void teardown(void)
{
    scim_saml_sp_free(sp);
    scim_directory_free(dir);
}

/* Verify a fixture at a time; returns the code, leaves the assertion. */
static int verify(const char *name, int64_t now, scim_saml_assertion_t *a)
{
    size_t len;
    char *form = form_of(name, &len);
    int rc = scim_saml_acs_verify(sp, form, len, now, a);
    free(form);
    return rc;
}

static void expect_refusal(const char *name, int64_t now, int code, const char *reason)
{
    scim_saml_assertion_t a;
    int rc = verify(name, now, &a);
    ck_assert_msg(rc == code, "%s: expected %d (%s), got %d: %s", name, code, scim_strerror(code),
                  rc, a.reason);
    ck_assert_msg(strstr(a.reason, reason) != NULL, "%s: expected \"%s\" in \"%s\"", name, reason,
                  a.reason);
    scim_saml_assertion_free(&a);
}

/* --- configuration ------------------------------------------------------- */

START_TEST(sp_metadata_and_settings)
{
    size_t len;
    const char *md = scim_saml_sp_metadata(sp, &len);
    ck_assert_ptr_nonnull(md);
    ck_assert_uint_eq(strlen(md), len);
    ck_assert_ptr_nonnull(strstr(md, "entityID=\"" SPID "\""));
    ck_assert_ptr_nonnull(strstr(md, "AuthnRequestsSigned=\"true\""));
    ck_assert_ptr_nonnull(strstr(md, "<md:KeyDescriptor use=\"encryption\">"));
    ck_assert_ptr_nonnull(strstr(md, "Location=\"" ACS "\" index=\"0\" isDefault=\"true\""));
    ck_assert_str_eq(scim_saml_sp_get(sp, SCIM_SAML_IDP_ENTITY_ID), IDP);
    ck_assert_str_eq(scim_saml_sp_get(sp, SCIM_SAML_IDP_SSO_URL), SSO);
    ck_assert_str_eq(scim_saml_sp_get(sp, SCIM_SAML_IDP_SLO_URL), SLO);
    ck_assert_int_eq(scim_saml_sp_has_slo(sp), 1);
    ck_assert_int_eq(scim_saml_sp_policy(sp)->idp_initiated, 1);
}
END_TEST

static const struct {
    scim_saml_option_t option;
    const char *value;
    const char *reason;
} bad_settings[] = {
    {SCIM_SAML_SP_ACS_URL, "/saml/acs", "must be an absolute http:// or https:// URL"},
    {SCIM_SAML_SP_ACS_URL, "https:///acs", "has no host"},
    {SCIM_SAML_SP_ACS_URL, "https://sp.test/acs#x", "must not have a fragment"},
    {SCIM_SAML_IDP_SSO_URL, "https://idp.test/a b", "holds a space"},
    {SCIM_SAML_SP_ENTITY_ID, "", "must not be empty"},
    {SCIM_SAML_SP_ENTITY_ID, "a\nb", "holds a control character"},
};

START_TEST(sp_refuses_bad_settings)
{
    scim_saml_sp_t *s;
    ck_assert_int_eq(scim_saml_sp_new(dir, &s, err, sizeof(err)), SCIM_OK);
    int rc = scim_saml_sp_set(s, bad_settings[_i].option, bad_settings[_i].value,
                              strlen(bad_settings[_i].value), err, sizeof(err));
    ck_assert_int_eq(rc, SCIM_EINVAL);
    ck_assert_msg(strstr(err, bad_settings[_i].reason) != NULL, "got \"%s\"", err);
    scim_saml_sp_free(s);
}
END_TEST

START_TEST(sp_refuses_bad_files)
{
    scim_saml_sp_t *s;
    ck_assert_int_eq(scim_saml_sp_new(dir, &s, err, sizeof(err)), SCIM_OK);
    ck_assert_int_eq(scim_saml_sp_load_idp_metadata(s, "/nonexistent.xml", signed_at, err,
                                                    sizeof(err)), ENOENT);
    ck_assert_int_eq(scim_saml_sp_load_idp_metadata(s, path_of("idp.crt"), signed_at, err,
                                                    sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "is not well-formed XML") != NULL, "got \"%s\"", err);
    ck_assert_int_eq(scim_saml_sp_add_idp_cert(s, path_of("idp.key"), signed_at, err,
                                               sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "is not a PEM certificate") != NULL, "got \"%s\"", err);
    /* the certificates were made for 2 days: 3 days later they expired */
    ck_assert_int_eq(scim_saml_sp_add_idp_cert(s, path_of("idp.crt"),
                                               signed_at + 3 * 86400 * 1000LL, err, sizeof(err)),
                     SCIM_EINVAL);
    ck_assert_msg(strstr(err, "expired on") != NULL, "got \"%s\"", err);
    ck_assert_int_eq(scim_saml_sp_add_idp_cert(s, path_of("idp.crt"),
                                               signed_at - 86400 * 1000LL, err, sizeof(err)),
                     SCIM_EINVAL);
    ck_assert_msg(strstr(err, "is not valid before") != NULL, "got \"%s\"", err);
    ck_assert_int_eq(scim_saml_sp_load_sp_key(s, path_of("foreign.key"), err, sizeof(err)),
                     SCIM_OK);
    ck_assert_int_eq(scim_saml_sp_load_sp_cert(s, path_of("sp.crt"), signed_at, err,
                                               sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "does not match sp_cert") != NULL, "got \"%s\"", err);
    ck_assert_int_eq(scim_saml_sp_finish(s, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "no IdP entityID") != NULL, "got \"%s\"", err);
    scim_saml_sp_free(s);
}
END_TEST

/* --- identifiers, return paths, redirects -------------------------------- */

START_TEST(ids_round_trip)
{
    unsigned char id[SCIM_SAML_SESSION_ID_SIZE], back[SCIM_SAML_SESSION_ID_SIZE];
    char cookie[SCIM_SAML_COOKIE_SIZE], other[SCIM_SAML_COOKIE_SIZE];
    ck_assert_int_eq(scim_saml_new_id(id, cookie), SCIM_OK);
    ck_assert_uint_eq(strlen(cookie), SCIM_SAML_COOKIE_SIZE - 1);
    ck_assert_int_eq(scim_saml_decode_id(cookie, strlen(cookie), back), SCIM_OK);
    ck_assert_int_eq(memcmp(id, back, sizeof(id)), 0);
    ck_assert_int_eq(scim_saml_new_id(id, other), SCIM_OK);
    ck_assert_str_ne(cookie, other);
    ck_assert_int_eq(scim_saml_decode_id(cookie, 42, back), SCIM_EINVAL);
    cookie[5] = '+';
    ck_assert_int_eq(scim_saml_decode_id(cookie, strlen(cookie), back), SCIM_EINVAL);
    cookie[5] = '*';
    ck_assert_int_eq(scim_saml_decode_id(cookie, strlen(cookie), back), SCIM_EINVAL);
}
END_TEST

/* the decoder takes four digits a step: every position refuses every byte
 * that is not a base64url digit, and the last digit's two spare bits are
 * ignored as base64 ignores them */
START_TEST(ids_decode_every_byte)
{
    int pos, b, valid;
    unsigned char id[SCIM_SAML_SESSION_ID_SIZE], back[SCIM_SAML_SESSION_ID_SIZE];
    char cookie[SCIM_SAML_COOKIE_SIZE], t[SCIM_SAML_COOKIE_SIZE];
    ck_assert_int_eq(scim_saml_new_id(id, cookie), SCIM_OK);
    for (pos = 0; pos < SCIM_SAML_COOKIE_SIZE - 1; pos++) {
        for (b = 0; b < 256; b++) {
            memcpy(t, cookie, sizeof(t));
            t[pos] = (char) b;
            valid = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
                    || b == '-' || b == '_';
            ck_assert_int_eq(scim_saml_decode_id(t, SCIM_SAML_COOKIE_SIZE - 1, back),
                             valid ? SCIM_OK : SCIM_EINVAL);
        }
    }
    memcpy(t, cookie, sizeof(t));
    t[42] = 'A';
    ck_assert_int_eq(scim_saml_decode_id(t, 43, id), SCIM_OK);
    t[42] = 'D';
    ck_assert_int_eq(scim_saml_decode_id(t, 43, back), SCIM_OK);
    ck_assert_int_eq(memcmp(id, back, sizeof(id)), 0);
    t[42] = 'E';
    ck_assert_int_eq(scim_saml_decode_id(t, 43, back), SCIM_OK);
    ck_assert_int_ne(memcmp(id, back, sizeof(id)), 0);
}
END_TEST

static const struct {
    const char *path;
    int ok;
} return_paths[] = {
    {"/", 1},
    {"/wiki/Page%20One?x=1&y=2#top", 1},
    {"/a/b/../c", 1},
    {"", 0},
    {"wiki", 0},
    {"//evil.test/", 0},
    {"/\\evil.test/", 0},
    {"/ok\\..\\x", 0},
    {"https://evil.test/", 0},
    {"javascript:alert(1)", 0},
    {"/a b", 0},
    {"/a\r\nSet-Cookie: x", 0},
    {"/caf\xc3\xa9", 0},
};

START_TEST(return_path_table)
{
    ck_assert_msg(scim_saml_return_path_ok(return_paths[_i].path, strlen(return_paths[_i].path))
                      == return_paths[_i].ok,
                  "\"%s\" should be %s", return_paths[_i].path,
                  return_paths[_i].ok ? "accepted" : "refused");
}
END_TEST

/* The AuthnRequest inside a redirect URL, inflated. */
static char *inflated_request(const char *location)
{
    const char *p = strstr(location, "SAMLRequest=");
    ck_assert_ptr_nonnull(p);
    p += 12;
    char b64[8192];
    size_t n = 0;
    for (; *p && *p != '&' && n < sizeof(b64) - 1; p++) {
        if (*p == '%') {
            unsigned v;
            sscanf(p + 1, "%2x", &v);
            b64[n++] = (char) v;
            p += 2;
        } else {
            b64[n++] = *p;
        }
    }
    b64[n] = '\0';
    unsigned char raw[8192];
    int m = EVP_DecodeBlock(raw, (unsigned char *) b64, (int) n);
    ck_assert_int_gt(m, 0);
    while (n && b64[n - 1] == '=') { m--; n--; }
    static char xml[16384];
    z_stream z;
    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(inflateInit2(&z, -15), Z_OK);
    z.next_in = raw;
    z.avail_in = (unsigned) m;
    z.next_out = (unsigned char *) xml;
    z.avail_out = sizeof(xml) - 1;
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    xml[z.total_out] = '\0';
    inflateEnd(&z);
    return xml;
}

START_TEST(login_redirect)
{
    scim_saml_redirect_t r, r2;
    ck_assert_int_eq(scim_saml_login_redirect(sp, "/wiki/", 6, signed_at, &r, err, sizeof(err)),
                     SCIM_OK);
    ck_assert_msg(strncmp(r.location, SSO "?SAMLRequest=", strlen(SSO) + 13) == 0, "got %s",
                  r.location);
    ck_assert_ptr_nonnull(strstr(r.location, "&RelayState=%2Fwiki%2F&SigAlg="));
    ck_assert_ptr_nonnull(strstr(r.location, "&Signature="));
    ck_assert_uint_eq(strlen(r.request_id), 41);
    char *xml = inflated_request(r.location);
    char want[128];
    snprintf(want, sizeof(want), "ID=\"%s\"", r.request_id);
    ck_assert_msg(strstr(xml, want) != NULL, "no %s in %s", want, xml);
    ck_assert_ptr_nonnull(strstr(xml, "AssertionConsumerServiceURL=\"" ACS "\""));
    ck_assert_int_eq(scim_saml_login_redirect(sp, "", 0, signed_at, &r2, err, sizeof(err)),
                     SCIM_OK);
    ck_assert_str_ne(r.request_id, r2.request_id);
    ck_assert_ptr_nonnull(strstr(r2.location, "&RelayState=%2F&"));
    scim_saml_redirect_free(&r);
    scim_saml_redirect_free(&r2);
    ck_assert_ptr_null(r.location);
    ck_assert_int_eq(scim_saml_login_redirect(sp, "//evil.test", 11, signed_at, &r, err,
                                              sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "only a relative path on this site") != NULL, "got \"%s\"", err);
    scim_saml_redirect_free(&r);
}
END_TEST

/* --- the ACS ------------------------------------------------------------- */

START_TEST(acs_accepts_a_signed_response)
{
    scim_saml_assertion_t a;
    int rc = verify("good.xml", signed_at, &a);
    ck_assert_msg(rc == SCIM_OK, "%s", a.reason);
    ck_assert_str_eq(a.name_id, "ann@example.com");
    ck_assert_str_eq(a.login, "ann@example.com");
    ck_assert_str_eq(a.issuer, IDP);
    ck_assert_str_eq(a.assertion_id, "_a-good.tmpl");
    ck_assert_str_eq(a.session_index, "_s-good.tmpl");
    ck_assert_ptr_null(a.in_response_to);
    ck_assert_ptr_null(a.attributes);  /* read only for jit and login_attribute */
    /* remembered until the latest NotOnOrAfter (+300 s) plus the skew */
    ck_assert_int_eq(a.replay_until, (signed_at / 1000 + 300 + 180) * 1000);
    scim_saml_assertion_free(&a);
    scim_saml_assertion_free(&a);  /* idempotent */
}
END_TEST

/* Replay: the ID is kept as long as any of its bearer confirmations could
 * still pass, not only until the end of the one that passed first. */
START_TEST(acs_remembers_until_the_last_confirmation_ends)
{
    scim_saml_assertion_t a;
    int rc = verify("twoconf.xml", signed_at, &a);
    ck_assert_msg(rc == SCIM_OK, "%s", a.reason);
    ck_assert_msg(a.replay_until == (signed_at / 1000 + 3600 + 180) * 1000,
                  "replay_until: expected %lld, got %lld",
                  (long long) ((signed_at / 1000 + 3600 + 180) * 1000), (long long) a.replay_until);
    scim_saml_assertion_free(&a);
}
END_TEST

START_TEST(acs_decrypts_with_sp_key)
{
    scim_saml_assertion_t a;
    int rc = verify("enc.xml", signed_at, &a);
    ck_assert_msg(rc == SCIM_OK, "%s", a.reason);
    ck_assert_str_eq(a.name_id, "ann@example.com");
    scim_saml_assertion_free(&a);
}
END_TEST

START_TEST(acs_refusals)
{
    const int64_t hour = 3600 * 1000;
    expect_refusal("unsigned.xml", signed_at, SCIM_SAML_EINVALID, "neither the Response nor");
    expect_refusal("foreign.xml", signed_at, SCIM_SAML_EINVALID, "does not verify");
    expect_refusal("sha1.xml", signed_at, SCIM_SAML_EINVALID, "uses SHA-1");
    expect_refusal("cipherref.xml", signed_at, SCIM_SAML_EINVALID, "(CipherReference)");
    expect_refusal("good.xml", signed_at + hour, SCIM_SAML_EINVALID, "NotOnOrAfter");
    expect_refusal("good.xml", signed_at - hour, SCIM_SAML_EINVALID, "not yet valid");
    /* within the clock skew (180 s) on both ends */
    scim_saml_assertion_t a;
    ck_assert_int_eq(verify("good.xml", signed_at + 400 * 1000, &a), SCIM_OK);
    scim_saml_assertion_free(&a);
    ck_assert_int_eq(verify("good.xml", signed_at - 200 * 1000, &a), SCIM_OK);
    scim_saml_assertion_free(&a);
}
END_TEST

START_TEST(acs_reads_the_nameid_canonically)
{
    scim_saml_assertion_t a;
    int rc = verify("comment.xml", signed_at, &a);
    ck_assert_msg(rc == SCIM_OK, "the signature still holds: %s", a.reason);
    ck_assert_str_eq(a.name_id, "ann@example.com.evil.test");
    scim_saml_assertion_free(&a);
}
END_TEST

static const struct {
    const char *body;
    int code;
    const char *reason;
} bad_bodies[] = {
    {"SAMLResponse=%%%", SCIM_SAML_EMALFORMED, "not valid form encoding"},
    {"SAMLResponse=ab*c", SCIM_SAML_EMALFORMED, "not valid base64"},
    {"RelayState=%2F", SCIM_SAML_EMALFORMED, "no SAMLResponse"},
    {"SAMLResponse=PHg%2BPC94Pg%3D%3D", SCIM_SAML_EMALFORMED, "expected a samlp:Response"},
    /* <!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x> */
    {"SAMLResponse=PCFET0NUWVBFIHggWzwhRU5USVRZIGUgImUiPl0%2BPHg%2BJmU7PC94Pg%3D%3D",
     SCIM_SAML_EMALFORMED, "has a DOCTYPE"},
};

START_TEST(acs_refuses_malformed_bodies)
{
    scim_saml_assertion_t a;
    int rc = scim_saml_acs_verify(sp, bad_bodies[_i].body, strlen(bad_bodies[_i].body),
                                  signed_at, &a);
    ck_assert_msg(rc == bad_bodies[_i].code, "got %d: %s", rc, a.reason);
    ck_assert_msg(strstr(a.reason, bad_bodies[_i].reason) != NULL, "got \"%s\"", a.reason);
    scim_saml_assertion_free(&a);
}
END_TEST

START_TEST(acs_limits_and_policy)
{
    scim_saml_policy_t policy = *scim_saml_sp_policy(sp);
    policy.max_response_size = 1024;
    ck_assert_int_eq(scim_saml_sp_set_policy(sp, &policy, err, sizeof(err)), SCIM_OK);
    expect_refusal("good.xml", signed_at, SCIM_SAML_ETOOBIG, "max_response_size is 1024");
    policy.max_response_size = 128 * 1024;
    policy.idp_initiated = 0;
    ck_assert_int_eq(scim_saml_sp_set_policy(sp, &policy, err, sizeof(err)), SCIM_OK);
    expect_refusal("good.xml", signed_at, SCIM_SAML_EINVALID, "IdP-initiated login is off");
    policy.max_response_size = 10;
    ck_assert_int_eq(scim_saml_sp_set_policy(sp, &policy, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "max_response_size \"10\" is out of range: expected a size from "
                              "1k to 64m") != NULL, "got \"%s\"", err);
    policy.max_response_size = 128 * 1024;
    policy.clock_skew_ms = 2 * 3600 * 1000;
    ck_assert_int_eq(scim_saml_sp_set_policy(sp, &policy, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "clock_skew \"7200000ms\" is out of range") != NULL, "got \"%s\"",
                  err);
}
END_TEST

static const struct {
    scim_saml_limit_t which;
    int64_t value;
    const char *text;
    int rc;
    const char *message;
} limits[] = {
    { SCIM_SAML_CLOCK_SKEW, 0, "0", SCIM_OK, "" },
    { SCIM_SAML_CLOCK_SKEW, 3600 * 1000, "1h", SCIM_OK, "" },
    { SCIM_SAML_CLOCK_SKEW, 86400 * 1000, "1d", SCIM_EINVAL,
      "clock_skew \"1d\" is out of range: expected a time from 0 to 1h" },
    { SCIM_SAML_CLOCK_SKEW, -1, "3x", SCIM_EINVAL,
      "clock_skew \"3x\" is not a time: expected a time from 0 to 1h, such as 3m" },
    { SCIM_SAML_SESSION_IDLE, 0, "0", SCIM_EINVAL,
      "session_idle \"0\" is out of range: expected a time from 1s to 365d" },
    { SCIM_SAML_SESSION_LIFETIME, 365LL * 86400 * 1000, "365d", SCIM_OK, "" },
    { SCIM_SAML_SESSION_LIFETIME, INT64_MAX, "huge", SCIM_EINVAL, "is out of range" },
    { SCIM_SAML_MAX_RESPONSE_SIZE, 1023, "1023", SCIM_EINVAL,
      "max_response_size \"1023\" is out of range: expected a size from 1k to 64m" },
    { SCIM_SAML_MAX_RESPONSE_SIZE, 64 << 20, "64m", SCIM_OK, "" },
    { SCIM_SAML_MAX_RESPONSE_SIZE, -1, "lots", SCIM_EINVAL,
      "max_response_size \"lots\" is not a size: expected a size from 1k to 64m" },
    { SCIM_SAML_LIMIT_COUNT, 0, "0", SCIM_EINVAL, "unknown SAML setting" },
};

START_TEST(policy_limits_name_the_setting_and_its_range)
{
    char msg[256] = "";
    int rc = scim_saml_policy_check(limits[_i].which, limits[_i].value, limits[_i].text,
                                    strlen(limits[_i].text), msg, sizeof(msg));
    ck_assert_msg(rc == limits[_i].rc, "limit %d: expected rc %d, got %d (%s)", _i,
                  limits[_i].rc, rc, msg);
    ck_assert_msg(strstr(msg, limits[_i].message) != NULL,
                  "limit %d: expected a message with \"%s\", got \"%s\"", _i,
                  limits[_i].message, msg);
}
END_TEST

/* --- users, sessions, replay in LMDB ------------------------------------- */

static unit_env_t env;

static void store_setup(void)
{
    unit_env_open(&env);
    dir = env.dir;
    sp = sp_make(1, 1);
}

static void store_teardown(void)
{
    scim_saml_sp_free(sp);
    unit_env_close(&env);
}

static void provision(const char *email, const char *active)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"%s\","
             "\"emails\":[{\"value\":\"%s\",\"primary\":true}]%s%s}",
             email, email, active ? ",\"active\":" : "", active ? active : "");
    scim_request_t req = unit_request(SCIM_METHOD_POST, "/Users", NULL, body, env.auth);
    scim_response_t resp;
    json_t *j = unit_call(env.store, dir, &req, &resp);
    ck_assert_msg(resp.status == 201, "provisioning %s: %d", email, resp.status);
    json_decref(j);
    scim_response_free(&resp);
}

static void assertion_of(const char *name, scim_saml_assertion_t *a)
{
    int rc = verify(name, signed_at, a);
    ck_assert_msg(rc == SCIM_OK, "%s: %s", name, a->reason);
}

START_TEST(link_to_provisioned_users)
{
    scim_saml_assertion_t a, b;
    scim_saml_user_t u;
    assertion_of("good.xml", &a);
    ck_assert_int_eq(scim_saml_link_user(env.store, sp, &a, &u), SCIM_SAML_ENOUSER);
    ck_assert_msg(strstr(u.reason, "no user of directory \"test\" has this primary e-mail"),
                  "got \"%s\"", u.reason);
    provision("ANN@example.com", NULL);
    ck_assert_msg(scim_saml_link_user(env.store, sp, &a, &u) == SCIM_OK, "%s", u.reason);
    ck_assert_uint_eq(strlen(u.id), 36);
    ck_assert_int_eq(u.created, 0);

    assertion_of("nobody.xml", &b);
    provision("nobody@example.com", "false");
    ck_assert_int_eq(scim_saml_link_user(env.store, sp, &b, &u), SCIM_SAML_EINACTIVE);
    ck_assert_msg(strstr(u.reason, "is deactivated (active: false)"), "got \"%s\"", u.reason);
    scim_saml_assertion_free(&a);
    scim_saml_assertion_free(&b);
}
END_TEST

START_TEST(jit_creates_the_user)
{
    scim_saml_policy_t policy = *scim_saml_sp_policy(sp);
    policy.jit = 1;
    ck_assert_int_eq(scim_saml_sp_set_policy(sp, &policy, err, sizeof(err)), SCIM_OK);
    scim_saml_assertion_t a;
    scim_saml_user_t u, again;
    assertion_of("good.xml", &a);
    ck_assert_msg(scim_saml_link_user(env.store, sp, &a, &u) == SCIM_OK, "%s", u.reason);
    ck_assert_int_eq(u.created, 1);
    ck_assert_int_eq(scim_saml_link_user(env.store, sp, &a, &again), SCIM_OK);
    ck_assert_int_eq(again.created, 0);
    ck_assert_str_eq(again.id, u.id);

    char path[160];
    snprintf(path, sizeof(path), "/Users/%s", u.id);
    scim_request_t req = unit_request(SCIM_METHOD_GET, path, NULL, NULL, env.auth);
    scim_response_t resp;
    json_t *j = unit_call(env.store, dir, &req, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "userName")), "ann@example.com");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "name"), "givenName")),
                     "Ann");
    ck_assert_str_eq(json_string_value(json_object_get(j, "displayName")), "Ann Lee");
    json_decref(j);
    scim_response_free(&resp);
    scim_saml_assertion_free(&a);
}
END_TEST

static void login(scim_saml_assertion_t *a, scim_saml_user_t *u, unsigned char *id,
                  scim_saml_login_t *l, int64_t now)
{
    memset(l, 0, sizeof(*l));
    l->sp = sp;
    l->assertion = a;
    l->user = u;
    l->session_id = id;
    ck_assert_int_eq(scim_saml_login_commit(env.store, l, 1, now), SCIM_OK);
}

START_TEST(sessions_and_replay)
{
    scim_saml_assertion_t a;
    scim_saml_user_t u;
    scim_saml_login_t l, l2;
    scim_saml_session_t s;
    unsigned char id[32], id2[32];
    char cookie[44];
    const int64_t now = signed_at;
    const int64_t idle = scim_saml_sp_policy(sp)->session_idle_ms;

    provision("ann@example.com", NULL);
    assertion_of("good.xml", &a);
    ck_assert_int_eq(scim_saml_link_user(env.store, sp, &a, &u), SCIM_OK);
    ck_assert_int_eq(scim_saml_new_id(id, cookie), SCIM_OK);
    login(&a, &u, id, &l, now);
    ck_assert_int_eq(l.rc, SCIM_OK);
    ck_assert_str_eq(l.session.user_id, u.id);
    ck_assert_str_eq(l.session.name_id, "ann@example.com");
    ck_assert_str_eq(l.session.session_index, "_s-good.tmpl");
    ck_assert_int_eq(l.session.expires, now + scim_saml_sp_policy(sp)->session_lifetime_ms);

    /* the same assertion again, through another store handle: replay */
    ck_assert_int_eq(scim_saml_new_id(id2, cookie), SCIM_OK);
    scim_store_close(env.store);
    ck_assert_int_eq(scim_store_open(env.path, 64 << 20, &env.store, err, sizeof(err)), SCIM_OK);
    login(&a, &u, id2, &l2, now + 1000);
    ck_assert_int_eq(l2.rc, SCIM_SAML_EREPLAY);
    ck_assert_int_eq(scim_saml_session_get(env.store, sp, id2, now, &s), SCIM_ENOTFOUND);
    /* once the assertion itself has expired, its ID may be forgotten */
    login(&a, &u, id2, &l2, a.replay_until + 1);
    ck_assert_int_eq(l2.rc, SCIM_OK);

    ck_assert_int_eq(scim_saml_session_get(env.store, sp, id, now + 1000, &s), SCIM_OK);
    ck_assert_str_eq(s.user_id, u.id);
    /* idle: untouched past session_idle it ends, and is then gone */
    ck_assert_int_eq(scim_saml_session_touch(env.store, sp, id, now + idle - 1000), SCIM_OK);
    ck_assert_int_eq(scim_saml_session_get(env.store, sp, id, now + idle + 500, &s), SCIM_OK);
    ck_assert_int_eq(s.last_access, now + idle - 1000);
    ck_assert_int_eq(scim_saml_session_get(env.store, sp, id, now + 2 * idle, &s),
                     SCIM_SAML_EEXPIRED);
    ck_assert_int_eq(scim_saml_session_get(env.store, sp, id, now, &s), SCIM_ENOTFOUND);
    ck_assert_int_eq(scim_saml_session_touch(env.store, sp, id, now), SCIM_ENOTFOUND);

    /* delete (logout) */
    ck_assert_int_eq(scim_saml_session_get(env.store, sp, id2, a.replay_until + 2, &s), SCIM_OK);
    ck_assert_int_eq(scim_saml_session_delete(env.store, sp, id2), SCIM_OK);
    ck_assert_int_eq(scim_saml_session_delete(env.store, sp, id2), SCIM_ENOTFOUND);
    scim_saml_assertion_free(&a);
}
END_TEST

/* The number of records in a named database, read with LMDB itself (the
 * store is closed meanwhile: LMDB forbids two handles in one process). */
static size_t entries(const char *db)
{
    MDB_env *menv;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat ms;
    scim_store_close(env.store);
    ck_assert_int_eq(mdb_env_create(&menv), 0);
    mdb_env_set_maxdbs(menv, 16);
    ck_assert_int_eq(mdb_env_open(menv, env.path, MDB_RDONLY, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(menv, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
    ck_assert_int_eq(mdb_stat(txn, dbi, &ms), 0);
    mdb_txn_abort(txn);
    mdb_env_close(menv);
    ck_assert_int_eq(scim_store_open(env.path, 64 << 20, &env.store, err, sizeof(err)), SCIM_OK);
    return (size_t) ms.ms_entries;
}

/* Logs a in under a made-up assertion ID (each login needs its own). */
static void login_as(scim_saml_assertion_t *a, scim_saml_user_t *u, const char *aid, int64_t now)
{
    scim_saml_login_t l;
    unsigned char id[32];
    char cookie[44], *saved = a->assertion_id;
    ck_assert_int_eq(scim_saml_new_id(id, cookie), SCIM_OK);
    a->assertion_id = (char *) aid;
    login(a, u, id, &l, now);
    a->assertion_id = saved;
    ck_assert_int_eq(l.rc, SCIM_OK);
}

START_TEST(commits_sweep_expired_records)
{
    scim_saml_assertion_t a;
    scim_saml_user_t u;
    char aid[32];
    provision("ann@example.com", NULL);
    assertion_of("good.xml", &a);
    ck_assert_int_eq(scim_saml_link_user(env.store, sp, &a, &u), SCIM_OK);
    for (int i = 0; i < 20; i++) {
        snprintf(aid, sizeof(aid), "_early-%d", i);
        login_as(&a, &u, aid, signed_at);
    }
    ck_assert_uint_eq(entries("sessions"), 20);
    ck_assert_uint_eq(entries("replay"), 20);
    /* two days later every one of them has expired: six commits (sweeping
     * 8 index entries each) remove all 40 records, though none was read */
    const int64_t later = signed_at + 2 * 86400 * 1000LL;
    a.replay_until = later + 600 * 1000;
    for (int i = 0; i < 6; i++) {
        snprintf(aid, sizeof(aid), "_later-%d", i);
        login_as(&a, &u, aid, later);
    }
    ck_assert_uint_eq(entries("sessions"), 6);
    ck_assert_uint_eq(entries("replay"), 6);
    ck_assert_uint_eq(entries("expiry"), 12);
    scim_saml_assertion_free(&a);
}
END_TEST

START_TEST(logout_redirect)
{
    scim_saml_session_t s;
    scim_saml_redirect_t r;
    memset(&s, 0, sizeof(s));
    strcpy(s.name_id, "ann@example.com");
    strcpy(s.name_id_format, "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    strcpy(s.session_index, "_s1");
    ck_assert_int_eq(scim_saml_logout_redirect(sp, &s, "/bye", 4, signed_at, &r, err,
                                               sizeof(err)), SCIM_OK);
    ck_assert_msg(strncmp(r.location, SLO "?SAMLRequest=", strlen(SLO) + 13) == 0, "%s",
                  r.location);
    char *xml = inflated_request(r.location);
    ck_assert_ptr_nonnull(strstr(xml, "<samlp:LogoutRequest "));
    ck_assert_ptr_nonnull(strstr(xml, ">ann@example.com</saml:NameID>"));
    ck_assert_ptr_nonnull(strstr(xml, "<samlp:SessionIndex>_s1</samlp:SessionIndex>"));
    scim_saml_redirect_free(&r);
}
END_TEST

START_TEST(strerror_knows_saml_codes)
{
    ck_assert_str_eq(scim_strerror(SCIM_SAML_EREPLAY), "the SAML assertion was already used");
    ck_assert_str_eq(scim_strerror(SCIM_SAML_ENOUSER), "no provisioned user matches the login");
    ck_assert_str_eq(scim_strerror(SCIM_SAML_EINACTIVE), "the user is deactivated");
}
END_TEST

static Suite *saml_suite(void)
{
    Suite *s = suite_create("saml");
    TCase *tc = tcase_create("sp");
    tcase_add_unchecked_fixture(tc, fixtures_make, NULL);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sp_metadata_and_settings);
    tcase_add_loop_test(tc, sp_refuses_bad_settings, 0,
                        sizeof(bad_settings) / sizeof(bad_settings[0]));
    tcase_add_test(tc, sp_refuses_bad_files);
    tcase_add_test(tc, ids_round_trip);
    tcase_add_test(tc, ids_decode_every_byte);
    tcase_add_loop_test(tc, return_path_table, 0, sizeof(return_paths) / sizeof(return_paths[0]));
    tcase_add_test(tc, login_redirect);
    tcase_add_test(tc, acs_accepts_a_signed_response);
    tcase_add_test(tc, acs_remembers_until_the_last_confirmation_ends);
    tcase_add_test(tc, acs_decrypts_with_sp_key);
    tcase_add_test(tc, acs_refusals);
    tcase_add_test(tc, acs_reads_the_nameid_canonically);
    tcase_add_loop_test(tc, acs_refuses_malformed_bodies, 0,
                        sizeof(bad_bodies) / sizeof(bad_bodies[0]));
    tcase_add_test(tc, acs_limits_and_policy);
    tcase_add_loop_test(tc, policy_limits_name_the_setting_and_its_range, 0,
                        sizeof(limits) / sizeof(limits[0]));
    tcase_add_test(tc, logout_redirect);
    tcase_add_test(tc, strerror_knows_saml_codes);
    suite_add_tcase(s, tc);

    TCase *st = tcase_create("store");
    tcase_add_unchecked_fixture(st, NULL, fixtures_remove);
    tcase_add_checked_fixture(st, store_setup, store_teardown);
    tcase_set_timeout(st, 60);
    tcase_add_test(st, link_to_provisioned_users);
    tcase_add_test(st, jit_creates_the_user);
    tcase_add_test(st, sessions_and_replay);
    tcase_add_test(st, commits_sweep_expired_records);
    suite_add_tcase(s, st);
    return s;
}

int main(void)
{
    return unit_run(saml_suite());
}
