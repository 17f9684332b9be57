/*
 * The floor the ACS is measured against: parse and verify one signed SAML
 * Response over and over with libxml2 and xmlsec1 alone, in one thread.
 *
 *   lent    the IdP key is loaded once and lent to every verification
 *           context (handed back before the context is finalised)
 *   copied  the key, with its X.509 data, is duplicated into every context
 *           (what an SP that rebuilds its context per POST does)
 *
 *   saml_verify RESPONSE.xml IDP.crt SECONDS [lent|copied]
 *
 * Prints "<verifications per second> <CPU microseconds per verification>".
 */

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#define NS_ASSERTION "urn:oasis:names:tc:SAML:2.0:assertion"

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static xmlNodePtr child(xmlNodePtr parent, const char *ns, const char *name)
{
    for (xmlNodePtr c = parent->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns && xmlStrEqual(c->name, BAD_CAST name)
            && xmlStrEqual(c->ns->href, BAD_CAST ns))
            return c;
    }
    return NULL;
}

/* One parse and verification; 0 when the signature is valid. */
static int verify(const char *xml, int len, xmlSecKeyPtr key, int copied)
{
    int ok = -1;
    xmlSecDSigCtx ctx;
    xmlDocPtr doc = xmlReadMemory(xml, len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) return -1;
    xmlNodePtr assertion = child(xmlDocGetRootElement(doc), NS_ASSERTION, "Assertion");
    xmlAttrPtr id = assertion ? xmlHasProp(assertion, BAD_CAST "ID") : NULL;
    xmlNodePtr sig = assertion ? child(assertion, (const char *) xmlSecDSigNs, "Signature") : NULL;
    if (id && sig) {
        xmlChar *v = xmlNodeGetContent((xmlNodePtr) id);
        xmlAddID(NULL, doc, v, id);
        xmlFree(v);
        if (xmlSecDSigCtxInitialize(&ctx, NULL) == 0) {
            ctx.enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
            ctx.signKey = copied ? xmlSecKeyDuplicate(key) : key;
            if (xmlSecDSigCtxVerify(&ctx, sig) == 0 && ctx.status == xmlSecDSigStatusSucceeded)
                ok = 0;
            if (!copied) ctx.signKey = NULL;
            xmlSecDSigCtxFinalize(&ctx);
        }
    }
    xmlFreeDoc(doc);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: saml_verify RESPONSE.xml IDP.crt SECONDS [lent|copied]\n");
        return 2;
    }
    int copied = argc > 4 && strcmp(argv[4], "copied") == 0;
    double seconds = atof(argv[3]);

    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    static char xml[1 << 20];
    int len = (int) fread(xml, 1, sizeof(xml), f);
    fclose(f);

    /* in the order of the xmlsec examples */
    xmlInitParser();
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0
        || xmlSecCryptoInit() < 0) {
        fprintf(stderr, "saml_verify: xmlsec initialisation failed\n");
        return 1;
    }
    xmlSecKeyPtr key = xmlSecCryptoAppKeyLoad(argv[2], xmlSecKeyDataFormatCertPem, NULL, NULL,
                                              NULL);
    if (key == NULL || verify(xml, len, key, copied) != 0) {
        fprintf(stderr, "saml_verify: %s does not verify with %s\n", argv[1], argv[2]);
        return 1;
    }

    long n = 0;
    double wall0 = now(CLOCK_MONOTONIC), cpu0 = now(CLOCK_PROCESS_CPUTIME_ID), wall;
    do {
        for (int i = 0; i < 100; i++, n++) {
            if (verify(xml, len, key, copied) != 0) {
                fprintf(stderr, "saml_verify: verification %ld failed\n", n);
                return 1;
            }
        }
        wall = now(CLOCK_MONOTONIC) - wall0;
    } while (wall < seconds);
    double cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

    printf("%.0f %.1f\n", n / wall, cpu / n * 1e6);

    xmlSecKeyDestroy(key);
    xmlSecCryptoShutdown();
    xmlSecCryptoAppShutdown();
    xmlSecShutdown();
    xmlCleanupParser();
    return 0;
}
