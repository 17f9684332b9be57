/*
 * Sessions for the session benchmarks, written straight into a store with
 * the core's API (scim_saml_login_commit(), a thousand per transaction),
 * as the ACS would have written them after N logins.
 *
 *   saml_sessions STORE DIRECTORY IDP.crt N COOKIES
 *
 * Writes one "NAME=<cookie>" line per session to COOKIES.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scim.h"
#include "scim_saml.h"

#define BATCH 1000

static void die(const char *what, int rc, const char *err)
{
    fprintf(stderr, "saml_sessions: %s: %s %s\n", what, scim_strerror(rc), err ? err : "");
    exit(1);
}

int main(int argc, char **argv)
{
    char err[512] = "";
    int rc;
    if (argc != 6) {
        fprintf(stderr, "usage: saml_sessions STORE DIRECTORY IDP.crt N COOKIES\n");
        return 2;
    }
    long n = atol(argv[4]);
    int64_t now = (int64_t) time(NULL) * 1000;

    scim_store_t *store;
    scim_directory_t *dir;
    scim_saml_sp_t *sp;
    if ((rc = scim_store_open(argv[1], (size_t) 1 << 30, &store, err, sizeof(err))) != SCIM_OK)
        die("store", rc, err);
    if ((rc = scim_directory_new(argv[2], strlen(argv[2]), &dir, err, sizeof(err))) != SCIM_OK)
        die("directory", rc, err);
    if ((rc = scim_saml_sp_new(dir, &sp, err, sizeof(err))) != SCIM_OK
        || (rc = scim_saml_sp_add_idp_cert(sp, argv[3], now, err, sizeof(err))) != SCIM_OK
        || (rc = scim_saml_sp_set(sp, SCIM_SAML_IDP_ENTITY_ID, "https://idp", 11, err,
                                  sizeof(err))) != SCIM_OK
        || (rc = scim_saml_sp_set(sp, SCIM_SAML_IDP_SSO_URL, "https://idp/sso", 15, err,
                                  sizeof(err))) != SCIM_OK
        || (rc = scim_saml_sp_set(sp, SCIM_SAML_SP_ENTITY_ID, "https://sp", 10, err,
                                  sizeof(err))) != SCIM_OK
        || (rc = scim_saml_sp_set(sp, SCIM_SAML_SP_ACS_URL, "https://sp/acs", 14, err,
                                  sizeof(err))) != SCIM_OK
        || (rc = scim_saml_sp_finish(sp, err, sizeof(err))) != SCIM_OK)
        die("sp", rc, err);

    FILE *cookies = fopen(argv[5], "w");
    if (!cookies) { perror(argv[5]); return 1; }

    static scim_saml_login_t logins[BATCH];
    static scim_saml_assertion_t assertions[BATCH];
    static unsigned char ids[BATCH][SCIM_SAML_SESSION_ID_SIZE];
    static char texts[BATCH][SCIM_SAML_COOKIE_SIZE], aids[BATCH][32];
    scim_saml_user_t user;
    memset(&user, 0, sizeof(user));
    strcpy(user.id, "00000000-0000-4000-8000-000000000001");

    for (long done = 0; done < n; ) {
        size_t k = 0;
        for (; k < BATCH && done + (long) k < n; k++) {
            snprintf(aids[k], sizeof(aids[k]), "_bench-%ld-%ld", (long) now, done + (long) k);
            memset(&assertions[k], 0, sizeof(assertions[k]));
            assertions[k].assertion_id = aids[k];
            assertions[k].name_id = "bench@example.com";
            assertions[k].replay_until = now + 600 * 1000;
            if (scim_saml_new_id(ids[k], texts[k]) != SCIM_OK) die("random", SCIM_EINTERNAL, NULL);
            memset(&logins[k], 0, sizeof(logins[k]));
            logins[k].sp = sp;
            logins[k].assertion = &assertions[k];
            logins[k].user = &user;
            logins[k].session_id = ids[k];
        }
        if ((rc = scim_saml_login_commit(store, logins, k, now)) != SCIM_OK)
            die("commit", rc, NULL);
        for (size_t i = 0; i < k; i++) fprintf(cookies, "%s\n", texts[i]);
        done += (long) k;
    }
    fclose(cookies);
    scim_saml_sp_free(sp);
    scim_directory_free(dir);
    scim_store_close(store);
    return 0;
}
