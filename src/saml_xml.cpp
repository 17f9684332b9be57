#include "saml_xml.hpp"

#include <libxml/parserInternals.h>
#include <openssl/rand.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <zlib.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <new>
#include <sstream>

#include "scim.h"
#include "scim_saml.h"
#include "util.hpp"

namespace scim::saml {

void vfail_with(int code, const char* fmt, va_list ap) {
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    throw Failure{code, buf};
}

void fail_with(int code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail_with(code, fmt, ap);
}

namespace {

// Process-wide state of the XML libraries, owned by the live SP handles.
// Plain data: nothing here has a destructor to run at dlclose().
int g_library_refs = 0;
char g_error[320];

void record_error(const char* text) {
    if (g_error[0] != '\0' || text == nullptr) return;
    snprintf(g_error, sizeof(g_error), "%s", text);
    // messages end with a newline; a log line must not
    for (char* p = g_error; *p; p++)
        if (*p == '\n' || *p == '\r') *p = (p[1] == '\0') ? '\0' : ' ';
}

void xmlsec_error(const char*, int, const char* func, const char* object, const char* subject,
                  int reason, const char* msg) {
    char line[1024];
    const char* what = xmlSecErrorsGetMsg(static_cast<xmlSecSize>(0));
    for (xmlSecSize i = 0; xmlSecErrorsGetMsg(i) != nullptr; i++) {
        if (xmlSecErrorsGetCode(i) == reason) {
            what = xmlSecErrorsGetMsg(i);
            break;
        }
    }
    snprintf(line, sizeof(line), "xmlsec %s%s%s: %s%s%s", func ? func : "?",
             object && strcmp(object, "unknown") != 0 ? " " : "",
             object && strcmp(object, "unknown") != 0 ? object : "", what ? what : "error",
             msg && *msg ? ": " : "", msg ? msg : "");
    (void)subject;
    record_error(line);
}

void libxml_error(void*, xmlErrorPtr e) {
    if (e == nullptr) return;
    char line[1024];
    snprintf(line, sizeof(line), "line %d: %s", e->line, e->message ? e->message : "error");
    record_error(line);
}

}  // namespace

bool library_acquire(std::string* err) {
    if (g_library_refs++ > 0) return true;
    // The order of the xmlsec examples: libxml2, xmlsec, the version check,
    // the crypto application layer, then xmlsec-crypto. libxslt's security
    // preferences are not touched: no XSLT transform is ever enabled in a
    // signature context (see saml_verify.cpp), and those preferences are
    // global to every module of the process.
    xmlInitParser();
    const char* step = nullptr;
    if (xmlSecInit() < 0) {
        step = "xmlSecInit()";
    } else if (xmlSecCheckVersion() != 1) {
        xmlSecShutdown();
        step = "xmlSecCheckVersion() (the loaded libxmlsec1 is not the one built against)";
    } else if (xmlSecCryptoAppInit(nullptr) < 0) {
        xmlSecShutdown();
        step = "xmlSecCryptoAppInit()";
    } else if (xmlSecCryptoInit() < 0) {
        xmlSecCryptoAppShutdown();
        xmlSecShutdown();
        step = "xmlSecCryptoInit()";
    }
    if (step) {
        g_library_refs--;
        if (err) *err = std::string("cannot initialise the XML security library: ") + step;
        return false;
    }
    xmlSecErrorsSetCallback(xmlsec_error);
    return true;
}

void library_release() {
    if (g_library_refs == 0 || --g_library_refs > 0) return;
    xmlSecErrorsSetCallback(xmlSecErrorsDefaultCallback);
    xmlSecCryptoShutdown();
    xmlSecCryptoAppShutdown();
    xmlSecShutdown();
}

ErrorCapture::ErrorCapture()
    : saved_ctx_(xmlStructuredErrorContext), saved_func_(xmlStructuredError) {
    g_error[0] = '\0';
    xmlSetStructuredErrorFunc(nullptr, libxml_error);
}

ErrorCapture::~ErrorCapture() {
    xmlSetStructuredErrorFunc(saved_ctx_, saved_func_);
}

const char* ErrorCapture::message() const {
    return g_error;
}

DSigCtx::DSigCtx() {
    if (xmlSecDSigCtxInitialize(&ctx_, nullptr) < 0) throw std::bad_alloc();
}

DSigCtx::~DSigCtx() {
    ctx_.signKey = nullptr;  // lent, not ours
    xmlSecDSigCtxFinalize(&ctx_);
}

EncCtx::EncCtx(xmlSecKeysMngr* mngr) : ctx_(xmlSecEncCtxCreate(mngr)) {
    if (ctx_ == nullptr) throw std::bad_alloc();
}

EncCtx::~EncCtx() {
    xmlSecEncCtxDestroy(ctx_);
}

namespace {

struct ParserCtxtFree {
    void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

struct ParseState {
    bool doctype = false;
};

// SAX callback for "<!DOCTYPE": record it and stop before the internal
// subset is read, so no entity is ever declared, let alone expanded.
void refuse_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    static_cast<ParseState*>(ctxt->_private)->doctype = true;
    xmlStopParser(ctxt);
}

Doc parse(std::string_view xml, int code, const char* what) {
    if (xml.size() > INT_MAX) fail_with(code, "%s is too large", what);
    ErrorCapture errors;
    std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(xmlNewParserCtxt());
    if (!ctxt) throw std::bad_alloc();
    ParseState state;
    ctxt->_private = &state;
    ctxt->sax->internalSubset = refuse_doctype;
    // No XML_PARSE_NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE: entities are
    // not substituted, nothing is loaded, the default limits apply.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    Doc doc(xmlCtxtReadMemory(ctxt.get(), xml.data(), static_cast<int>(xml.size()), nullptr,
                              nullptr, options));
    if (state.doctype)
        fail_with(code,
                  "%s has a DOCTYPE: refused (a DTD can declare external entities or "
                  "expand entities without bound)",
                  what);
    if (!doc || !ctxt->wellFormed)
        fail_with(code, "%s is not well-formed XML: %s", what,
                  errors.message()[0] ? errors.message() : "parse error");
    if (doc->intSubset || doc->extSubset) fail_with(code, "%s has a DTD: refused", what);
    if (xmlDocGetRootElement(doc.get()) == nullptr) fail_with(code, "%s has no root element", what);
    return doc;
}

}  // namespace

Doc parse_untrusted(std::string_view xml) {
    return parse(xml, SCIM_SAML_EMALFORMED, "the SAML message");
}

Doc parse_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int e = errno ? errno : EACCES;
        fail_with(e, "cannot read \"%s\": %s", path, strerror(e));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string what = std::string("\"") + path + "\"";
    return parse(ss.str(), SCIM_EINVAL, what.c_str());
}

bool is_element(const xmlNode* n, const char* ns, const char* name) {
    return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name) && n->ns &&
           xmlStrEqual(n->ns->href, BAD_CAST ns);
}

xmlNode* child(const xmlNode* parent, const char* ns, const char* name) {
    for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
        if (is_element(c, ns, name)) return c;
    return nullptr;
}

std::vector<xmlNode*> children(const xmlNode* parent, const char* ns, const char* name) {
    std::vector<xmlNode*> out;
    for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
        if (is_element(c, ns, name)) out.push_back(c);
    return out;
}

size_t count_elements(const xmlNode* root, const char* ns, const char* name) {
    size_t n = 0;
    for (const xmlNode* c = root; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (is_element(c, ns, name)) n++;
        n += count_elements(c->children, ns, name);
    }
    return n;
}

bool has_attr(const xmlNode* n, const char* name) {
    return xmlHasNsProp(const_cast<xmlNode*>(n), BAD_CAST name, nullptr) != nullptr;
}

std::string attr(const xmlNode* n, const char* name) {
    // Only attributes without a namespace: SAML's own attributes have none.
    xmlChar* v = xmlGetNoNsProp(n, BAD_CAST name);
    if (!v) return std::string();
    std::string out(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return out;
}

bool text_of(const xmlNode* n, std::string* out) {
    out->clear();
    for (const xmlNode* c = n->children; c; c = c->next) {
        switch (c->type) {
            case XML_TEXT_NODE:
            case XML_CDATA_SECTION_NODE:
                if (c->content) out->append(reinterpret_cast<const char*>(c->content));
                break;
            case XML_COMMENT_NODE:
            case XML_PI_NODE:
                break;  // not text: canonicalisation without comments drops them too
            default:
                return false;
        }
    }
    return true;
}

std::string node_path(const xmlNode* n) {
    std::string path;
    for (; n && n->type == XML_ELEMENT_NODE; n = n->parent)
        path =
            std::string(reinterpret_cast<const char*>(n->name)) + (path.empty() ? "" : "/") + path;
    return path;
}

std::string base64_encode(const unsigned char* p, size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]), p, static_cast<int>(n));
    out.resize(static_cast<size_t>(len));
    return out;
}

namespace {

// 0..63: a base64 digit; 64: whitespace (skipped); 65: '='; 66: anything else.
struct Base64Table {
    unsigned char v[256];
    constexpr Base64Table() : v() {
        for (int i = 0; i < 256; i++) v[i] = 66;
        for (int i = 0; i < 26; i++) v['A' + i] = static_cast<unsigned char>(i);
        for (int i = 0; i < 26; i++) v['a' + i] = static_cast<unsigned char>(26 + i);
        for (int i = 0; i < 10; i++) v['0' + i] = static_cast<unsigned char>(52 + i);
        v['+'] = 62;
        v['/'] = 63;
        v[' '] = v['\t'] = v['\r'] = v['\n'] = 64;
        v['='] = 65;
    }
};
constexpr Base64Table kBase64;

}  // namespace

// The base64 digits, whitespace and padding of a decoder, one at a time.
class Base64Decoder {
  public:
    explicit Base64Decoder(std::string* out, size_t size_hint) : out_(out) {
        out_->resize(size_hint / 4 * 3 + 3);
        dst_ = &(*out_)[0];
    }
    bool feed(unsigned char c) {
        unsigned char v = kBase64.v[c];
        if (v < 64) {
            if (pad_) return false;  // data after padding
            acc_ = (acc_ << 6) | v;
            symbols_++;
            if ((bits_ += 6) >= 8) {
                bits_ -= 8;
                *dst_++ = static_cast<char>((acc_ >> bits_) & 0xff);
            }
            return true;
        }
        if (v == 65) {
            pad_++;
            symbols_++;
            return true;
        }
        return v == 64;
    }
    bool finish() {
        out_->resize(static_cast<size_t>(dst_ - out_->data()));
        return symbols_ > 0 && symbols_ % 4 == 0 && pad_ <= 2;
    }

  private:
    std::string* out_;
    char* dst_;
    uint32_t acc_ = 0;
    int bits_ = 0;
    size_t symbols_ = 0, pad_ = 0;
};

bool base64_decode(std::string_view in, std::string* out) {
    Base64Decoder d(out, in.size());
    for (unsigned char c : in)
        if (!d.feed(c)) return false;
    return d.finish();
}

static int hexval(char c);

int form_base64_decode(std::string_view in, std::string* out) {
    Base64Decoder d(out, in.size());
    for (size_t i = 0; i < in.size(); i++) {
        unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == '%') {
            if (i + 2 >= in.size()) return -1;
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = static_cast<unsigned char>(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (!d.feed(c)) return 0;
    }
    return d.finish() ? 1 : 0;
}

std::string url_encode(std::string_view s) {
    static const char hexd[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3 / 2);
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hexd[c >> 4]);
            out.push_back(hexd[c & 0xf]);
        }
    }
    return out;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool form_decode(std::string_view s, std::string* out) {
    out->clear();
    out->reserve(s.size());
    size_t run = 0;  // start of the pending run of plain bytes
    for (size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        if (c != '%' && c != '+') continue;
        out->append(s.data() + run, i - run);
        if (c == '+') {
            out->push_back(' ');
        } else {
            if (i + 2 >= s.size()) return false;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out->push_back(static_cast<char>(hi << 4 | lo));
            i += 2;
        }
        run = i + 1;
    }
    out->append(s.data() + run, s.size() - run);
    return true;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
        switch (c) {
            case '&':
                out.append("&amp;");
                break;
            case '<':
                out.append("&lt;");
                break;
            case '>':
                out.append("&gt;");
                break;
            case '"':
                out.append("&quot;");
                break;
            case '\'':
                out.append("&apos;");
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::string deflate_raw(std::string_view in) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    // windowBits -15: a raw DEFLATE stream without zlib header or trailer.
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::bad_alloc();
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(&out[0]);
    z.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
    return out;
}

std::string xs_datetime(int64_t ms) {
    time_t t = static_cast<time_t>(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[80];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string new_request_id() {
    unsigned char b[20];
    if (RAND_bytes(b, sizeof(b)) != 1) throw std::runtime_error("RAND_bytes failed");
    // An xs:ID must not start with a digit.
    return "_" + hex(b, sizeof(b));
}

std::string printable(std::string_view s, size_t max) {
    std::string out;
    size_t n = std::min(s.size(), max);
    out.reserve(n + 3);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
    }
    if (s.size() > max) out.append("...");
    return out;
}

}  // namespace scim::saml
