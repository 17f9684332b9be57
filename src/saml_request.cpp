// Messages we send to the IdP through the browser: AuthnRequest and
// LogoutRequest over the HTTP-Redirect binding (SAML bindings §3.4), and
// the identifiers and return paths that go with them.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "saml_border.hpp"
#include "saml_sp.hpp"
#include "scim.h"
#include "util.hpp"

using namespace scim;
using namespace scim::saml;

namespace {

constexpr char kRsaSha256[] = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

// Bindings §3.4.4.1: the signature covers the query string exactly as
// sent, "SAMLRequest=...&RelayState=...&SigAlg=...", each value URL-encoded.
std::string sign_query(const Sp& sp, const std::string& query) {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t len = 0;
    if (!ctx ||
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, sp.sp_key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(query.data()), query.size()) != 1)
        throw std::runtime_error("cannot sign the redirect with sp_key");
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&sig[0]), &len,
                       reinterpret_cast<const unsigned char*>(query.data()), query.size()) != 1)
        throw std::runtime_error("cannot sign the redirect with sp_key");
    sig.resize(len);
    return base64_encode(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

std::string redirect_url(const Sp& sp, const std::string& endpoint, const char* param,
                         const std::string& xml, std::string_view relay_state) {
    std::string deflated = deflate_raw(xml);
    std::string q = std::string(param) + "=" +
                    url_encode(base64_encode(
                        reinterpret_cast<const unsigned char*>(deflated.data()), deflated.size()));
    if (!relay_state.empty()) q.append("&RelayState=").append(url_encode(relay_state));
    if (sp.sp_key) {
        q.append("&SigAlg=").append(url_encode(kRsaSha256));
        // Signed before "&Signature=" is appended (a single expression
        // would append first: C++17 sequences the object before arguments).
        std::string signature = url_encode(sign_query(sp, q));
        q.append("&Signature=").append(signature);
    }
    return endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") + q;
}

void fill_redirect(scim_saml_redirect_t* out, const std::string& id, const std::string& url) {
    snprintf(out->request_id, sizeof(out->request_id), "%s", id.c_str());
    out->location = static_cast<char*>(malloc(url.size() + 1));
    if (!out->location) throw std::bad_alloc();
    memcpy(out->location, url.c_str(), url.size() + 1);
    out->location_len = url.size();
}

std::string checked_return_path(const char* path, size_t len) {
    if (len == 0) return "/";
    if (!scim_saml_return_path_ok(path, len))
        fail_with(SCIM_EINVAL,
                  "return path \"%s\" refused: only a relative path on this site (\"/...\") is "
                  "allowed",
                  printable(std::string_view(path, len)).c_str());
    return std::string(path, len);
}

}  // namespace

extern "C" int scim_saml_return_path_ok(const char* path, size_t len) noexcept {
    // "/x" only: "//host" and "/\host" are network-path references a
    // browser resolves to another site; a scheme ("https:") or no leading
    // slash is not a path at all.
    if (len == 0 || len > SCIM_SAML_RETURN_PATH_MAX || path[0] != '/') return 0;
    if (len > 1 && (path[1] == '/' || path[1] == '\\')) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = static_cast<unsigned char>(path[i]);
        // Printable ASCII only: no CR/LF (header splitting), no spaces, no
        // "\" (browsers treat it as "/"), nothing a URL parser may fold.
        if (c <= 0x20 || c >= 0x7f || c == '\\') return 0;
    }
    return 1;
}

extern "C" int scim_saml_new_id(unsigned char* id, char* cookie) noexcept {
    if (RAND_bytes(id, SCIM_SAML_SESSION_ID_SIZE) != 1) return SCIM_EINTERNAL;
    std::string b64 = base64_encode(id, SCIM_SAML_SESSION_ID_SIZE);  // 44 chars, one '='
    size_t n = 0;
    for (char c : b64) {
        if (c == '=') break;
        cookie[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    cookie[n] = '\0';
    return n == SCIM_SAML_COOKIE_SIZE - 1 ? SCIM_OK : SCIM_EINTERNAL;
}

// The base64url digits' values; 0xff for every other byte.
struct Base64UrlTable {
    unsigned char v[256];
    constexpr Base64UrlTable() : v() {
        for (int i = 0; i < 256; i++) v[i] = 0xff;
        for (int i = 0; i < 26; i++) v['A' + i] = static_cast<unsigned char>(i);
        for (int i = 0; i < 26; i++) v['a' + i] = static_cast<unsigned char>(26 + i);
        for (int i = 0; i < 10; i++) v['0' + i] = static_cast<unsigned char>(52 + i);
        v['-'] = 62;
        v['_'] = 63;
    }
};
constexpr Base64UrlTable kBase64Url;

// Every request to a protected location decodes its session cookie: the 43
// digits go straight into the 32 bytes, four digits (three bytes) a step,
// no copy, no string. The last three digits carry two bytes and two bits,
// which are ignored as base64 decoding of the padded form ignores them.
extern "C" int scim_saml_decode_id(const char* cookie, size_t len, unsigned char* id) noexcept {
    static_assert(SCIM_SAML_COOKIE_SIZE - 1 == 43 && SCIM_SAML_SESSION_ID_SIZE == 32,
                  "10 steps of 4 digits, then 3 digits");
    if (len != SCIM_SAML_COOKIE_SIZE - 1) return SCIM_EINVAL;
    const unsigned char* c = reinterpret_cast<const unsigned char*>(cookie);
    const unsigned char* v = kBase64Url.v;
    unsigned char raw[SCIM_SAML_SESSION_ID_SIZE];
    unsigned bad = 0;
    for (size_t i = 0, n = 0; i < 40; i += 4, n += 3) {
        uint32_t a = v[c[i]], b = v[c[i + 1]], d = v[c[i + 2]], e = v[c[i + 3]];
        bad |= a | b | d | e;
        uint32_t w = a << 18 | b << 12 | d << 6 | e;
        raw[n] = static_cast<unsigned char>(w >> 16);
        raw[n + 1] = static_cast<unsigned char>(w >> 8);
        raw[n + 2] = static_cast<unsigned char>(w);
    }
    uint32_t a = v[c[40]], b = v[c[41]], d = v[c[42]];
    bad |= a | b | d;
    uint32_t w = a << 12 | b << 6 | d;
    raw[30] = static_cast<unsigned char>(w >> 10);
    raw[31] = static_cast<unsigned char>(w >> 2);
    if (bad & 0xc0) return SCIM_EINVAL;  // a byte that is not a base64url digit
    memcpy(id, raw, sizeof(raw));
    return SCIM_OK;
}

extern "C" int scim_saml_login_redirect(const scim_saml_sp_t* sp, const char* return_to, size_t len,
                                        int64_t now_ms, scim_saml_redirect_t* out, char* err,
                                        size_t errlen) noexcept {
    memset(out, 0, sizeof(*out));
    return border(err, errlen, [&] {
        std::string relay = checked_return_path(return_to, len);
        std::string id = new_request_id();
        std::string xml;
        xml.reserve(1024);
        xml.append("<samlp:AuthnRequest xmlns:samlp=\"").append(kNsProtocol);
        xml.append("\" xmlns:saml=\"").append(kNsAssertion).append("\" ID=\"").append(id);
        xml.append("\" Version=\"2.0\" IssueInstant=\"").append(xs_datetime(now_ms));
        xml.append("\" Destination=\"").append(xml_escape(sp->opt(SCIM_SAML_IDP_SSO_URL)));
        xml.append("\" AssertionConsumerServiceURL=\"");
        xml.append(xml_escape(sp->opt(SCIM_SAML_SP_ACS_URL)));
        xml.append("\" ProtocolBinding=\"").append(kBindingPost).append("\">");
        xml.append("<saml:Issuer>").append(xml_escape(sp->opt(SCIM_SAML_SP_ENTITY_ID)));
        xml.append("</saml:Issuer>");
        // The NameID is the e-mail unless another attribute carries it.
        if (sp->opt(SCIM_SAML_LOGIN_ATTRIBUTE).empty())
            xml.append("<samlp:NameIDPolicy Format=\"")
                .append(kNameIdEmail)
                .append("\" AllowCreate=\"true\"/>");
        xml.append("</samlp:AuthnRequest>");
        std::string url =
            redirect_url(*sp, sp->opt(SCIM_SAML_IDP_SSO_URL), "SAMLRequest", xml, relay);
        fill_redirect(out, id, url);
    });
}

extern "C" int scim_saml_logout_redirect(const scim_saml_sp_t* sp,
                                         const scim_saml_session_t* session, const char* return_to,
                                         size_t len, int64_t now_ms, scim_saml_redirect_t* out,
                                         char* err, size_t errlen) noexcept {
    memset(out, 0, sizeof(*out));
    return border(err, errlen, [&] {
        const std::string& slo = sp->opt(SCIM_SAML_IDP_SLO_URL);
        if (slo.empty()) fail_with(SCIM_ENOTFOUND, "the IdP has no SingleLogoutService");
        std::string relay = checked_return_path(return_to, len);
        std::string id = new_request_id();
        std::string xml;
        xml.reserve(1024);
        xml.append("<samlp:LogoutRequest xmlns:samlp=\"").append(kNsProtocol);
        xml.append("\" xmlns:saml=\"").append(kNsAssertion).append("\" ID=\"").append(id);
        xml.append("\" Version=\"2.0\" IssueInstant=\"").append(xs_datetime(now_ms));
        xml.append("\" Destination=\"").append(xml_escape(slo)).append("\">");
        xml.append("<saml:Issuer>").append(xml_escape(sp->opt(SCIM_SAML_SP_ENTITY_ID)));
        xml.append("</saml:Issuer><saml:NameID");
        if (session->name_id_format[0])
            xml.append(" Format=\"").append(xml_escape(session->name_id_format)).append("\"");
        xml.append(">").append(xml_escape(session->name_id)).append("</saml:NameID>");
        if (session->session_index[0])
            xml.append("<samlp:SessionIndex>")
                .append(xml_escape(session->session_index))
                .append("</samlp:SessionIndex>");
        xml.append("</samlp:LogoutRequest>");
        fill_redirect(out, id, redirect_url(*sp, slo, "SAMLRequest", xml, relay));
    });
}

extern "C" void scim_saml_redirect_free(scim_saml_redirect_t* r) noexcept {
    free(r->location);
    r->location = nullptr;
    r->location_len = 0;
}
