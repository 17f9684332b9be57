// The Assertion Consumer Service: every stateless check of a posted SAML
// Response, one function per rule. Each function names the attack it
// blocks and fails with the same kind of rejection: a SCIM_SAML_* code and
// one line that says what was expected and what came back.
//
// The order matters. Structure is fixed first (one root Response, exactly
// one Assertion, IDs registered by us and unique), then signatures are
// verified against the configured keys only, and only then is content read
// from the very elements the signatures covered.
//
// Why in this order: nearly every published SAML bypass (XSW 1-8 of
// Somorovsky et al. 2012, the 2017-2018 comment-injection CVEs in
// python-saml, ruby-saml, OmniAuth-SAML, Shibboleth and Duo, the 2022-2024
// ruby-saml and xmlsec wrapping CVEs) exploits a gap between the element
// the signature library verified and the element the application read.
// Here that gap cannot open: there is one Assertion, its position is
// fixed, IDs are ours, and the Reference must name the element holding the
// signature. Everything after the signature checks reads those elements.
//
// The SAML rules follow SAML 2.0 core (§2.5 Conditions, §3.2.2 Response)
// and the Web Browser SSO profile (profiles §4.1.4.2-3: a bearer
// SubjectConfirmation with Recipient, NotOnOrAfter, InResponseTo; an
// AudienceRestriction naming the SP; the assertion used once).
#include <xmlsec/crypto.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmltree.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "json.hpp"
#include "saml_border.hpp"
#include "saml_sp.hpp"
#include "scim.h"
#include "util.hpp"

using namespace scim;
using namespace scim::saml;

namespace {

constexpr char kStatusSuccess[] = "urn:oasis:names:tc:SAML:2.0:status:Success";
constexpr char kBearer[] = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
constexpr char kEntityFormat[] = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
constexpr char kEnveloped[] = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
constexpr char kTypeElement[] = "http://www.w3.org/2001/04/xmlenc#Element";
constexpr char kRsa15[] = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";

const char* const kC14n[] = {
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    "http://www.w3.org/2006/12/xml-c14n11",
    "http://www.w3.org/2006/12/xml-c14n11#WithComments",
};
const char* const kSignatureStrong[] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
};
const char* const kSignatureSha1[] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
};
const char* const kDigestStrong[] = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
};
const char* const kDigestSha1[] = {"http://www.w3.org/2000/09/xmldsig#sha1"};
const char* const kDataEncryption[] = {
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc", "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2009/xmlenc11#aes192-gcm",  "http://www.w3.org/2009/xmlenc11#aes256-gcm",
};
const char* const kKeyTransport[] = {
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
};

template <size_t N>
bool listed(const std::string& v, const char* const (&list)[N]) {
    for (const char* s : list)
        if (v == s) return true;
    return false;
}

// A failed security check.
[[noreturn]] void invalid(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void invalid(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail_with(SCIM_SAML_EINVALID, fmt, ap);
}

std::string q(std::string_view s) {
    return printable(s, 160);
}

char* dup(const std::string& s) {
    char* p = static_cast<char*>(malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

struct Acs {
    const Sp& sp;
    int64_t now;
    scim_saml_assertion_t* out;
    Doc doc;
    xmlNode* response = nullptr;
    xmlNode* assertion = nullptr;
    bool response_signed = false;
    bool assertion_signed = false;
    int64_t conditions_end = 0;
    int64_t confirmation_end = 0;
};

/* ---- the message ------------------------------------------------------ */

// Resource exhaustion: a body larger than max_response_size is refused
// before anything is decoded or parsed (the glue refuses a larger
// Content-Length before reading; this covers chunked bodies).
void check_size(const Sp& sp, size_t len) {
    if (len > sp.policy.max_response_size)
        fail_with(SCIM_SAML_ETOOBIG, "the ACS body has %zu bytes; max_response_size is %zu", len,
                  sp.policy.max_response_size);
}

// HTTP parameter pollution: SAMLResponse (and RelayState) must appear once,
// or a second copy could be what one component reads and another checks.
// Malformed input: SAMLResponse must be strict base64 (decoded here, in the
// same pass as the form encoding).
void read_form(std::string_view body, std::string* xml, std::string* relay, bool* has_relay) {
    bool seen = false;
    *has_relay = false;
    while (!body.empty()) {
        size_t amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        size_t eq = pair.find('=');
        std::string_view key = pair.substr(0, eq);
        std::string_view value =
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        int rc = 1;
        if (key == "SAMLResponse") {
            if (seen) fail_with(SCIM_SAML_EMALFORMED, "SAMLResponse appears twice in the form");
            seen = true;
            rc = form_base64_decode(value, xml);
            if (rc == 0) fail_with(SCIM_SAML_EMALFORMED, "SAMLResponse is not valid base64");
        } else if (key == "RelayState") {
            if (*has_relay) fail_with(SCIM_SAML_EMALFORMED, "RelayState appears twice in the form");
            *has_relay = true;
            rc = form_decode(value, relay) ? 1 : -1;
        }
        if (rc < 0)
            fail_with(SCIM_SAML_EMALFORMED, "%.*s is not valid form encoding (a bad %%XX escape)",
                      static_cast<int>(key.size()), key.data());
    }
    if (!seen)
        fail_with(SCIM_SAML_EMALFORMED,
                  "no SAMLResponse in the body (expected an HTTP-POST binding form, "
                  "application/x-www-form-urlencoded)");
}

// XXE, entity expansion ("billion laughs") and network access while
// parsing: parse_untrusted() refuses any DOCTYPE before its internal subset
// is read and never touches the network.
void parse_response(Acs& a, const std::string& xml) {
    a.doc = parse_untrusted(xml);
    a.response = xmlDocGetRootElement(a.doc.get());
}

// Confusion with other SAML messages: the root must be a SAML 2.0
// protocol Response. An AuthnRequest, a LogoutRequest or an ArtifactResolve
// posted here is not a login, whatever signature it carries.
void check_root(Acs& a) {
    if (!is_element(a.response, kNsProtocol, "Response"))
        fail_with(
            SCIM_SAML_EMALFORMED, "expected a samlp:Response (%s), got <%s%s%s>", kNsProtocol,
            q(reinterpret_cast<const char*>(a.response->name)).c_str(),
            a.response->ns ? " in " : "",
            a.response->ns ? q(reinterpret_cast<const char*>(a.response->ns->href)).c_str() : "");
    if (attr(a.response, "Version") != "2.0")
        invalid("Response Version is \"%s\", expected \"2.0\"",
                q(attr(a.response, "Version")).c_str());
}

// Signature wrapping through ambiguous IDs: without a DTD nothing is an ID
// until we say so, so we register exactly the IDs of the elements we
// consume. A value that is already an ID (a second element with the same
// ID, or an xml:id planted by the attacker) is refused, so a "#ID"
// reference can only resolve to the element we then read.
void register_id(Acs& a, xmlNode* n, const char* what) {
    xmlAttr* id = xmlHasNsProp(n, BAD_CAST "ID", nullptr);
    xmlChar* v = id ? xmlNodeGetContent(reinterpret_cast<xmlNode*>(id)) : nullptr;
    std::string value = v ? reinterpret_cast<const char*>(v) : "";
    xmlFree(v);
    if (value.empty()) invalid("the %s has no ID attribute", what);
    if (xmlGetID(a.doc.get(), BAD_CAST value.c_str()) != nullptr)
        invalid("the %s's ID \"%s\" is used twice in the document (signature wrapping)", what,
                q(value).c_str());
    if (xmlAddID(nullptr, a.doc.get(), BAD_CAST value.c_str(), id) == nullptr)
        invalid("the %s's ID \"%s\" cannot be registered", what, q(value).c_str());
}

// Signature wrapping through a second assertion: exactly one Assertion or
// EncryptedAssertion may exist anywhere in the document (inside
// Extensions, a Signature's Object or Advice included), and it must be a
// child of the Response. Then there is nothing else a check could be
// fooled into reading.
xmlNode* single_assertion(Acs& a) {
    size_t plain = count_elements(a.response, kNsAssertion, "Assertion");
    size_t encrypted = count_elements(a.response, kNsAssertion, "EncryptedAssertion");
    if (plain + encrypted != 1)
        invalid(
            "the Response holds %zu assertions (%zu Assertion, %zu EncryptedAssertion); "
            "exactly one is accepted",
            plain + encrypted, plain, encrypted);
    xmlNode* n = child(a.response, kNsAssertion, plain ? "Assertion" : "EncryptedAssertion");
    if (!n)
        invalid("the only %s is not a child of the Response (signature wrapping)",
                plain ? "Assertion" : "EncryptedAssertion");
    return n;
}

/* ---- signatures ------------------------------------------------------- */

// Algorithm substitution: only the canonicalisations, signature and digest
// methods listed above; SHA-1 only with allow_sha1. Signature wrapping
// through references: exactly one Reference, whose URI is the bare "#ID"
// of the element that carries the signature (no "", no XPointer, no other
// element), with only enveloped-signature and canonicalisation transforms
// (no XPath or XSLT filter that could cut the signed content away).
void check_signed_info(const Acs& a, xmlNode* sig, const std::string& id, const char* what) {
    xmlNode* si = child(sig, kNsDsig, "SignedInfo");
    if (!si) invalid("the %s signature has no SignedInfo", what);
    bool sha1 = a.sp.policy.allow_sha1;
    std::string c14n = attr(child(si, kNsDsig, "CanonicalizationMethod"), "Algorithm");
    if (!listed(c14n, kC14n))
        invalid(
            "the %s signature uses CanonicalizationMethod \"%s\"; expected exclusive or "
            "inclusive XML canonicalisation",
            what, q(c14n).c_str());
    std::string method = attr(child(si, kNsDsig, "SignatureMethod"), "Algorithm");
    if (listed(method, kSignatureSha1) && !sha1)
        invalid(
            "the %s signature uses SHA-1 (%s), refused; expected RSA or ECDSA with SHA-256 or "
            "stronger (allow_sha1 on accepts SHA-1)",
            what, q(method).c_str());
    if (!listed(method, kSignatureStrong) && !(sha1 && listed(method, kSignatureSha1)))
        invalid(
            "the %s signature uses SignatureMethod \"%s\"; expected RSA or ECDSA with SHA-256 "
            "or stronger",
            what, q(method).c_str());
    std::vector<xmlNode*> refs = children(si, kNsDsig, "Reference");
    if (refs.size() != 1)
        invalid("the %s signature has %zu References; exactly one is accepted", what, refs.size());
    std::string uri = attr(refs[0], "URI");
    if (uri != "#" + id)
        invalid(
            "the %s signature references \"%s\", expected \"#%s\" (the ID of the signed "
            "%s itself)",
            what, q(uri).c_str(), q(id).c_str(), what);
    for (xmlNode* t : children(child(refs[0], kNsDsig, "Transforms"), kNsDsig, "Transform")) {
        std::string alg = attr(t, "Algorithm");
        if (alg != kEnveloped && !listed(alg, kC14n))
            invalid(
                "the %s signature uses Transform \"%s\"; only enveloped-signature and "
                "canonicalisation are accepted",
                what, q(alg).c_str());
    }
    std::string digest = attr(child(refs[0], kNsDsig, "DigestMethod"), "Algorithm");
    if (listed(digest, kDigestSha1) && !sha1)
        invalid(
            "the %s signature digests with SHA-1 (%s), refused; expected SHA-256 or stronger "
            "(allow_sha1 on accepts SHA-1)",
            what, q(digest).c_str());
    if (!listed(digest, kDigestStrong) && !(sha1 && listed(digest, kDigestSha1)))
        invalid("the %s signature uses DigestMethod \"%s\"; expected SHA-256 or stronger", what,
                q(digest).c_str());
}

// The same allow-lists, enforced by xmlsec itself, and the URI types a
// Reference may use (same-document only: nothing is ever fetched).
void restrict_context(xmlSecDSigCtx* ctx, bool sha1) {
    ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
    ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
    xmlSecTransformId c14n[] = {
        xmlSecTransformExclC14NId,   xmlSecTransformExclC14NWithCommentsId,
        xmlSecTransformInclC14NId,   xmlSecTransformInclC14NWithCommentsId,
        xmlSecTransformInclC14N11Id, xmlSecTransformInclC14N11WithCommentsId};
    xmlSecTransformId sign[] = {xmlSecTransformRsaSha256Id,   xmlSecTransformRsaSha384Id,
                                xmlSecTransformRsaSha512Id,   xmlSecTransformEcdsaSha256Id,
                                xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id};
    xmlSecTransformId digest[] = {xmlSecTransformSha256Id, xmlSecTransformSha384Id,
                                  xmlSecTransformSha512Id};
    bool ok = true;
    for (xmlSecTransformId t : c14n)
        ok = ok && xmlSecDSigCtxEnableSignatureTransform(ctx, t) >= 0 &&
             xmlSecDSigCtxEnableReferenceTransform(ctx, t) >= 0;
    for (xmlSecTransformId t : sign) ok = ok && xmlSecDSigCtxEnableSignatureTransform(ctx, t) >= 0;
    for (xmlSecTransformId t : digest)
        ok = ok && xmlSecDSigCtxEnableReferenceTransform(ctx, t) >= 0;
    ok = ok && xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) >= 0;
    if (sha1)
        ok = ok && xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha1Id) >= 0 &&
             xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha1Id) >= 0 &&
             xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha1Id) >= 0;
    if (!ok) throw std::bad_alloc();
}

// Unsigned or forged content, foreign keys: the signature must verify
// with one of the configured IdP keys. The key is lent to the context, so
// whatever KeyInfo the message carries (a certificate of the attacker's
// own, say) is never read. Both xmlsec's return code and its status are
// checked, and the single processed Reference must be the "#ID" we expect
// and have verified.
void verify_signature(Acs& a, xmlNode* element, const char* what) {
    std::vector<xmlNode*> sigs = children(element, kNsDsig, "Signature");
    if (sigs.size() != 1)
        invalid("the %s carries %zu Signature elements; one is accepted", what, sigs.size());
    std::string id = attr(element, "ID");
    check_signed_info(a, sigs[0], id, what);

    const std::string expected_uri = "#" + id;
    const size_t n = a.sp.idp_keys.size();
    std::string why;
    ErrorCapture errors;
    for (size_t k = 0; k < n; k++) {
        size_t i = (a.sp.preferred_key + k) % n;
        DSigCtx ctx;
        restrict_context(ctx.get(), a.sp.policy.allow_sha1);
        ctx.lend(a.sp.idp_keys[i].key.get());
        int rc = xmlSecDSigCtxVerify(ctx.get(), sigs[0]);
        if (rc < 0) {
            if (why.empty()) why = errors.message();
            continue;
        }
        if (ctx.get()->status != xmlSecDSigStatusSucceeded) {
            if (why.empty()) why = "the signature value does not match";
            continue;
        }
        xmlSecPtrListPtr refs = &ctx.get()->signedInfoReferences;
        auto* ref = xmlSecPtrListGetSize(refs) == 1
                        ? static_cast<xmlSecDSigReferenceCtxPtr>(xmlSecPtrListGetItem(refs, 0))
                        : nullptr;
        if (!ref || ref->status != xmlSecDSigStatusSucceeded || ref->uri == nullptr ||
            expected_uri != reinterpret_cast<const char*>(ref->uri))
            invalid("the %s signature verified, but not over exactly the reference \"%s\"", what,
                    q(expected_uri).c_str());
        a.sp.preferred_key = i;
        return;
    }
    invalid("the %s signature does not verify with %s: %s", what,
            n == 1 ? "the configured IdP certificate"
                   : format("any of the %zu configured IdP certificates", n).c_str(),
            why.empty() ? "no detail" : q(why).c_str());
}

// EncryptedAssertion: decrypted with sp_key, after the Response signature
// (which covers the ciphertext) was checked. Key transport RSA-1_5 is
// refused (Bleichenbacher's padding oracle) and so is anything but AES.
// Anyone can encrypt to the SP's public certificate, so the encrypted
// content is the attacker's until a signature says otherwise. XML
// Encryption lets CipherData point elsewhere (CipherReference: any URI, a
// local file included, with XPath or XSLT Transforms), and xmlsec follows
// such a reference before any signature is checked: an unauthenticated
// POST would make the worker fetch URLs, read files and run transforms.
// Only inline CipherValues are accepted, anywhere in the subtree (the
// EncryptedKey is decrypted by a context xmlsec creates itself, so the
// check must be structural).
void refuse_external_cipher_data(const xmlNode* n) {
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        const char* name = reinterpret_cast<const char*>(n->name);
        const char* ns = n->ns ? reinterpret_cast<const char*>(n->ns->href) : "";
        bool xenc = strcmp(ns, kNsXenc) == 0, dsig = strcmp(ns, kNsDsig) == 0;
        if (xenc && strcmp(name, "CipherReference") == 0)
            invalid("the EncryptedAssertion refers to its cipher data by URI (CipherReference); "
                    "only inline CipherValue is accepted");
        if ((xenc || dsig) && (strcmp(name, "Transforms") == 0 || strcmp(name, "Transform") == 0))
            invalid("the EncryptedAssertion carries Transforms; none are accepted");
        if (dsig && strcmp(name, "RetrievalMethod") == 0)
            invalid("the EncryptedAssertion's KeyInfo uses a RetrievalMethod; none is accepted");
        refuse_external_cipher_data(n->children);
    }
}

// Decryption gives confidentiality, not authenticity: the decrypted
// assertion still needs a signature of its own or a signed Response.
xmlNode* decrypt_assertion(Acs& a, xmlNode* encrypted) {
    if (!a.sp.decrypt_keys)
        invalid("the assertion is encrypted, but no sp_key is configured to decrypt it");
    refuse_external_cipher_data(encrypted->children);
    xmlNode* data = child(encrypted, kNsXenc, "EncryptedData");
    if (!data) invalid("the EncryptedAssertion holds no xenc:EncryptedData");
    std::string type = attr(data, "Type");
    if (!type.empty() && type != kTypeElement)
        invalid("EncryptedData Type is \"%s\", expected \"%s\"", q(type).c_str(), kTypeElement);
    std::string alg = attr(child(data, kNsXenc, "EncryptionMethod"), "Algorithm");
    if (!listed(alg, kDataEncryption))
        invalid("the assertion is encrypted with \"%s\"; expected AES-CBC or AES-GCM",
                q(alg).c_str());

    xmlNode* inline_key = child(child(data, kNsDsig, "KeyInfo"), kNsXenc, "EncryptedKey");
    xmlNode* sibling_key = child(encrypted, kNsXenc, "EncryptedKey");
    xmlNode* key_node = inline_key ? inline_key : sibling_key;
    if (!key_node) invalid("the EncryptedAssertion carries no EncryptedKey");
    std::string transport = attr(child(key_node, kNsXenc, "EncryptionMethod"), "Algorithm");
    if (transport == kRsa15)
        invalid(
            "the assertion key is wrapped with RSA-1_5, refused (padding oracle); expected "
            "RSA-OAEP");
    if (!listed(transport, kKeyTransport))
        invalid("the assertion key is wrapped with \"%s\"; expected RSA-OAEP",
                q(transport).c_str());

    ErrorCapture errors;
    EncCtx ctx(a.sp.decrypt_keys.get());
    ctx.get()->keyInfoReadCtx.maxRetrievalMethodLevel = 0;  // no RetrievalMethod
    ctx.get()->transformCtx.enabledUris = xmlSecTransformUriTypeNone;  // nothing is fetched
    if (!inline_key) {
        // The key sits next to EncryptedData (as Shibboleth sends it):
        // unwrap it first, then hand it to the data context.
        EncCtx unwrap(a.sp.decrypt_keys.get());
        unwrap.get()->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
        unwrap.get()->transformCtx.enabledUris = xmlSecTransformUriTypeNone;
        xmlSecBufferPtr raw = xmlSecEncCtxDecryptToBuffer(unwrap.get(), sibling_key);
        if (!raw)
            invalid("the EncryptedKey cannot be decrypted with sp_key: %s",
                    q(errors.message()).c_str());
        ctx.get()->encKey = xmlSecKeyReadMemory(xmlSecKeyDataAesId, xmlSecBufferGetData(raw),
                                                xmlSecBufferGetSize(raw));
        if (!ctx.get()->encKey) invalid("the EncryptedKey does not hold an AES key");
    }
    if (xmlSecEncCtxDecrypt(ctx.get(), data) < 0 || ctx.get()->result == nullptr)
        invalid("the EncryptedAssertion cannot be decrypted with sp_key: %s",
                q(errors.message()).c_str());
    if (!ctx.get()->resultReplaced &&
        xmlSecReplaceNodeBuffer(data, xmlSecBufferGetData(ctx.get()->result),
                                xmlSecBufferGetSize(ctx.get()->result)) < 0)
        invalid("the decrypted assertion is not XML: %s", q(errors.message()).c_str());

    // The plaintext is parsed in place (inside EncryptedAssertion); it must
    // be exactly one Assertion and the only one in the document.
    xmlNode* found = nullptr;
    size_t elements = 0;
    for (xmlNode* c = encrypted->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || is_element(c, kNsXenc, "EncryptedKey")) continue;
        elements++;
        if (is_element(c, kNsAssertion, "Assertion")) found = c;
    }
    if (!found || elements != 1)
        invalid("the EncryptedAssertion does not decrypt to exactly one saml:Assertion");
    if (count_elements(a.response, kNsAssertion, "Assertion") != 1)
        invalid("the decrypted content holds more than one Assertion");
    return found;
}

// Unsigned responses: at least one of the Response and the Assertion must
// carry a valid signature (each one present was verified above). With only
// the Assertion signed, the Response's own attributes (Destination,
// InResponseTo, Status) are unsigned: the checks below therefore take the
// signed SubjectConfirmationData (Recipient, InResponseTo) as authority
// and only use the unsigned ones to refuse, never to accept.
void require_signature(const Acs& a) {
    if (!a.response_signed && !a.assertion_signed)
        invalid("neither the Response nor the Assertion is signed; an IdP signature is required");
}

/* ---- content, read only from signed elements -------------------------- */

std::string text(xmlNode* n, const char* what) {
    std::string v;
    if (!text_of(n, &v)) invalid("%s holds markup, expected text", what);
    return std::string(trim(v));
}

// A failed login passed off as a success: the top-level StatusCode must
// be Success. Otherwise the IdP's codes and message say why.
void check_status(const Acs& a) {
    xmlNode* status = child(a.response, kNsProtocol, "Status");
    xmlNode* code = child(status, kNsProtocol, "StatusCode");
    std::string value = attr(code, "Value");
    if (value == kStatusSuccess) return;
    std::string second = attr(child(code, kNsProtocol, "StatusCode"), "Value");
    xmlNode* msg = child(status, kNsProtocol, "StatusMessage");
    std::string message;
    if (msg) text_of(msg, &message);
    invalid("the IdP answered status \"%s\"%s%s%s%s, expected Success", q(value).c_str(),
            second.empty() ? "" : " / ", q(second).c_str(), message.empty() ? "" : ": ",
            q(std::string(trim(message))).c_str());
}

// Assertions from another IdP (or another tenant of the same one): the
// Assertion's Issuer, and the Response's when present, must be the
// configured IdP entityID. The keys already pin the IdP; the Issuer check
// also catches one IdP key shared by several tenants or entities (ADFS and
// Keycloak realms can share a signing certificate). The Format, when
// given, must be the entity format (core §8.3.6).
void check_issuer(const Acs& a) {
    const std::string& idp = a.sp.opt(SCIM_SAML_IDP_ENTITY_ID);
    xmlNode* ri = child(a.response, kNsAssertion, "Issuer");
    if (ri) {
        std::string v = text(ri, "the Response Issuer");
        std::string fmt = attr(ri, "Format");
        if (!fmt.empty() && fmt != kEntityFormat)
            invalid("the Response Issuer has Format \"%s\", expected the entity format",
                    q(fmt).c_str());
        if (v != idp)
            invalid("the Response Issuer is \"%s\", expected \"%s\"", q(v).c_str(), q(idp).c_str());
    }
    xmlNode* ai = child(a.assertion, kNsAssertion, "Issuer");
    if (!ai) invalid("the Assertion has no Issuer");
    std::string v = text(ai, "the Assertion Issuer");
    std::string fmt = attr(ai, "Format");
    if (!fmt.empty() && fmt != kEntityFormat)
        invalid("the Assertion Issuer has Format \"%s\", expected the entity format",
                q(fmt).c_str());
    if (v != idp)
        invalid("the Assertion Issuer is \"%s\", expected \"%s\"", q(v).c_str(), q(idp).c_str());
    if (attr(a.assertion, "Version") != "2.0")
        invalid("the Assertion Version is \"%s\", expected \"2.0\"",
                q(attr(a.assertion, "Version")).c_str());
}

// A response meant for another SP's endpoint, forwarded to ours: the
// Destination must be our ACS URL. A signed Response must carry one
// (SAML core §3.2.2).
void check_destination(const Acs& a) {
    const std::string& acs = a.sp.opt(SCIM_SAML_SP_ACS_URL);
    if (!has_attr(a.response, "Destination")) {
        if (a.response_signed)
            invalid("the signed Response has no Destination, expected \"%s\"", q(acs).c_str());
        return;
    }
    std::string d = attr(a.response, "Destination");
    if (d != acs)
        invalid("the Response Destination is \"%s\", expected \"%s\"", q(d).c_str(),
                q(acs).c_str());
}

int64_t time_attr(xmlNode* n, const char* name, const char* where) {
    std::string v = attr(n, name);
    int64_t ms;
    if (!parse_datetime(v, &ms))
        invalid("%s %s \"%s\" is not an xs:dateTime", where, name, q(v).c_str());
    return ms;
}

// Replayed and stale assertions, assertions for another SP's endpoint:
// a bearer SubjectConfirmation whose data names our ACS as Recipient, has
// a NotOnOrAfter still ahead (with the clock skew) and, where the Response
// answers a request, the same InResponseTo.
//
// A bearer assertion proves nothing about who presents it (profiles
// §3.3), so its use is bounded in space (Recipient: only our ACS) and time
// (NotOnOrAfter, required by the SSO profile). Several confirmations may
// be listed; one that passes every test is enough, and the first failure
// is what the log reports. The holder-of-key and sender-vouches methods
// need a key or a channel binding this SP does not have: they are not
// accepted. The SubjectConfirmationData lies inside the signed assertion,
// which makes its InResponseTo the authority over the Response's: when an
// unsigned Response answers a request, the confirmation must name that
// request too, or an unsolicited assertion could be wrapped in a Response
// carrying someone's pending request ID (profiles §4.1.4.2).
//
// The replay record must outlive every confirmation that could still
// pass: the assertion ID is kept until the latest NotOnOrAfter among the
// bearer confirmations, not only the one that passed.
void check_subject_confirmation(Acs& a) {
    const std::string& acs = a.sp.opt(SCIM_SAML_SP_ACS_URL);
    const int64_t skew = a.sp.policy.clock_skew_ms;
    xmlNode* subject = child(a.assertion, kNsAssertion, "Subject");
    if (!subject) invalid("the Assertion has no Subject");
    std::string irt = attr(a.response, "InResponseTo");
    std::vector<xmlNode*> confirmations = children(subject, kNsAssertion, "SubjectConfirmation");
    int64_t latest_end = 0;
    for (xmlNode* sc : confirmations) {
        xmlNode* d = child(sc, kNsAssertion, "SubjectConfirmationData");
        if (attr(sc, "Method") == kBearer && d && has_attr(d, "NotOnOrAfter"))
            latest_end = std::max(latest_end, time_attr(d, "NotOnOrAfter", "SubjectConfirmationData"));
    }
    std::string first_failure;
    for (xmlNode* sc : confirmations) {
        std::string method = attr(sc, "Method");
        if (method != kBearer) {
            if (first_failure.empty())
                first_failure = format("SubjectConfirmation Method is \"%s\", expected bearer",
                                       q(method).c_str());
            continue;
        }
        xmlNode* d = child(sc, kNsAssertion, "SubjectConfirmationData");
        std::string why;
        std::string recipient = attr(d, "Recipient");
        if (!d) {
            why = "the bearer SubjectConfirmation has no SubjectConfirmationData";
        } else if (recipient != acs) {
            why = format("SubjectConfirmationData Recipient is \"%s\", expected \"%s\"",
                         q(recipient).c_str(), q(acs).c_str());
        } else if (!has_attr(d, "NotOnOrAfter")) {
            why = "SubjectConfirmationData has no NotOnOrAfter";
        } else {
            int64_t end = time_attr(d, "NotOnOrAfter", "SubjectConfirmationData");
            if (a.now - skew >= end) {
                why = format(
                    "SubjectConfirmationData NotOnOrAfter %s has passed (now %s, clock "
                    "skew %llds)",
                    q(attr(d, "NotOnOrAfter")).c_str(), xs_datetime(a.now).c_str(),
                    static_cast<long long>(skew / 1000));
            } else if (has_attr(d, "NotBefore") &&
                       time_attr(d, "NotBefore", "SubjectConfirmationData") > a.now + skew) {
                why = format("SubjectConfirmationData NotBefore %s is still ahead (now %s)",
                             q(attr(d, "NotBefore")).c_str(), xs_datetime(a.now).c_str());
            } else if (has_attr(d, "InResponseTo") && !irt.empty() &&
                       attr(d, "InResponseTo") != irt) {
                why = format(
                    "SubjectConfirmationData InResponseTo is \"%s\", the Response's is "
                    "\"%s\"",
                    q(attr(d, "InResponseTo")).c_str(), q(irt).c_str());
            } else if (!has_attr(d, "InResponseTo") && !irt.empty() && !a.response_signed) {
                why = format(
                    "SubjectConfirmationData has no InResponseTo, and only the unsigned "
                    "Response says it answers \"%s\"",
                    q(irt).c_str());
            } else {
                a.confirmation_end = latest_end;
                if (irt.empty() && has_attr(d, "InResponseTo"))
                    a.out->in_response_to = dup(attr(d, "InResponseTo"));
                return;
            }
        }
        if (first_failure.empty()) first_failure = why;
    }
    invalid("no usable bearer SubjectConfirmation: %s",
            first_failure.empty() ? "the Subject has none" : first_failure.c_str());
}

// Expired and not-yet-valid assertions, and assertions for another SP:
// Conditions NotBefore/NotOnOrAfter with the clock skew, and every
// AudienceRestriction must name our entityID (at least one is required:
// an assertion for anyone is an assertion for every SP of that IdP).
//
// Core §2.5.1.4: within one AudienceRestriction any Audience will do,
// while several AudienceRestriction elements must all be satisfied. The
// skew is applied on both ends and only there: a clock far off in either
// direction makes logins fail visibly (the log names both times) rather
// than widening what is accepted. OneTimeUse needs no handling: every
// assertion is single use here.
void check_conditions(Acs& a) {
    const int64_t skew = a.sp.policy.clock_skew_ms;
    xmlNode* c = child(a.assertion, kNsAssertion, "Conditions");
    if (!c) invalid("the Assertion has no Conditions (an AudienceRestriction is required)");
    if (has_attr(c, "NotBefore")) {
        int64_t nb = time_attr(c, "NotBefore", "Conditions");
        if (nb > a.now + skew)
            invalid(
                "the Assertion is not yet valid: Conditions NotBefore is %s, now is %s (clock "
                "skew %llds)",
                q(attr(c, "NotBefore")).c_str(), xs_datetime(a.now).c_str(),
                static_cast<long long>(skew / 1000));
    }
    if (has_attr(c, "NotOnOrAfter")) {
        int64_t end = time_attr(c, "NotOnOrAfter", "Conditions");
        if (a.now - skew >= end)
            invalid(
                "the Assertion expired: Conditions NotOnOrAfter is %s, now is %s (clock skew "
                "%llds)",
                q(attr(c, "NotOnOrAfter")).c_str(), xs_datetime(a.now).c_str(),
                static_cast<long long>(skew / 1000));
        a.conditions_end = end;
    }
    const std::string& me = a.sp.opt(SCIM_SAML_SP_ENTITY_ID);
    std::vector<xmlNode*> restrictions = children(c, kNsAssertion, "AudienceRestriction");
    if (restrictions.empty())
        invalid("the Assertion has no AudienceRestriction, expected one naming \"%s\"",
                q(me).c_str());
    for (xmlNode* r : restrictions) {
        bool found = false;
        std::string seen;
        for (xmlNode* au : children(r, kNsAssertion, "Audience")) {
            std::string v = text(au, "Audience");
            if (v == me) found = true;
            if (seen.empty()) seen = v;
        }
        if (!found)
            invalid("the Assertion's Audience is \"%s\", expected \"%s\" (sp_entity_id)",
                    q(seen).c_str(), q(me).c_str());
    }
}

// Unsolicited responses (login CSRF, an attacker's own assertion pushed
// into a victim's browser): without InResponseTo a Response is accepted
// only with idp_initiated on. Whether InResponseTo names a request this SP
// sent to this browser is checked by the caller, which holds that state
// (mod_auth_mellon only checks that some login cookie exists; the glue
// keeps each request ID with the nonce of the browser that started it
// and consumes it, so one answer is accepted once, from that browser).
void check_in_response_to(Acs& a) {
    std::string irt = attr(a.response, "InResponseTo");
    if (!irt.empty()) {
        free(a.out->in_response_to);
        a.out->in_response_to = dup(irt);
    }
    if (!a.out->in_response_to && !a.sp.policy.idp_initiated)
        invalid(
            "the Response answers no request (no InResponseTo) and IdP-initiated login is off "
            "(idp_initiated)");
}

// Comment injection in the NameID (CVE-2017-11427 and its siblings):
// "victim@example.com<!---->.evil.test" is signed as
// "victim@example.com.evil.test" because canonicalisation drops comments;
// reading only the first text node would log the attacker in as the
// victim. text_of() reads every text node, and markup inside the NameID is
// refused.
void read_subject(Acs& a) {
    xmlNode* subject = child(a.assertion, kNsAssertion, "Subject");
    xmlNode* nameid = child(subject, kNsAssertion, "NameID");
    if (!nameid) {
        if (child(subject, kNsAssertion, "EncryptedID"))
            invalid("the Subject has an EncryptedID; encrypted NameIDs are not supported");
        invalid("the Subject has no NameID");
    }
    std::string v = text(nameid, "the NameID");
    if (v.empty()) invalid("the NameID is empty");
    a.out->name_id = dup(v);
    if (has_attr(nameid, "Format")) a.out->name_id_format = dup(attr(nameid, "Format"));
}

// Attribute values are read the same canonical way; the login attribute,
// when configured, replaces the NameID as the link to the user. They are
// only read when something uses them (jit or login_attribute).
void read_attributes(Acs& a) {
    const std::string& wanted = a.sp.opt(SCIM_SAML_LOGIN_ATTRIBUTE);
    if (!a.sp.policy.jit && wanted.empty()) {
        a.out->login = dup(a.out->name_id);
        return;
    }
    Json attrs = take(json_object());
    for (xmlNode* st : children(a.assertion, kNsAssertion, "AttributeStatement")) {
        for (xmlNode* at : children(st, kNsAssertion, "Attribute")) {
            std::string names[2] = {attr(at, "Name"), attr(at, "FriendlyName")};
            for (xmlNode* v : children(at, kNsAssertion, "AttributeValue")) {
                std::string value;
                if (!text_of(v, &value)) continue;  // structured values are not used
                value = std::string(trim(value));
                for (const std::string& name : names) {
                    if (name.empty() || (&name == &names[1] && name == names[0])) continue;
                    json_t* arr = json_object_get(attrs.get(), name.c_str());
                    if (!arr) {
                        arr = json_array();
                        json_object_set_new(attrs.get(), name.c_str(), arr);
                    }
                    json_array_append_new(arr, json_stringn(value.data(), value.size()));
                }
            }
        }
    }
    a.out->attributes = dup(dump(attrs.get()));
    if (wanted.empty()) {
        a.out->login = dup(a.out->name_id);
        return;
    }
    json_t* values = json_object_get(attrs.get(), wanted.c_str());
    if (!values) values = object_get_ci(attrs.get(), wanted);
    for (size_t i = 0; i < json_array_size(values); i++) {
        std::string_view v = str_view(json_array_get(values, i));
        if (!v.empty()) {
            a.out->login = dup(std::string(v));
            return;
        }
    }
    invalid("the Assertion has no value for attribute \"%s\" (login_attribute)", q(wanted).c_str());
}

void read_authn_statement(Acs& a) {
    xmlNode* as = child(a.assertion, kNsAssertion, "AuthnStatement");
    if (!as) return;
    if (has_attr(as, "SessionIndex")) a.out->session_index = dup(attr(as, "SessionIndex"));
    if (has_attr(as, "SessionNotOnOrAfter"))
        a.out->session_not_on_or_after = time_attr(as, "SessionNotOnOrAfter", "AuthnStatement");
}

void verify(Acs& a, const char* body, size_t len) {
    check_size(a.sp, len);
    std::string xml, relay;
    bool has_relay;
    read_form(std::string_view(body, len), &xml, &relay, &has_relay);
    if (has_relay) a.out->relay_state = dup(relay);
    parse_response(a, xml);
    check_root(a);
    register_id(a, a.response, "Response");
    xmlNode* first = single_assertion(a);

    if (child(a.response, kNsDsig, "Signature")) {
        verify_signature(a, a.response, "Response");
        a.response_signed = true;
    }
    if (is_element(first, kNsAssertion, "EncryptedAssertion")) {
        a.assertion = decrypt_assertion(a, first);
    } else {
        a.assertion = first;
    }
    register_id(a, a.assertion, "Assertion");
    if (child(a.assertion, kNsDsig, "Signature")) {
        verify_signature(a, a.assertion, "Assertion");
        a.assertion_signed = true;
    }
    require_signature(a);

    check_status(a);
    check_issuer(a);
    check_destination(a);
    check_subject_confirmation(a);
    check_conditions(a);
    check_in_response_to(a);
    read_subject(a);
    read_attributes(a);
    read_authn_statement(a);

    a.out->issuer = dup(a.sp.opt(SCIM_SAML_IDP_ENTITY_ID));
    a.out->assertion_id = dup(attr(a.assertion, "ID"));
    // The assertion is refused after both ends (plus the skew), so its ID
    // need not be remembered longer.
    a.out->replay_until =
        std::max(a.conditions_end, a.confirmation_end) + a.sp.policy.clock_skew_ms;
}

}  // namespace

extern "C" int scim_saml_acs_verify(const scim_saml_sp_t* sp, const char* body, size_t len,
                                    int64_t now_ms, scim_saml_assertion_t* out) noexcept {
    memset(out, 0, sizeof(*out));
    return border(out->reason, sizeof(out->reason), [&] {
        Acs a{*sp, now_ms, out, nullptr};
        verify(a, body, len);
    });
}

extern "C" void scim_saml_assertion_free(scim_saml_assertion_t* a) noexcept {
    char** fields[] = {&a->issuer,         &a->name_id,       &a->name_id_format,
                       &a->login,          &a->session_index, &a->assertion_id,
                       &a->in_response_to, &a->relay_state,   &a->attributes};
    for (char** f : fields) {
        free(*f);
        *f = nullptr;
    }
}
