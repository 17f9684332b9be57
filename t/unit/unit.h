/*
 * Helpers shared by the Check suites of the core's C API.
 */

#ifndef SCIM_UNIT_H
#define SCIM_UNIT_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scim.h"

/* A fresh, empty directory for a store; removed by unit_rmdir(). */
static inline char *unit_tmpdir(void)
{
    char *path = strdup("/tmp/scim-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(path));
    return path;
}

static inline void unit_rmdir(char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
    free(path);
}

static inline scim_str_t unit_str(const char *s)
{
    scim_str_t v = { s, s ? strlen(s) : 0 };
    return v;
}

/* A request as the glue would build it, authorised with "Bearer <token>". */
static inline scim_request_t unit_request(scim_method_t method, const char *path,
                                          const char *query, const char *body,
                                          const char *authorization)
{
    scim_request_t req;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = unit_str(path);
    req.query = unit_str(query);
    req.body = unit_str(body);
    req.content_type = unit_str(body ? "application/scim+json" : NULL);
    req.authorization = unit_str(authorization);
    req.base_url = unit_str("https://sso.example.com/scim/v2");
    return req;
}

#include <jansson.h>

/*
 * One call through scim_handle(); returns the parsed JSON body (NULL when
 * there is none) and leaves the response in *resp for further checks. The
 * caller frees both.
 */
static inline json_t *unit_call(scim_store_t *store, scim_directory_t *dir,
                                const scim_request_t *req, scim_response_t *resp)
{
    ck_assert_int_eq(scim_handle(store, dir, req, resp), SCIM_OK);
    if (resp->body_len == 0) return NULL;
    ck_assert_str_eq(resp->content_type, "application/scim+json");
    json_error_t err;
    json_t *j = json_loadb(resp->body, resp->body_len, 0, &err);
    ck_assert_msg(j != NULL, "response body is not JSON (%s): %.*s", err.text,
                  (int) resp->body_len, resp->body);
    return j;
}

/* A store in a fresh directory and a directory "test" with a known token. */
typedef struct {
    char             *path;
    scim_store_t     *store;
    scim_directory_t *dir;
    char              auth[80];
} unit_env_t;

static inline void unit_env_open(unit_env_t *env)
{
    char token[SCIM_TOKEN_SIZE], hash[SCIM_TOKEN_HASH_SIZE], file[128];
    char err[512] = "";

    env->path = unit_tmpdir();
    ck_assert_msg(scim_store_open(env->path, 64 << 20, &env->store, err, sizeof(err)) == SCIM_OK,
                  "scim_store_open: %s", err);
    ck_assert_int_eq(scim_directory_new("test", 4, &env->dir, NULL, 0), SCIM_OK);
    ck_assert_int_eq(scim_token_generate(token, sizeof(token), hash, sizeof(hash)), SCIM_OK);
    snprintf(file, sizeof(file), "%s/token", env->path);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", hash);
    fclose(f);
    ck_assert_int_eq(scim_directory_load_tokens(env->dir, file, err, sizeof(err)), SCIM_OK);
    snprintf(env->auth, sizeof(env->auth), "Bearer %s", token);
}

static inline void unit_env_close(unit_env_t *env)
{
    scim_directory_free(env->dir);
    scim_store_close(env->store);
    unit_rmdir(env->path);
}

/*
 * One request against an open environment; the status must be `status`.
 * Returns the parsed body (or NULL) and, when etag is not NULL, copies the
 * ETag (up to 63 bytes) there.
 */
static inline json_t *unit_do(unit_env_t *env, scim_method_t method, const char *path,
                              const char *query, const char *body, int status, char *etag)
{
    scim_response_t resp;
    scim_request_t req = unit_request(method, path, query, body, env->auth);
    json_t *j = unit_call(env->store, env->dir, &req, &resp);
    ck_assert_msg(resp.status == status, "%d %s?%s: expected %d, got %d: %.*s", method, path,
                  query ? query : "", status, resp.status, (int) resp.body_len,
                  resp.body ? resp.body : "");
    if (etag) snprintf(etag, 64, "%s", resp.etag ? resp.etag : "");
    scim_response_free(&resp);
    return j;
}

/* Compares a JSON value with expected JSON text, printing both on failure. */
static inline void unit_json_eq(const json_t *got, const char *want_text, const char *what)
{
    json_error_t err;
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, &err);
    ck_assert_msg(want != NULL, "%s: bad expected JSON: %s", what, err.text);
    if (!json_equal((json_t *) got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        ck_abort_msg("%s:\nexpected %s\n     got %s", what, w, g);
    }
    json_decref(want);
}

/* Run one Suite and exit with its verdict. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* SCIM_UNIT_H */
