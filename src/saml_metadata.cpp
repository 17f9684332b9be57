// SP configuration: settings, IdP metadata, certificates and keys (all
// loaded once, at configuration time) and our own SAML metadata.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>

#include "saml_border.hpp"
#include "saml_sp.hpp"
#include "scim.h"
#include "util.hpp"

using namespace scim;
using namespace scim::saml;

scim_saml_sp_s::~scim_saml_sp_s() {
    // Every xmlsec object goes before the library reference that keeps
    // xmlsec alive.
    idp_keys.clear();
    decrypt_keys.reset();
    if (holds_library) library_release();
}

namespace {

const char* const kOptionNames[SCIM_SAML_OPTION_COUNT] = {
    "idp_entity_id", "idp_sso_url", "idp_slo_url",    "sp_entity_id",
    "sp_acs_url",    "sp_slo_url",  "login_attribute"};

bool is_url_option(scim_saml_option_t o) {
    return o == SCIM_SAML_IDP_SSO_URL || o == SCIM_SAML_IDP_SLO_URL || o == SCIM_SAML_SP_ACS_URL ||
           o == SCIM_SAML_SP_SLO_URL;
}

// An absolute http(s) URL with a host, without fragment, spaces or
// control characters: the only kind a browser can be redirected to and an
// IdP can post to.
bool valid_url(std::string_view v, std::string* why) {
    size_t host;
    if (istarts_with(v, "https://"))
        host = 8;
    else if (istarts_with(v, "http://"))
        host = 7;
    else {
        *why = "must be an absolute http:// or https:// URL";
        return false;
    }
    if (host >= v.size() || v[host] == '/' || v[host] == '?') {
        *why = "has no host";
        return false;
    }
    for (char c : v) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\') {
            *why = "holds a space, a control character or one of \" < > \\";
            return false;
        }
    }
    if (v.find('#') != std::string_view::npos) {
        *why = "must not have a fragment (#...)";
        return false;
    }
    return true;
}

std::string asn1_time_text(const ASN1_TIME* t) {
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "an unreadable date";
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string subject_of(const X509* x) {
    char buf[256];
    X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
    return buf;
}

// An expired or not yet valid certificate is refused when the
// configuration is loaded, so a rotated IdP key is noticed by nginx -t
// rather than by users who cannot log in.
void check_validity(const X509* x, int64_t now_ms, const std::string& origin) {
    time_t now = static_cast<time_t>(now_ms / 1000);
    const ASN1_TIME* nb = X509_get0_notBefore(x);
    const ASN1_TIME* na = X509_get0_notAfter(x);
    if (X509_cmp_time(nb, &now) > 0)
        fail_with(SCIM_EINVAL, "%s (%s) is not valid before %s", origin.c_str(),
                  subject_of(x).c_str(), asn1_time_text(nb).c_str());
    if (X509_cmp_time(na, &now) < 0)
        fail_with(SCIM_EINVAL, "%s (%s) expired on %s", origin.c_str(), subject_of(x).c_str(),
                  asn1_time_text(na).c_str());
}

// Signature keys we accept: RSA of 2048 bits or more, and ECDSA on the
// NIST curves xmlsec supports.
void check_key_type(EVP_PKEY* pk, const std::string& origin) {
    int type = EVP_PKEY_get_base_id(pk);
    if (type == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(pk) < 2048)
            fail_with(SCIM_EINVAL, "%s has a %d-bit RSA key; at least 2048 bits are required",
                      origin.c_str(), EVP_PKEY_get_bits(pk));
        return;
    }
    if (type == EVP_PKEY_EC) return;
    fail_with(SCIM_EINVAL, "%s has a %s key; only RSA and ECDSA keys are supported", origin.c_str(),
              OBJ_nid2sn(type));
}

void add_idp_key(Sp& sp, X509* x, int64_t now_ms, const std::string& origin) {
    check_validity(x, now_ms, origin);
    Pkey pk(X509_get_pubkey(x));
    if (!pk) fail_with(SCIM_EINVAL, "%s: cannot read its public key", origin.c_str());
    check_key_type(pk.get(), origin);
    // The public key alone: verifying needs nothing else, and a key without
    // X.509 data is cheap to lend.
    xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pk.get());
    if (!data) fail_with(SCIM_EINVAL, "%s: xmlsec cannot use its key", origin.c_str());
    pk.release();
    SecKey key(xmlSecKeyCreate());
    if (!key || xmlSecKeySetValue(key.get(), data) < 0) {
        xmlSecKeyDataDestroy(data);
        throw std::bad_alloc();
    }
    sp.idp_keys.push_back(IdpKey{std::move(key), origin, subject_of(x)});
}

int pem_no_password(char*, int, int, void*) {
    return -1;
}

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};

std::unique_ptr<BIO, BioFree> open_file(const char* path) {
    errno = 0;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path, "r"));
    if (!bio) {
        int e = errno ? errno : EACCES;
        ERR_clear_error();
        fail_with(e, "cannot read \"%s\": %s", path, strerror(e));
    }
    return bio;
}

std::vector<X509Ptr> read_pem_certs(const char* path) {
    auto bio = open_file(path);
    std::vector<X509Ptr> certs;
    for (;;) {
        X509* x = PEM_read_bio_X509(bio.get(), nullptr, pem_no_password, nullptr);
        if (!x) break;
        certs.emplace_back(x);
    }
    unsigned long e = ERR_peek_last_error();
    bool clean_end = ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
    ERR_clear_error();
    if (certs.empty() || (!clean_end && e != 0))
        fail_with(SCIM_EINVAL, "\"%s\" is not a PEM certificate (\"-----BEGIN CERTIFICATE-----\")",
                  path);
    return certs;
}

void check_key_matches_cert(const Sp& sp) {
    if (!sp.sp_key || !sp.sp_cert) return;
    if (X509_check_private_key(sp.sp_cert.get(), sp.sp_key.get()) != 1) {
        ERR_clear_error();
        fail_with(SCIM_EINVAL, "sp_key \"%s\" does not match sp_cert \"%s\"",
                  sp.sp_key_file.c_str(), sp.sp_cert_file.c_str());
    }
}

void set_option(Sp& sp, scim_saml_option_t o, std::string_view v, bool explicitly) {
    std::string why;
    if (v.empty()) fail_with(SCIM_EINVAL, "%s must not be empty", kOptionNames[o]);
    if (is_url_option(o)) {
        if (!valid_url(v, &why))
            fail_with(SCIM_EINVAL, "%s \"%s\" %s", kOptionNames[o], printable(v).c_str(),
                      why.c_str());
    } else {
        if (v.size() > 1024)
            fail_with(SCIM_EINVAL, "%s is longer than 1024 characters", kOptionNames[o]);
        for (char c : v)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                fail_with(SCIM_EINVAL, "%s holds a control character", kOptionNames[o]);
    }
    if (!explicitly && sp.explicit_option[o]) return;
    sp.options[o].assign(v);
    if (explicitly) sp.explicit_option[o] = true;
}

bool is_true(const std::string& v) {
    return v == "true" || v == "1";
}

void collect_entities(xmlNode* n, std::vector<xmlNode*>* out) {
    for (; n; n = n->next) {
        if (is_element(n, kNsMetadata, "EntityDescriptor"))
            out->push_back(n);
        else if (is_element(n, kNsMetadata, "EntitiesDescriptor"))
            collect_entities(n->children, out);
    }
}

std::string service_location(xmlNode* idp, const char* service, const char* binding) {
    for (xmlNode* s : children(idp, kNsMetadata, service))
        if (attr(s, "Binding") == binding) return attr(s, "Location");
    return std::string();
}

void load_metadata(Sp& sp, const char* path, int64_t now_ms) {
    Doc doc = parse_file(path);
    xmlNode* root = xmlDocGetRootElement(doc.get());
    std::vector<xmlNode*> entities;
    collect_entities(root, &entities);
    if (entities.empty())
        fail_with(SCIM_EINVAL,
                  "\"%s\" is not SAML metadata: expected an EntityDescriptor in namespace %s, "
                  "found <%s>",
                  path, kNsMetadata, reinterpret_cast<const char*>(root->name));

    const std::string& wanted = sp.opt(SCIM_SAML_IDP_ENTITY_ID);
    xmlNode *entity = nullptr, *idp = nullptr;
    size_t idps = 0;
    for (xmlNode* e : entities) {
        xmlNode* d = child(e, kNsMetadata, "IDPSSODescriptor");
        if (!d) continue;
        if (!wanted.empty() && sp.explicit_option[SCIM_SAML_IDP_ENTITY_ID]) {
            if (attr(e, "entityID") == wanted) entity = e, idp = d, idps = 1;
            continue;
        }
        idps++;
        entity = e, idp = d;
    }
    if (idps == 0)
        fail_with(SCIM_EINVAL, "\"%s\" describes no identity provider%s%s%s", path,
                  wanted.empty() ? " (no IDPSSODescriptor)" : " with entityID \"",
                  wanted.empty() ? "" : printable(wanted).c_str(), wanted.empty() ? "" : "\"");
    if (idps > 1)
        fail_with(SCIM_EINVAL,
                  "\"%s\" describes %zu identity providers: name one with idp_entity_id", path,
                  idps);

    std::string valid_until = attr(entity, "validUntil");
    int64_t until;
    if (!valid_until.empty() && parse_datetime(valid_until, &until) && until < now_ms)
        fail_with(SCIM_EINVAL, "\"%s\" expired: validUntil is %s", path, valid_until.c_str());
    if (attr(idp, "protocolSupportEnumeration").find(kNsProtocol) == std::string::npos)
        fail_with(SCIM_EINVAL,
                  "\"%s\": the IdP does not list SAML 2.0 (%s) in "
                  "protocolSupportEnumeration",
                  path, kNsProtocol);

    std::string entity_id = attr(entity, "entityID");
    if (entity_id.empty()) fail_with(SCIM_EINVAL, "\"%s\": EntityDescriptor has no entityID", path);
    std::string sso = service_location(idp, "SingleSignOnService", kBindingRedirect);
    if (sso.empty() && !sp.explicit_option[SCIM_SAML_IDP_SSO_URL])
        fail_with(SCIM_EINVAL,
                  "\"%s\": the IdP has no SingleSignOnService for the HTTP-Redirect binding (%s)",
                  path, kBindingRedirect);
    std::string slo = service_location(idp, "SingleLogoutService", kBindingRedirect);

    // Signing certificates: KeyDescriptor use="signing" or without use.
    // Several are normal during a key rollover; each is trusted.
    std::vector<X509Ptr> certs;
    for (xmlNode* kd : children(idp, kNsMetadata, "KeyDescriptor")) {
        std::string use = attr(kd, "use");
        if (!use.empty() && use != "signing") continue;
        xmlNode* data = child(child(kd, kNsDsig, "KeyInfo"), kNsDsig, "X509Data");
        for (xmlNode* c : children(data, kNsDsig, "X509Certificate")) {
            std::string b64, der;
            X509* x = nullptr;
            if (text_of(c, &b64) && base64_decode(b64, &der)) {
                auto p = reinterpret_cast<const unsigned char*>(der.data());
                x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
            }
            ERR_clear_error();
            if (!x)
                fail_with(SCIM_EINVAL, "\"%s\": signing certificate %zu is malformed (line %ld)",
                          path, certs.size() + 1, xmlGetLineNo(c));
            certs.emplace_back(x);
        }
    }
    if (certs.empty())
        fail_with(SCIM_EINVAL,
                  "\"%s\": the IdP publishes no signing certificate "
                  "(KeyDescriptor/KeyInfo/X509Data/X509Certificate)",
                  path);

    for (size_t i = 0; i < certs.size(); i++)
        add_idp_key(sp, certs[i].get(), now_ms,
                    format("signing certificate %zu of idp_metadata \"%s\"", i + 1, path));
    set_option(sp, SCIM_SAML_IDP_ENTITY_ID, entity_id, false);
    if (!sso.empty()) set_option(sp, SCIM_SAML_IDP_SSO_URL, sso, false);
    if (!slo.empty()) set_option(sp, SCIM_SAML_IDP_SLO_URL, slo, false);
    sp.idp_wants_signed_requests = is_true(attr(idp, "WantAuthnRequestsSigned"));
    sp.metadata_file = path;
}

std::string build_metadata(const Sp& sp) {
    std::string m;
    m.reserve(4096);
    m.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    m.append("<md:EntityDescriptor xmlns:md=\"").append(kNsMetadata);
    m.append("\" xmlns:ds=\"").append(kNsDsig).append("\" entityID=\"");
    m.append(xml_escape(sp.opt(SCIM_SAML_SP_ENTITY_ID))).append("\">\n");
    m.append("  <md:SPSSODescriptor AuthnRequestsSigned=\"");
    m.append(sp.sp_key ? "true" : "false");
    m.append("\" WantAssertionsSigned=\"true\" protocolSupportEnumeration=\"");
    m.append(kNsProtocol).append("\">\n");
    if (sp.sp_cert) {
        for (const char* use : {"signing", "encryption"}) {
            m.append("    <md:KeyDescriptor use=\"").append(use).append("\">\n");
            m.append("      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
            m.append(sp.sp_cert_b64);
            m.append("</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n");
            if (strcmp(use, "encryption") == 0) {
                for (const char* alg : {"http://www.w3.org/2009/xmlenc11#aes256-gcm",
                                        "http://www.w3.org/2009/xmlenc11#aes128-gcm",
                                        "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
                                        "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
                                        "http://www.w3.org/2009/xmlenc11#rsa-oaep",
                                        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"})
                    m.append("      <md:EncryptionMethod Algorithm=\"")
                        .append(alg)
                        .append("\"/>\n");
            }
            m.append("    </md:KeyDescriptor>\n");
        }
    }
    if (!sp.opt(SCIM_SAML_SP_SLO_URL).empty()) {
        m.append("    <md:SingleLogoutService Binding=\"").append(kBindingRedirect);
        m.append("\" Location=\"")
            .append(xml_escape(sp.opt(SCIM_SAML_SP_SLO_URL)))
            .append("\"/>\n");
    }
    m.append("    <md:NameIDFormat>").append(kNameIdEmail).append("</md:NameIDFormat>\n");
    m.append("    <md:AssertionConsumerService Binding=\"").append(kBindingPost);
    m.append("\" Location=\"").append(xml_escape(sp.opt(SCIM_SAML_SP_ACS_URL)));
    m.append("\" index=\"0\" isDefault=\"true\"/>\n");
    m.append("  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
    return m;
}

}  // namespace

namespace {

// The bounds of the numeric settings; the README documents the same ones.
// Times are milliseconds, sizes bytes. The upper bound of the session
// times keeps them, in milliseconds, far from overflowing an int64_t.
struct Limit {
    const char* name;
    bool time;
    int64_t min, max;
    const char* range;
    const char* example;
};

const Limit kLimits[SCIM_SAML_LIMIT_COUNT] = {
    {"clock_skew", true, 0, 3600LL * 1000, "0 to 1h", "3m"},
    {"session_idle", true, 1000, 365LL * 86400 * 1000, "1s to 365d", "1h"},
    {"session_lifetime", true, 1000, 365LL * 86400 * 1000, "1s to 365d", "8h"},
    {"max_response_size", false, 1024, 64LL * 1024 * 1024, "1k to 64m", "256k"},
};

void check_limit(scim_saml_limit_t which, int64_t value, std::string_view text) {
    if (which < 0 || which >= SCIM_SAML_LIMIT_COUNT)
        fail_with(SCIM_EINVAL, "unknown SAML setting %d", static_cast<int>(which));
    const Limit& l = kLimits[which];
    const char* kind = l.time ? "time" : "size";
    if (value < 0)
        fail_with(SCIM_EINVAL, "%s \"%.*s\" is not a %s: expected a %s from %s, such as %s", l.name,
                  static_cast<int>(text.size()), text.data(), kind, kind, l.range, l.example);
    if (value < l.min || value > l.max)
        fail_with(SCIM_EINVAL, "%s \"%.*s\" is out of range: expected a %s from %s", l.name,
                  static_cast<int>(text.size()), text.data(), kind, l.range);
}

}  // namespace

extern "C" int scim_saml_policy_check(scim_saml_limit_t which, int64_t value, const char* text,
                                      size_t len, char* err, size_t errlen) noexcept {
    return border(err, errlen, [&] { check_limit(which, value, std::string_view(text, len)); });
}

extern "C" void scim_saml_policy_default(scim_saml_policy_t* p) noexcept {
    p->clock_skew_ms = 180 * 1000;
    p->session_idle_ms = 3600 * 1000;
    p->session_lifetime_ms = 8 * 3600 * 1000;
    p->max_response_size = 128 * 1024;
    p->idp_initiated = 0;
    p->jit = 0;
    p->allow_sha1 = 0;
}

extern "C" int scim_saml_sp_new(const scim_directory_t* dir, scim_saml_sp_t** out, char* err,
                                size_t errlen) noexcept {
    *out = nullptr;
    return border(err, errlen, [&] {
        auto sp = std::make_unique<Sp>();
        sp->dir.name = dir->name;
        scim_saml_policy_default(&sp->policy);
        std::string why;
        if (!library_acquire(&why)) fail_with(SCIM_EINTERNAL, "%s", why.c_str());
        sp->holds_library = true;
        *out = sp.release();
    });
}

extern "C" void scim_saml_sp_free(scim_saml_sp_t* sp) noexcept {
    delete sp;
}

extern "C" int scim_saml_sp_set(scim_saml_sp_t* sp, scim_saml_option_t option, const char* value,
                                size_t len, char* err, size_t errlen) noexcept {
    return border(err, errlen, [&] {
        if (option < 0 || option >= SCIM_SAML_OPTION_COUNT)
            fail_with(SCIM_EINVAL, "unknown SAML option %d", static_cast<int>(option));
        set_option(*sp, option, std::string_view(value, len), true);
    });
}

extern "C" const char* scim_saml_sp_get(const scim_saml_sp_t* sp,
                                        scim_saml_option_t option) noexcept {
    if (option < 0 || option >= SCIM_SAML_OPTION_COUNT) return "";
    return sp->options[option].c_str();
}

extern "C" int scim_saml_sp_set_policy(scim_saml_sp_t* sp, const scim_saml_policy_t* p, char* err,
                                       size_t errlen) noexcept {
    return border(err, errlen, [&] {
        // A caller that checked each setting as it read it never fails
        // here; the message then shows the value in the policy's unit.
        const int64_t size = p->max_response_size > size_t(INT64_MAX)
                                 ? INT64_MAX
                                 : static_cast<int64_t>(p->max_response_size);
        const struct {
            scim_saml_limit_t which;
            int64_t value;
            const char* unit;
        } all[] = {{SCIM_SAML_CLOCK_SKEW, p->clock_skew_ms, "ms"},
                   {SCIM_SAML_SESSION_IDLE, p->session_idle_ms, "ms"},
                   {SCIM_SAML_SESSION_LIFETIME, p->session_lifetime_ms, "ms"},
                   {SCIM_SAML_MAX_RESPONSE_SIZE, size, ""}};
        for (const auto& s : all) {
            std::string text = std::to_string(s.value) + s.unit;
            check_limit(s.which, s.value < 0 ? INT64_MAX : s.value, text);
        }
        sp->policy = *p;
    });
}

extern "C" const scim_saml_policy_t* scim_saml_sp_policy(const scim_saml_sp_t* sp) noexcept {
    return &sp->policy;
}

extern "C" int scim_saml_sp_load_idp_metadata(scim_saml_sp_t* sp, const char* path, int64_t now_ms,
                                              char* err, size_t errlen) noexcept {
    return border(err, errlen, [&] {
        if (!sp->metadata_file.empty())
            fail_with(SCIM_EINVAL, "idp_metadata is already \"%s\"", sp->metadata_file.c_str());
        ErrorCapture quiet;
        load_metadata(*sp, path, now_ms);
    });
}

extern "C" int scim_saml_sp_add_idp_cert(scim_saml_sp_t* sp, const char* path, int64_t now_ms,
                                         char* err, size_t errlen) noexcept {
    return border(err, errlen, [&] {
        ErrorCapture quiet;
        std::vector<X509Ptr> certs = read_pem_certs(path);
        for (size_t i = 0; i < certs.size(); i++)
            add_idp_key(*sp, certs[i].get(), now_ms,
                        certs.size() == 1
                            ? format("idp_cert \"%s\"", path)
                            : format("certificate %zu of idp_cert \"%s\"", i + 1, path));
    });
}

extern "C" int scim_saml_sp_load_sp_key(scim_saml_sp_t* sp, const char* path, char* err,
                                        size_t errlen) noexcept {
    return border(err, errlen, [&] {
        if (sp->sp_key) fail_with(SCIM_EINVAL, "sp_key is already \"%s\"", sp->sp_key_file.c_str());
        ErrorCapture quiet;
        auto bio = open_file(path);
        Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, pem_no_password, nullptr));
        ERR_clear_error();
        if (!key)
            fail_with(SCIM_EINVAL,
                      "\"%s\" is not an unencrypted PEM private key (\"-----BEGIN PRIVATE "
                      "KEY-----\"); encrypted keys are not supported",
                      path);
        // RSA only: the key both signs (rsa-sha256) and unwraps the keys of
        // encrypted assertions (RSA-OAEP); xmlsec has no EC key agreement.
        if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
            fail_with(SCIM_EINVAL, "sp_key \"%s\" is a %s key; an RSA key is required", path,
                      OBJ_nid2sn(EVP_PKEY_get_base_id(key.get())));
        if (EVP_PKEY_get_bits(key.get()) < 2048)
            fail_with(SCIM_EINVAL, "sp_key \"%s\" has %d bits; at least 2048 are required", path,
                      EVP_PKEY_get_bits(key.get()));

        KeysMngr mngr(xmlSecKeysMngrCreate());
        if (!mngr || xmlSecCryptoAppDefaultKeysMngrInit(mngr.get()) < 0) throw std::bad_alloc();
        EVP_PKEY_up_ref(key.get());
        xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(key.get());
        if (!data) {
            EVP_PKEY_free(key.get());
            fail_with(SCIM_EINVAL, "sp_key \"%s\": xmlsec cannot use the key", path);
        }
        SecKey xkey(xmlSecKeyCreate());
        if (!xkey || xmlSecKeySetValue(xkey.get(), data) < 0) {
            xmlSecKeyDataDestroy(data);
            throw std::bad_alloc();
        }
        if (xmlSecCryptoAppDefaultKeysMngrAdoptKey(mngr.get(), xkey.get()) < 0)
            throw std::bad_alloc();
        xkey.release();
        sp->sp_key = std::move(key);
        sp->sp_key_file = path;
        sp->decrypt_keys = std::move(mngr);
        check_key_matches_cert(*sp);
    });
}

extern "C" int scim_saml_sp_load_sp_cert(scim_saml_sp_t* sp, const char* path, int64_t now_ms,
                                         char* err, size_t errlen) noexcept {
    return border(err, errlen, [&] {
        if (sp->sp_cert)
            fail_with(SCIM_EINVAL, "sp_cert is already \"%s\"", sp->sp_cert_file.c_str());
        ErrorCapture quiet;
        std::vector<X509Ptr> certs = read_pem_certs(path);
        std::string origin = format("sp_cert \"%s\"", path);
        check_validity(certs[0].get(), now_ms, origin);
        unsigned char* der = nullptr;
        int n = i2d_X509(certs[0].get(), &der);
        if (n <= 0) fail_with(SCIM_EINVAL, "%s cannot be encoded", origin.c_str());
        sp->sp_cert_b64 = base64_encode(der, static_cast<size_t>(n));
        OPENSSL_free(der);
        sp->sp_cert = std::move(certs[0]);
        sp->sp_cert_file = path;
        check_key_matches_cert(*sp);
    });
}

extern "C" int scim_saml_sp_finish(scim_saml_sp_t* sp, char* err, size_t errlen) noexcept {
    return border(err, errlen, [&] {
        if (sp->opt(SCIM_SAML_IDP_ENTITY_ID).empty())
            fail_with(SCIM_EINVAL, "no IdP entityID: set idp_metadata or idp_entity_id");
        if (sp->opt(SCIM_SAML_IDP_SSO_URL).empty())
            fail_with(SCIM_EINVAL, "no IdP sign-in URL: set idp_metadata or idp_sso_url");
        if (sp->idp_keys.empty())
            fail_with(SCIM_EINVAL, "no IdP signing certificate: set idp_metadata or idp_cert");
        if (sp->opt(SCIM_SAML_SP_ENTITY_ID).empty())
            fail_with(SCIM_EINVAL, "sp_entity_id is required (the Audience the IdP names)");
        if (sp->opt(SCIM_SAML_SP_ACS_URL).empty())
            fail_with(SCIM_EINVAL,
                      "sp_acs_url is required (the absolute URL of the scim_saml_acs location)");
        if (static_cast<bool>(sp->sp_key) != static_cast<bool>(sp->sp_cert))
            fail_with(SCIM_EINVAL, sp->sp_key ? "sp_key needs sp_cert (published in the SP "
                                                "metadata)"
                                              : "sp_cert needs sp_key");
        check_key_matches_cert(*sp);
        if (sp->idp_wants_signed_requests && !sp->sp_key)
            fail_with(SCIM_EINVAL,
                      "the IdP metadata sets WantAuthnRequestsSigned: set sp_key and sp_cert");
        sp->metadata = build_metadata(*sp);
        sp->finished = true;
    });
}

extern "C" const char* scim_saml_sp_metadata(const scim_saml_sp_t* sp, size_t* len) noexcept {
    if (!sp->finished) return nullptr;
    *len = sp->metadata.size();
    return sp->metadata.c_str();
}

extern "C" int scim_saml_sp_has_slo(const scim_saml_sp_t* sp) noexcept {
    return !sp->opt(SCIM_SAML_IDP_SLO_URL).empty();
}
