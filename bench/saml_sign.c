/*
 * Many distinct signed SAML Responses for the ACS benchmark: the ACS
 * accepts each assertion once (replay), so every request needs its own.
 * The xmlsec1 command-line tool signs the test suite's responses; at tens
 * of thousands it would take hours, so the benchmark signs in-process with
 * libxmlsec1, the key loaded once. The module's code is not involved.
 *
 *   saml_sign KEY.pem CERT.pem N FIRST RUN ACS SP IDP NAME_ID BODIES XML
 *
 * Writes N lines "SAMLResponse=<url-encoded base64>" to BODIES (IDs
 * numbered from FIRST, tagged RUN) and the first response's XML to XML.
 * Each is an IdP-initiated Response for NAME_ID with a signed Assertion,
 * valid for two hours.
 */

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

static const char template[] =
    "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r%s-%ld\" Version=\"2.0\" "
    "IssueInstant=\"%s\" Destination=\"%s\"><saml:Issuer>%s</saml:Issuer><samlp:Status>"
    "<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>"
    "<saml:Assertion ID=\"_a%s-%ld\" Version=\"2.0\" IssueInstant=\"%s\">"
    "<saml:Issuer>%s</saml:Issuer>"
    "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
    "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>"
    "<ds:Reference URI=\"#_a%s-%ld\"><ds:Transforms>"
    "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
    "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>"
    "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/>"
    "</ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data>"
    "<ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>"
    "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:"
    "emailAddress\">%s</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:"
    "SAML:2.0:cm:bearer\"><saml:SubjectConfirmationData NotOnOrAfter=\"%s\" Recipient=\"%s\"/>"
    "</saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore=\"%s\" "
    "NotOnOrAfter=\"%s\"><saml:AudienceRestriction><saml:Audience>%s</saml:Audience>"
    "</saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant=\"%s\" "
    "SessionIndex=\"_s%s-%ld\"><saml:AuthnContext><saml:AuthnContextClassRef>"
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
    "<saml:AttributeStatement><saml:Attribute Name=\"givenName\"><saml:AttributeValue>Bench"
    "</saml:AttributeValue></saml:Attribute><saml:Attribute Name=\"sn\"><saml:AttributeValue>"
    "User</saml:AttributeValue></saml:Attribute><saml:Attribute Name=\"groups\">"
    "<saml:AttributeValue>engineering</saml:AttributeValue><saml:AttributeValue>wiki-users"
    "</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"
    "</samlp:Response>";

static void iso(char *buf, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int main(int argc, char **argv)
{
    if (argc != 12) {
        fprintf(stderr, "usage: saml_sign KEY CERT N FIRST RUN ACS SP IDP NAME_ID BODIES XML\n");
        return 2;
    }
    long n = atol(argv[3]), first = atol(argv[4]);
    const char *run = argv[5], *acs = argv[6], *sp = argv[7], *idp = argv[8], *who = argv[9];

    xmlInitParser();
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0
        || xmlSecCryptoInit() < 0) {
        fprintf(stderr, "saml_sign: xmlsec initialisation failed\n");
        return 1;
    }
    xmlSecKeyPtr key = xmlSecCryptoAppKeyLoad(argv[1], xmlSecKeyDataFormatPem, NULL, NULL, NULL);
    if (key == NULL
        || xmlSecCryptoAppKeyCertLoad(key, argv[2], xmlSecKeyDataFormatPem) < 0) {
        fprintf(stderr, "saml_sign: cannot load %s and %s\n", argv[1], argv[2]);
        return 1;
    }
    FILE *bodies = fopen(argv[10], "w");
    if (!bodies) { perror(argv[10]); return 1; }

    time_t t = time(NULL);
    char issued[32], before[32], after[32];
    iso(issued, t);
    iso(before, t - 60);
    iso(after, t + 7200);

    static char xml[16384];
    static unsigned char b64[32768];
    static char line[65536];
    for (long i = first; i < first + n; i++) {
        int len = snprintf(xml, sizeof(xml), template, run, i, issued, acs, idp, run, i, issued,
                           idp, run, i, who, after, acs, before, after, sp, issued, run, i);
        xmlDocPtr doc = xmlReadMemory(xml, len, NULL, NULL, XML_PARSE_NONET);
        xmlNodePtr assertion = xmlSecFindNode(xmlDocGetRootElement(doc), BAD_CAST "Assertion",
                                              BAD_CAST "urn:oasis:names:tc:SAML:2.0:assertion");
        xmlAttrPtr id = xmlHasProp(assertion, BAD_CAST "ID");
        xmlChar *v = xmlNodeGetContent((xmlNodePtr) id);
        xmlAddID(NULL, doc, v, id);
        xmlFree(v);
        xmlSecDSigCtx ctx;
        xmlSecDSigCtxInitialize(&ctx, NULL);
        ctx.signKey = key;
        if (xmlSecDSigCtxSign(&ctx, xmlSecFindNode(assertion, xmlSecNodeSignature,
                                                   xmlSecDSigNs)) < 0) {
            fprintf(stderr, "saml_sign: signing response %ld failed\n", i);
            return 1;
        }
        ctx.signKey = NULL;
        xmlSecDSigCtxFinalize(&ctx);

        xmlChar *out;
        int out_len;
        xmlDocDumpMemory(doc, &out, &out_len);
        if (i == first) {
            FILE *f = fopen(argv[11], "w");
            fwrite(out, 1, (size_t) out_len, f);
            fclose(f);
        }
        int m = EVP_EncodeBlock(b64, out, out_len);
        char *p = line + sprintf(line, "SAMLResponse=");
        for (int k = 0; k < m; k++) {
            if (b64[k] == '+' || b64[k] == '/' || b64[k] == '=')
                p += sprintf(p, "%%%02X", b64[k]);
            else
                *p++ = (char) b64[k];
        }
        *p++ = '\n';
        fwrite(line, 1, (size_t) (p - line), bodies);
        xmlFree(out);
        xmlFreeDoc(doc);
    }
    fclose(bodies);
    xmlSecKeyDestroy(key);
    xmlSecCryptoShutdown();
    xmlSecCryptoAppShutdown();
    xmlSecShutdown();
    return 0;
}
