// The XML and crypto layer under the SAML SP: library life cycle, RAII
// owners of libxml2 / xmlsec / OpenSSL handles, the parser for untrusted
// documents, tree helpers and the encodings SAML bindings use.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <xmlsec/keys.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace scim::saml {

constexpr char kNsProtocol[] = "urn:oasis:names:tc:SAML:2.0:protocol";
constexpr char kNsAssertion[] = "urn:oasis:names:tc:SAML:2.0:assertion";
constexpr char kNsMetadata[] = "urn:oasis:names:tc:SAML:2.0:metadata";
constexpr char kNsDsig[] = "http://www.w3.org/2000/09/xmldsig#";
constexpr char kNsXenc[] = "http://www.w3.org/2001/04/xmlenc#";
constexpr char kBindingRedirect[] = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
constexpr char kBindingPost[] = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
constexpr char kNameIdEmail[] = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

// A SAML-level failure inside the core; the API border turns it into the
// code and the one-line reason.
struct Failure {
    int code;
    std::string reason;
};
[[noreturn]] void fail_with(int code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void vfail_with(int code, const char* fmt, va_list ap);

// One reference per live SP handle: the first initialises libxml2, xmlsec
// and its OpenSSL back end, the last shuts xmlsec down again (libxml2's own
// globals are left alone: other nginx modules may use the library).
bool library_acquire(std::string* err);
void library_release();

// While alive, libxml2 and xmlsec errors are recorded here instead of being
// printed to stderr (which is nginx's error log: the core never logs). The
// first message is kept: it is the cause, later ones are consequences.
class ErrorCapture {
  public:
    ErrorCapture();
    ~ErrorCapture();
    ErrorCapture(const ErrorCapture&) = delete;
    ErrorCapture& operator=(const ErrorCapture&) = delete;
    // The recorded message, or "" (never NULL).
    const char* message() const;

  private:
    void* saved_ctx_;
    xmlStructuredErrorFunc saved_func_;
};

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;
struct SecKeyFree {
    void operator()(xmlSecKey* k) const { xmlSecKeyDestroy(k); }
};
using SecKey = std::unique_ptr<xmlSecKey, SecKeyFree>;
struct KeysMngrFree {
    void operator()(xmlSecKeysMngr* m) const { xmlSecKeysMngrDestroy(m); }
};
using KeysMngr = std::unique_ptr<xmlSecKeysMngr, KeysMngrFree>;
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// A signature context that borrows its key. The key stays owned by the SP
// and is handed back before the context is finalised, so a verification
// never copies the key (with its certificate) nor frees it.
class DSigCtx {
  public:
    DSigCtx();
    ~DSigCtx();
    DSigCtx(const DSigCtx&) = delete;
    DSigCtx& operator=(const DSigCtx&) = delete;
    xmlSecDSigCtx* get() { return &ctx_; }
    void lend(xmlSecKey* key) { ctx_.signKey = key; }

  private:
    xmlSecDSigCtx ctx_;
};

// An encryption context over the SP's keys manager (the SP key decrypts).
class EncCtx {
  public:
    explicit EncCtx(xmlSecKeysMngr* mngr);
    ~EncCtx();
    EncCtx(const EncCtx&) = delete;
    EncCtx& operator=(const EncCtx&) = delete;
    xmlSecEncCtx* get() { return ctx_; }

  private:
    xmlSecEncCtx* ctx_;
};

// Parses a document that came from the network: no DTD (a DOCTYPE stops
// the parser at once, so neither external entities nor entity expansion
// ever happen), no entity substitution, no network access, libxml2's
// default depth and size limits. Throws Failure(SCIM_SAML_EMALFORMED).
Doc parse_untrusted(std::string_view xml);

// Parses a configuration file (metadata) with the same restrictions.
// Throws Failure(SCIM_EINVAL) naming the file.
Doc parse_file(const char* path);

// Tree helpers: namespace-aware element tests that ignore other nodes.
bool is_element(const xmlNode* n, const char* ns, const char* name);
xmlNode* child(const xmlNode* parent, const char* ns, const char* name);
std::vector<xmlNode*> children(const xmlNode* parent, const char* ns, const char* name);
size_t count_elements(const xmlNode* root, const char* ns, const char* name);
bool has_attr(const xmlNode* n, const char* name);
std::string attr(const xmlNode* n, const char* name);
// The element's text as XML canonicalisation sees it: the concatenation of
// its text and CDATA children; comments and processing instructions are
// not text. Fails (returns false) if the element has child elements.
bool text_of(const xmlNode* n, std::string* out);
std::string node_path(const xmlNode* n);

// Encodings.
std::string base64_encode(const unsigned char* p, size_t n);
// Strict: the base64 alphabet, padding only at the end, whitespace (CR,
// LF, tab, space) ignored; anything else fails.
bool base64_decode(std::string_view in, std::string* out);
// Both at once, as a form field holding base64 arrives: 1 decoded, 0 not
// base64, -1 a malformed %XX escape. One pass, no intermediate copy.
int form_base64_decode(std::string_view in, std::string* out);
std::string url_encode(std::string_view s);
// application/x-www-form-urlencoded component: "+" is a space, "%XX" a
// byte; a malformed escape fails.
bool form_decode(std::string_view s, std::string* out);
std::string xml_escape(std::string_view s);
// Raw DEFLATE (RFC 1951), as the HTTP-Redirect binding wants.
std::string deflate_raw(std::string_view in);
// "2026-11-25T13:23:29Z": SAML times are UTC without fraction.
std::string xs_datetime(int64_t ms);
// A fresh request ID: "_" and 40 hex digits (160 random bits).
std::string new_request_id();
// Control characters replaced, length capped: safe for a log line.
std::string printable(std::string_view s, size_t max = 200);

}  // namespace scim::saml
