
/*
 * Copyright (C) ngx_scim_module authors
 *
 * The SAML 2.0 Service Provider of a scim_directory: its settings, the
 * "scim_saml_metadata", "scim_saml_login", "scim_saml_acs" and
 * "scim_saml_logout" content handlers, and the session a login opens.
 *
 * The core (include/scim_saml.h) builds and verifies every SAML message
 * and keeps sessions and replay records in LMDB; this file translates
 * requests into core calls and keeps what all workers must see at once in
 * the scim_zone: outstanding AuthnRequest IDs (single use, bound to the
 * browser that started the login), the fast replay check, and the session
 * cache in front of LMDB.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_SAML_ERRLEN       1024

/* an AuthnRequest may be answered within this time (ms) */
#define NGX_HTTP_SCIM_SAML_REQUEST_TTL  (10 * 60 * 1000)

/* the largest REQUEST value: directory, nonce and return path */
#define NGX_HTTP_SCIM_SAML_REQUEST_MAX                                        \
    (1 + 64 + SCIM_SAML_SESSION_ID_SIZE + SCIM_SAML_RETURN_PATH_MAX)


/* a session as the zone keeps it; the key is "directory \0 id" */

typedef struct {
    int64_t                      expires;     /* absolute end */
    int64_t                      persisted;   /* last use as LMDB has it */
    u_char                       user_id_len;
    u_char                       user_id[SCIM_SAML_USER_ID_SIZE];
} ngx_http_scim_saml_entry_t;

#define ngx_http_scim_saml_entry_size(len)                                    \
    (offsetof(ngx_http_scim_saml_entry_t, user_id) + (len))


/* a verified login waiting for the group commit */

typedef struct {
    ngx_queue_t                  queue;
    unsigned                     queued:1;
    ngx_http_request_t          *request;
    ngx_http_scim_directory_t   *dir;
    scim_saml_assertion_t       *assertion;
    scim_saml_user_t             user;
    ngx_str_t                    return_to;
    u_char                       id[SCIM_SAML_SESSION_ID_SIZE];
    u_char                       cookie[SCIM_SAML_COOKIE_SIZE];
} ngx_http_scim_saml_login_t;


/* the most logins one transaction commits */
#define NGX_HTTP_SCIM_SAML_BATCH  256


/* the session of the current request, looked up once */

struct ngx_http_scim_saml_ctx_s {
    unsigned                     looked_up:1;
    unsigned                     found:1;
    ngx_http_scim_directory_t   *scope;     /* NULL: every directory */
    ngx_http_scim_directory_t   *dir;
    u_char                       id[SCIM_SAML_SESSION_ID_SIZE];
    ngx_http_scim_saml_entry_t   entry;
};


static scim_saml_sp_t *ngx_http_scim_saml_sp(ngx_conf_t *cf,
    ngx_http_scim_directory_t *dir);
static void ngx_http_scim_saml_sp_cleanup(void *data);
static ngx_http_scim_directory_t *ngx_http_scim_saml_find(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *conf);

static ngx_int_t ngx_http_scim_saml_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_saml_metadata(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir);
static ngx_int_t ngx_http_scim_saml_login(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir);
static ngx_int_t ngx_http_scim_saml_acs(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir);
static void ngx_http_scim_saml_acs_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_saml_acs_process(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir);
static ngx_int_t ngx_http_scim_saml_answered(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, scim_saml_assertion_t *a,
    ngx_str_t *return_to, int *code);
static ngx_int_t ngx_http_scim_saml_open_session(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, scim_saml_assertion_t *a,
    scim_saml_user_t *user, ngx_str_t *return_to);
static void ngx_http_scim_saml_commit(ngx_event_t *ev);
static ngx_int_t ngx_http_scim_saml_opened(ngx_http_scim_saml_login_t *login,
    scim_saml_session_t *session, int rc);
static void ngx_http_scim_saml_login_cleanup(void *data);
static ngx_int_t ngx_http_scim_saml_logout(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir);
static ngx_int_t ngx_http_scim_saml_refuse(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, int code, char *reason);

static ngx_http_scim_saml_ctx_t *ngx_http_scim_saml_session(
    ngx_http_request_t *r, ngx_http_scim_directory_t *only);
static ngx_int_t ngx_http_scim_saml_lookup_id(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, ngx_http_scim_saml_ctx_t *ctx);
static ngx_int_t ngx_http_scim_saml_lookup(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, ngx_http_scim_saml_ctx_t *ctx);
static void ngx_http_scim_saml_cache(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, u_char *id,
    ngx_http_scim_saml_entry_t *entry, int64_t last_access);
static ngx_str_t *ngx_http_scim_saml_key(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, u_char *id);

static ngx_int_t ngx_http_scim_saml_return_to(ngx_http_request_t *r,
    char *name, ngx_str_t *path);
static ngx_int_t ngx_http_scim_saml_cookie(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_scim_saml_set_cookie(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, ngx_str_t *name, u_char *value,
    size_t len, ngx_uint_t kind);
static ngx_int_t ngx_http_scim_saml_redirect(ngx_http_request_t *r,
    ngx_uint_t status, u_char *location, size_t len);
static ngx_int_t ngx_http_scim_saml_send(ngx_http_request_t *r,
    ngx_uint_t status, char *type, u_char *body, size_t len);
static ngx_int_t ngx_http_scim_saml_page(ngx_http_request_t *r,
    ngx_uint_t status, char *title, char *text, ngx_str_t *detail);
static ngx_uint_t ngx_http_scim_saml_same(u_char *a, u_char *b, size_t n);
static void ngx_http_scim_saml_assertion_cleanup(void *data);
static scim_saml_redirect_t *ngx_http_scim_saml_redirect_new(
    ngx_http_request_t *r);
static void ngx_http_scim_saml_redirect_cleanup(void *data);


/* what a Set-Cookie is for */
#define NGX_HTTP_SCIM_COOKIE_SESSION  0
#define NGX_HTTP_SCIM_COOKIE_REQUEST  1
#define NGX_HTTP_SCIM_COOKIE_DELETE   2


static ngx_str_t  ngx_http_scim_saml_slash = ngx_string("/");


/* configuration */


void
ngx_http_scim_saml_directory_init(ngx_http_scim_directory_t *dir)
{
    /*
     * set by ngx_pcalloc():
     *
     *     dir->saml = NULL;
     *     dir->cookie_name = { 0, NULL };
     */

    dir->clock_skew = NGX_CONF_UNSET;
    dir->session_idle = NGX_CONF_UNSET;
    dir->session_lifetime = NGX_CONF_UNSET;
    dir->max_response_size = NGX_CONF_UNSET_SIZE;
    dir->idp_initiated = NGX_CONF_UNSET;
    dir->jit = NGX_CONF_UNSET;
    dir->allow_sha1 = NGX_CONF_UNSET;
    dir->cookie_secure = NGX_CONF_UNSET;
}


static scim_saml_sp_t *
ngx_http_scim_saml_sp(ngx_conf_t *cf, ngx_http_scim_directory_t *dir)
{
    u_char               err[NGX_HTTP_SCIM_SAML_ERRLEN];
    ngx_pool_cleanup_t  *cln;

    if (dir->saml) {
        return dir->saml;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    /* the first SP of the process initialises libxml2 and xmlsec */

    if (scim_saml_sp_new(dir->core, &dir->saml, (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NULL;
    }

    cln->handler = ngx_http_scim_saml_sp_cleanup;
    cln->data = dir->saml;

    dir->saml_file = cf->conf_file->file.name.data;
    dir->saml_line = cf->conf_file->line;

    return dir->saml;
}


static void
ngx_http_scim_saml_sp_cleanup(void *data)
{
    scim_saml_sp_free(data);
}


char *
ngx_http_scim_saml_option(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_directory_t *dir = conf;

    u_char           err[NGX_HTTP_SCIM_SAML_ERRLEN];
    ngx_str_t       *value;
    scim_saml_sp_t  *sp;

    sp = ngx_http_scim_saml_sp(cf, dir);
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (scim_saml_sp_set(sp, (scim_saml_option_t) cmd->offset,
                         (char *) value[1].data, value[1].len,
                         (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_scim_saml_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_directory_t *dir = conf;

    int              rc;
    char            *path;
    u_char           err[NGX_HTTP_SCIM_SAML_ERRLEN];
    int64_t          now;
    ngx_str_t       *value, name;
    scim_saml_sp_t  *sp;

    sp = ngx_http_scim_saml_sp(cf, dir);
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * Files are read and their certificates and keys loaded here, once,
     * so that "nginx -t" refuses what workers could not use; workers
     * inherit the loaded keys.
     */

    path = (char *) name.data;
    now = ngx_http_scim_now_ms();

    switch (cmd->offset) {

    case NGX_HTTP_SCIM_SAML_IDP_METADATA:
        rc = scim_saml_sp_load_idp_metadata(sp, path, now, (char *) err,
                                            sizeof(err));
        break;

    case NGX_HTTP_SCIM_SAML_IDP_CERT:
        rc = scim_saml_sp_add_idp_cert(sp, path, now, (char *) err,
                                       sizeof(err));
        break;

    case NGX_HTTP_SCIM_SAML_SP_KEY:
        rc = scim_saml_sp_load_sp_key(sp, path, (char *) err, sizeof(err));
        break;

    default: /* NGX_HTTP_SCIM_SAML_SP_CERT */
        rc = scim_saml_sp_load_sp_cert(sp, path, now, (char *) err,
                                       sizeof(err));
        break;
    }

    if (rc != SCIM_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_scim_saml_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    off_t               size;
    size_t             *sp;
    time_t             *tp;
    u_char              err[NGX_HTTP_SCIM_SAML_ERRLEN];
    int64_t             v;
    ngx_int_t           sec;
    ngx_str_t          *value;
    scim_saml_limit_t   which;

    which = *(scim_saml_limit_t *) cmd->post;
    value = cf->args->elts;

    sp = NULL;
    tp = NULL;

    /*
     * nginx parses the text; the core says whether the value is in range,
     * so that the bounds live in one place and the error names this line.
     * A negative value tells the core the text is not a time or a size.
     */

    if (which == SCIM_SAML_MAX_RESPONSE_SIZE) {
        sp = (size_t *) (p + cmd->offset);

        if (*sp != NGX_CONF_UNSET_SIZE) {
            return "is duplicate";
        }

        /* ngx_parse_offset() also knows "g": "100g" is out of range */

        size = ngx_parse_offset(&value[1]);
        v = (size == NGX_ERROR) ? -1 : (int64_t) size;

    } else {
        tp = (time_t *) (p + cmd->offset);

        if (*tp != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        sec = ngx_parse_time(&value[1], 1);

        if (sec == NGX_ERROR) {
            v = -1;

        } else if ((uint64_t) sec > (uint64_t) INT64_MAX / 1000) {
            v = INT64_MAX;

        } else {
            v = (int64_t) sec * 1000;
        }
    }

    if (scim_saml_policy_check(which, v, (char *) value[1].data, value[1].len,
                               (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    if (sp) {
        *sp = (size_t) v;

    } else {
        *tp = (time_t) (v / 1000);
    }

    return NGX_CONF_OK;
}


char *
ngx_http_scim_saml_cookie_name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_directory_t *dir = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (dir->cookie_name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a cookie name is an RFC 6265 token */

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20
            || value[1].data[i] >= 0x7f
            || ngx_strchr("()<>@,;:\\\"/[]?={}", value[1].data[i]))
        {
            break;
        }
    }

    if (value[1].len == 0 || i < value[1].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid session_cookie name \"%V\": a cookie "
                           "name is ASCII letters, digits and "
                           "!#$%%&'*+-.^_`|~, without spaces", &value[1]);
        return NGX_CONF_ERROR;
    }

    dir->cookie_name = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_scim_saml_directory_done(ngx_conf_t *cf,
    ngx_http_scim_directory_t *dir)
{
    u_char              *p, *last, err[NGX_HTTP_SCIM_SAML_ERRLEN];
    const char          *acs;
    scim_saml_policy_t   policy;

    if (dir->saml == NULL) {

        if (dir->clock_skew != NGX_CONF_UNSET
            || dir->session_idle != NGX_CONF_UNSET
            || dir->session_lifetime != NGX_CONF_UNSET
            || dir->max_response_size != NGX_CONF_UNSET_SIZE
            || dir->idp_initiated != NGX_CONF_UNSET
            || dir->jit != NGX_CONF_UNSET
            || dir->allow_sha1 != NGX_CONF_UNSET
            || dir->cookie_secure != NGX_CONF_UNSET
            || dir->cookie_name.data)
        {
            ngx_http_scim_conf_error_at(cf, dir->file, dir->line,
                          "scim_directory \"%V\" has SAML session settings "
                          "but no identity provider: add \"idp_metadata\" "
                          "(or \"idp_entity_id\", \"idp_sso_url\" and "
                          "\"idp_cert\")", &dir->name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    scim_saml_policy_default(&policy);

    /* the core's defaults are the directives' defaults */

    ngx_conf_init_value(dir->clock_skew,
                        (time_t) (policy.clock_skew_ms / 1000));
    ngx_conf_init_value(dir->session_idle,
                        (time_t) (policy.session_idle_ms / 1000));
    ngx_conf_init_value(dir->session_lifetime,
                        (time_t) (policy.session_lifetime_ms / 1000));
    ngx_conf_init_size_value(dir->max_response_size,
                             policy.max_response_size);
    ngx_conf_init_value(dir->idp_initiated, 0);
    ngx_conf_init_value(dir->jit, 0);
    ngx_conf_init_value(dir->allow_sha1, 0);
    ngx_conf_init_value(dir->cookie_secure, 0);

    if (dir->cookie_name.data == NULL) {
        ngx_str_set(&dir->cookie_name, "scim_session");
    }

    policy.clock_skew_ms = (int64_t) dir->clock_skew * 1000;
    policy.session_idle_ms = (int64_t) dir->session_idle * 1000;
    policy.session_lifetime_ms = (int64_t) dir->session_lifetime * 1000;
    policy.max_response_size = dir->max_response_size;
    policy.idp_initiated = dir->idp_initiated;
    policy.jit = dir->jit;
    policy.allow_sha1 = dir->allow_sha1;

    if (scim_saml_sp_set_policy(dir->saml, &policy, (char *) err,
                                sizeof(err))
        != SCIM_OK
        || scim_saml_sp_finish(dir->saml, (char *) err, sizeof(err))
           != SCIM_OK)
    {
        ngx_http_scim_conf_error_at(cf, dir->file, dir->line,
                                    "scim_directory \"%V\": %s",
                                    &dir->name, err);
        return NGX_CONF_ERROR;
    }

    dir->request_cookie.len = dir->cookie_name.len + sizeof("_req") - 1;
    dir->request_cookie.data = ngx_pnalloc(cf->pool, dir->request_cookie.len);
    if (dir->request_cookie.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(dir->request_cookie.data, "%V_req", &dir->cookie_name);

    /* the path of sp_acs_url, to check the scim_saml_acs location */

    acs = scim_saml_sp_get(dir->saml, SCIM_SAML_SP_ACS_URL);
    last = (u_char *) acs + ngx_strlen(acs);
    p = (u_char *) ngx_strstr(acs, "://") + 3;

    while (p < last && *p != '/' && *p != '?') {
        p++;
    }

    dir->acs_path.data = p;

    while (p < last && *p != '?') {
        p++;
    }

    dir->acs_path.len = p - dir->acs_path.data;

    if (dir->acs_path.len == 0) {
        dir->acs_path = ngx_http_scim_saml_slash;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_scim_saml_location(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->saml_endpoint) {
        return "conflicts with another scim_saml_* directive of this "
               "location";
    }

    value = cf->args->elts;

    if (cf->args->nelts > 1) {
        slcf->saml_name = value[1];
    }

    slcf->saml_endpoint = cmd->offset;
    slcf->saml_file = cf->conf_file->file.name.data;
    slcf->saml_line = cf->conf_file->line;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_http_scim_saml_handler;

    /* an ACS in a prefix or exact location can be checked against
     * sp_acs_url once the directory is known */

#if (NGX_PCRE)
    if (clcf->regex == NULL)
#endif
    {
        if (!clcf->named && !clcf->noname) {
            slcf->saml_location = clcf->name;
            slcf->saml_exact = clcf->exact_match;
        }
    }

    return NGX_CONF_OK;
}


/*
 * Resolves the directory a scim_saml_* location names (it may be declared
 * after the location) and checks what the endpoint needs.
 */

char *
ngx_http_scim_saml_merge(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *conf)
{
    ngx_str_t                   name;
    ngx_http_scim_directory_t  *dir;
    ngx_http_scim_main_conf_t  *smcf;

    static char  *names[] = {
        "", "scim_saml_acs", "scim_saml_login", "scim_saml_metadata",
        "scim_saml_logout"
    };

    if (conf->saml_endpoint == 0 || conf->saml != NULL) {
        return NGX_CONF_OK;
    }

    name.data = (u_char *) names[conf->saml_endpoint];
    name.len = ngx_strlen(name.data);

    if (conf->api_name.len) {
        ngx_http_scim_conf_error_at(cf, conf->saml_file, conf->saml_line,
                                    "\"%V\" and \"scim_api\" cannot share "
                                    "a location", &name);
        return NGX_CONF_ERROR;
    }

    dir = ngx_http_scim_saml_find(cf, conf);
    if (dir == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_scim_module);

    if (conf->saml_endpoint != NGX_HTTP_SCIM_SAML_METADATA) {

        if (smcf->shm_zone == NULL) {
            ngx_http_scim_conf_error_at(cf, conf->saml_file, conf->saml_line,
                          "\"%V\" needs a \"scim_zone\" in the http block: "
                          "login state and sessions live there", &name);
            return NGX_CONF_ERROR;
        }

        if (smcf->store_path.len == 0) {
            ngx_http_scim_conf_error_at(cf, conf->saml_file, conf->saml_line,
                          "\"%V\" needs a \"scim_store\" in the http block: "
                          "users and sessions live there", &name);
            return NGX_CONF_ERROR;
        }
    }

    /* the IdP posts to sp_acs_url: the ACS location must be there */

    if (conf->saml_endpoint == NGX_HTTP_SCIM_SAML_ACS
        && conf->saml_location.len
        && !(conf->saml_location.len == dir->acs_path.len
             && ngx_strncmp(conf->saml_location.data, dir->acs_path.data,
                            dir->acs_path.len) == 0)
        && !(!conf->saml_exact
             && conf->saml_location.len < dir->acs_path.len
             && ngx_strncmp(conf->saml_location.data, dir->acs_path.data,
                            conf->saml_location.len) == 0))
    {
        ngx_http_scim_conf_error_at(cf, conf->saml_file, conf->saml_line,
                      "\"scim_saml_acs\" is in location \"%V\", but "
                      "sp_acs_url of directory \"%V\" points at \"%V\": "
                      "the IdP posts there", &conf->saml_location,
                      &dir->name, &dir->acs_path);
        return NGX_CONF_ERROR;
    }

    conf->saml = dir;

    return NGX_CONF_OK;
}


static ngx_http_scim_directory_t *
ngx_http_scim_saml_find(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *conf)
{
    ngx_uint_t                   i, n;
    ngx_http_scim_directory_t  **dirs, *found;
    ngx_http_scim_main_conf_t   *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_scim_module);
    dirs = smcf->directories.elts;

    if (conf->saml_name.len == 0) {

        /* "scim_saml_logout;" ends the session of the only SAML directory */

        found = NULL;

        for (i = 0, n = 0; i < smcf->directories.nelts; i++) {
            if (dirs[i]->saml) {
                found = dirs[i];
                n++;
            }
        }

        if (n == 1) {
            return found;
        }

        ngx_http_scim_conf_error_at(cf, conf->saml_file, conf->saml_line,
                                    n ? "\"scim_saml_logout\" must name its "
                                        "directory: several have SAML "
                                        "settings"
                                      : "\"scim_saml_logout\": no "
                                        "scim_directory has SAML settings");
        return NULL;
    }

    for (i = 0; i < smcf->directories.nelts; i++) {

        if (dirs[i]->name.len != conf->saml_name.len
            || ngx_strncmp(dirs[i]->name.data, conf->saml_name.data,
                           conf->saml_name.len)
               != 0)
        {
            continue;
        }

        if (dirs[i]->saml == NULL) {
            ngx_http_scim_conf_error_at(cf, conf->saml_file, conf->saml_line,
                          "directory \"%V\" has no identity provider: add "
                          "\"idp_metadata\" (or \"idp_entity_id\", "
                          "\"idp_sso_url\" and \"idp_cert\"), "
                          "\"sp_entity_id\" and \"sp_acs_url\" to its "
                          "scim_directory block", &conf->saml_name);
            return NULL;
        }

        return dirs[i];
    }

    ngx_http_scim_conf_error_at(cf, conf->saml_file, conf->saml_line,
                                "unknown directory \"%V\": declare it with "
                                "\"scim_directory %V { ... }\"",
                                &conf->saml_name, &conf->saml_name);
    return NULL;
}


/* content handlers */


static ngx_int_t
ngx_http_scim_saml_handler(ngx_http_request_t *r)
{
    ngx_http_scim_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    switch (slcf->saml_endpoint) {

    case NGX_HTTP_SCIM_SAML_METADATA:
        return ngx_http_scim_saml_metadata(r, slcf->saml);

    case NGX_HTTP_SCIM_SAML_ACS:
        return ngx_http_scim_saml_acs(r, slcf->saml);

    case NGX_HTTP_SCIM_SAML_LOGIN:
        if (ngx_http_scim_store == NULL) {
            break;
        }

        return ngx_http_scim_saml_login(r, slcf->saml);

    default: /* NGX_HTTP_SCIM_SAML_LOGOUT */
        if (ngx_http_scim_store == NULL) {
            break;
        }

        return ngx_http_scim_saml_logout(r, slcf->saml);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "scim saml directory \"%V\": 503: the store failed to "
                  "open in this worker (see the alert at its start)",
                  &slcf->saml->name);

    return NGX_HTTP_SERVICE_UNAVAILABLE;
}


static ngx_int_t
ngx_http_scim_saml_metadata(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir)
{
    size_t      len;
    ngx_int_t   rc;
    u_char     *xml;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    /* built once at configuration time */

    xml = (u_char *) scim_saml_sp_metadata(dir->saml, &len);

    return ngx_http_scim_saml_send(r, NGX_HTTP_OK,
                                   "application/samlmetadata+xml", xml, len);
}


/*
 * GET ?return_to=/path: an AuthnRequest through the browser (HTTP-Redirect
 * binding). Its ID is kept in the zone until it is answered or expires,
 * together with the return path and a nonce that also goes into a cookie:
 * the ACS accepts the answer only from the browser that holds the nonce.
 */

static ngx_int_t
ngx_http_scim_saml_login(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir)
{
    u_char                     *p, err[NGX_HTTP_SCIM_SAML_ERRLEN];
    int64_t                     now;
    ngx_int_t                   rc;
    ngx_str_t                   return_to, cookie, key, value;
    scim_saml_redirect_t       *redirect;
    ngx_http_scim_main_conf_t  *smcf;
    u_char                      nonce[SCIM_SAML_SESSION_ID_SIZE];
    u_char                      text[SCIM_SAML_COOKIE_SIZE];

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_scim_saml_return_to(r, "return_to", &return_to) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (return_to.len
        && !scim_saml_return_path_ok((char *) return_to.data, return_to.len))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim saml directory \"%V\": login refused: return_to "
                      "\"%V\" is not a relative path on this site",
                      &dir->name, &return_to);

        return ngx_http_scim_saml_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Invalid sign-in link",
                                       "The return address of this sign-in "
                                       "link is not a page of this site.",
                                       NULL);
    }

    /* one nonce per browser, reused, so that parallel logins work */

    if (ngx_http_scim_saml_cookie(r, &dir->request_cookie, &cookie) != NGX_OK
        || cookie.len != SCIM_SAML_COOKIE_SIZE - 1
        || scim_saml_decode_id((char *) cookie.data, cookie.len, nonce)
           != SCIM_OK)
    {
        if (scim_saml_new_id(nonce, (char *) text) != SCIM_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cookie.data = text;
        cookie.len = SCIM_SAML_COOKIE_SIZE - 1;
    }

    redirect = ngx_http_scim_saml_redirect_new(r);
    if (redirect == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    now = ngx_http_scim_now_ms();

    if (scim_saml_login_redirect(dir->saml, (char *) return_to.data,
                                 return_to.len, now, redirect, (char *) err,
                                 sizeof(err))
        != SCIM_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim saml directory \"%V\": login: %s",
                      &dir->name, err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (return_to.len == 0) {
        return_to = ngx_http_scim_saml_slash;
    }

    value.len = 1 + dir->name.len + SCIM_SAML_SESSION_ID_SIZE + return_to.len;
    value.data = ngx_pnalloc(r->pool, value.len);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = value.data;
    *p++ = (u_char) dir->name.len;
    p = ngx_cpymem(p, dir->name.data, dir->name.len);
    p = ngx_cpymem(p, nonce, SCIM_SAML_SESSION_ID_SIZE);
    ngx_memcpy(p, return_to.data, return_to.len);

    key.data = (u_char *) redirect->request_id;
    key.len = ngx_strlen(redirect->request_id);

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    if (ngx_http_scim_kv_put(smcf->shm_zone, NGX_HTTP_SCIM_KV_REQUEST, &key,
                             &value, now + NGX_HTTP_SCIM_SAML_REQUEST_TTL, 0,
                             NGX_HTTP_SCIM_KV_ADD)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim saml directory \"%V\": login: the request ID "
                      "cannot be stored in the scim_zone (full)", &dir->name);

        return ngx_http_scim_saml_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "Sign-in unavailable",
                                       "The server cannot start a sign-in "
                                       "right now. Please try again in a "
                                       "moment.", NULL);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "scim saml login: request %s, return to \"%V\"",
                   redirect->request_id, &return_to);

    if (ngx_http_scim_saml_set_cookie(r, dir, &dir->request_cookie,
                                      cookie.data, cookie.len,
                                      NGX_HTTP_SCIM_COOKIE_REQUEST)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_scim_saml_redirect(r, NGX_HTTP_MOVED_TEMPORARILY,
                                       (u_char *) redirect->location,
                                       redirect->location_len);
}


static ngx_int_t
ngx_http_scim_saml_acs(ngx_http_request_t *r, ngx_http_scim_directory_t *dir)
{
    ngx_int_t  rc;

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_scim_store == NULL) {
        return ngx_http_scim_saml_handler(r);
    }

    /* refused before a byte of it is read */

    if (r->headers_in.content_length_n > (off_t) dir->max_response_size) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim saml directory \"%V\": ACS refused a response: "
                      "the body has %O bytes; max_response_size is %uz",
                      &dir->name, r->headers_in.content_length_n,
                      dir->max_response_size);

        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_scim_saml_page(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "Sign-in refused",
                                       "The sign-in response is too large.",
                                       NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_scim_saml_acs_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_scim_saml_acs_body(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_scim_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    rc = ngx_http_scim_saml_acs_process(r, slcf->saml);

    /* NGX_DONE: waiting for the group commit, which finalizes it */

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_scim_saml_acs_process(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir)
{
    int                         rc, code;
    int64_t                     now;
    ngx_str_t                   body, return_to;
    ngx_pool_cleanup_t         *cln;
    scim_saml_user_t            user;
    scim_saml_assertion_t      *a;
    ngx_http_scim_main_conf_t  *smcf;

    if (ngx_http_scim_api_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(scim_saml_assertion_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a = cln->data;
    ngx_memzero(a, sizeof(scim_saml_assertion_t));
    cln->handler = ngx_http_scim_saml_assertion_cleanup;

    now = ngx_http_scim_now_ms();

    /* every stateless rule: parsing, signatures, conditions */

    rc = scim_saml_acs_verify(dir->saml, (char *) body.data, body.len, now, a);

    if (rc != SCIM_OK) {
        return ngx_http_scim_saml_refuse(r, dir, rc, a->reason);
    }

    rc = ngx_http_scim_saml_answered(r, dir, a, &return_to, &code);

    if (rc == NGX_DECLINED) {
        return ngx_http_scim_saml_refuse(r, dir, code, a->reason);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the link to the provisioned user */

    rc = scim_saml_link_user(ngx_http_scim_store, dir->saml, a, &user);

    if (rc == SCIM_SAML_ENOUSER || rc == SCIM_SAML_EINACTIVE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim saml directory \"%V\": %s", &dir->name,
                      user.reason);

        body.data = (u_char *) a->login;
        body.len = ngx_strlen(a->login);

        return ngx_http_scim_saml_page(r, NGX_HTTP_FORBIDDEN,
                   "Sign-in refused",
                   rc == SCIM_SAML_ENOUSER
                   ? "Your identity provider vouched for you, but this "
                     "application has no account for you. Ask your "
                     "administrator to assign you to the application. "
                     "Account:"
                   : "Your account in this application is deactivated. "
                     "Ask your administrator to reactivate it. Account:",
                   &body);
    }

    if (rc != SCIM_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim saml directory \"%V\": linking the login "
                      "failed: %s", &dir->name, user.reason);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (user.created) {
        smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);
        ngx_http_scim_zone_changed(smcf);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "scim saml directory \"%V\": created user %s just in "
                      "time for \"%s\"", &dir->name, user.id, a->login);
    }

    return ngx_http_scim_saml_open_session(r, dir, a, &user, &return_to);
}


/*
 * The state a Response needs: its assertion must not have been consumed
 * (the zone answers for every worker at once; LMDB answers again at
 * commit, across restarts), and an InResponseTo must name an outstanding
 * request of this SP, started by this browser, which it consumes.
 * NGX_DECLINED: refused, with *code and a->reason saying why.
 */

static ngx_int_t
ngx_http_scim_saml_answered(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, scim_saml_assertion_t *a,
    ngx_str_t *return_to, int *code)
{
    u_char                     *p, *last;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_str_t                   key, value, cookie;
    ngx_http_scim_main_conf_t  *smcf;
    u_char                      nonce[SCIM_SAML_SESSION_ID_SIZE];
    u_char                      buf[NGX_HTTP_SCIM_SAML_REQUEST_MAX];
    u_char                     *reason;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    reason = (u_char *) a->reason;
    *code = SCIM_SAML_EINVALID;

    len = ngx_strlen(a->assertion_id);

    key.len = dir->name.len + 1 + len;
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key.data, dir->name.data, dir->name.len);
    *p++ = '\0';
    ngx_memcpy(p, a->assertion_id, len);

    ngx_str_null(&value);

    if (ngx_http_scim_kv_put(smcf->shm_zone, NGX_HTTP_SCIM_KV_REPLAY, &key,
                             &value, a->replay_until, 0, NGX_HTTP_SCIM_KV_ADD)
        == NGX_DECLINED)
    {
        ngx_snprintf(reason, sizeof(a->reason),
                     "assertion \"%s\" was used before (replay)%Z",
                     a->assertion_id);
        *code = SCIM_SAML_EREPLAY;
        return NGX_DECLINED;
    }

    if (a->in_response_to == NULL) {

        /* IdP-initiated (allowed by the core's check): RelayState, if a
         * path on this site, says where to go */

        if (a->relay_state
            && scim_saml_return_path_ok(a->relay_state,
                                        ngx_strlen(a->relay_state)))
        {
            return_to->data = (u_char *) a->relay_state;
            return_to->len = ngx_strlen(a->relay_state);

        } else {
            *return_to = ngx_http_scim_saml_slash;
        }

        return NGX_OK;
    }

    key.data = (u_char *) a->in_response_to;
    key.len = ngx_strlen(a->in_response_to);

    value.data = buf;
    value.len = sizeof(buf);

    rc = ngx_http_scim_kv_get(smcf->shm_zone, NGX_HTTP_SCIM_KV_REQUEST, &key,
                              &value, 0, NULL, NGX_HTTP_SCIM_KV_TAKE);

    p = buf;
    last = buf + value.len;

    if (rc != NGX_OK
        || value.len < 1 + (size_t) buf[0] + SCIM_SAML_SESSION_ID_SIZE
        || buf[0] != dir->name.len
        || ngx_strncmp(buf + 1, dir->name.data, dir->name.len) != 0)
    {
        ngx_snprintf(reason, sizeof(a->reason),
                     "InResponseTo \"%s\" names no outstanding AuthnRequest "
                     "of this SP (never sent, already answered, or older "
                     "than %d minutes)%Z", a->in_response_to,
                     NGX_HTTP_SCIM_SAML_REQUEST_TTL / 60000);
        return NGX_DECLINED;
    }

    p += 1 + buf[0];

    /*
     * Login CSRF and stolen responses: the request was started by the
     * browser that holds its nonce, not by whoever posts the answer.
     */

    if (ngx_http_scim_saml_cookie(r, &dir->request_cookie, &cookie) != NGX_OK
        || scim_saml_decode_id((char *) cookie.data, cookie.len, nonce)
           != SCIM_OK
        || !ngx_http_scim_saml_same(nonce, p, SCIM_SAML_SESSION_ID_SIZE))
    {
        ngx_snprintf(reason, sizeof(a->reason),
                     "InResponseTo \"%s\" answers a login started by another "
                     "browser (the \"%V\" cookie is %s)%Z", a->in_response_to,
                     &dir->request_cookie,
                     cookie.len ? "different" : "missing");
        return NGX_DECLINED;
    }

    p += SCIM_SAML_SESSION_ID_SIZE;

    return_to->len = last - p;
    return_to->data = ngx_pnalloc(r->pool, return_to->len);
    if (return_to->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(return_to->data, p, return_to->len);

    return NGX_OK;
}


/*
 * A verified and linked login joins this worker's group commit: the
 * logins that reach this point in one event loop iteration are made
 * durable by one synced LMDB transaction (the fsync, not the
 * verification, would otherwise bound the logins per second), and each
 * answer is sent only after its commit.
 */

static ngx_int_t
ngx_http_scim_saml_open_session(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, scim_saml_assertion_t *a,
    scim_saml_user_t *user, ngx_str_t *return_to)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_scim_main_conf_t   *smcf;
    ngx_http_scim_saml_login_t  *login;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_scim_saml_login_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    login = cln->data;
    ngx_memzero(login, sizeof(ngx_http_scim_saml_login_t));

    if (scim_saml_new_id(login->id, (char *) login->cookie) != SCIM_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    login->request = r;
    login->dir = dir;
    login->assertion = a;
    login->user = *user;
    login->return_to = *return_to;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    ngx_queue_insert_tail(&smcf->saml_pending, &login->queue);
    smcf->saml_npending++;
    login->queued = 1;

    /* a request ended meanwhile (a timeout, a shutdown) leaves the queue */

    cln->handler = ngx_http_scim_saml_login_cleanup;

    if (!smcf->saml_commit.posted) {
        smcf->saml_commit.handler = ngx_http_scim_saml_commit;
        smcf->saml_commit.data = smcf;
        smcf->saml_commit.log = ngx_cycle->log;

        ngx_post_event(&smcf->saml_commit, &ngx_posted_events);
    }

    return NGX_DONE;
}


static void
ngx_http_scim_saml_commit(ngx_event_t *ev)
{
    ngx_http_scim_main_conf_t *smcf = ev->data;

    int                          rc;
    ngx_uint_t                   i, n;
    ngx_queue_t                 *q;
    ngx_connection_t            *c;
    scim_saml_login_t           *logins;
    ngx_http_scim_saml_login_t  *pending[NGX_HTTP_SCIM_SAML_BATCH];

    n = 0;

    while (!ngx_queue_empty(&smcf->saml_pending)
           && n < NGX_HTTP_SCIM_SAML_BATCH)
    {
        q = ngx_queue_head(&smcf->saml_pending);
        ngx_queue_remove(q);
        smcf->saml_npending--;

        pending[n] = ngx_queue_data(q, ngx_http_scim_saml_login_t, queue);
        pending[n]->queued = 0;
        n++;
    }

    if (!ngx_queue_empty(&smcf->saml_pending)) {
        ngx_post_event(ev, &ngx_posted_events);
    }

    if (n == 0) {
        return;
    }

    logins = ngx_alloc(n * sizeof(scim_saml_login_t), ev->log);

    if (logins == NULL) {
        rc = ENOMEM;

    } else {
        ngx_memzero(logins, n * sizeof(scim_saml_login_t));

        for (i = 0; i < n; i++) {
            logins[i].sp = pending[i]->dir->saml;
            logins[i].assertion = pending[i]->assertion;
            logins[i].user = &pending[i]->user;
            logins[i].session_id = pending[i]->id;
        }

        /* the replay records and the sessions, one synced transaction */

        rc = scim_saml_login_commit(ngx_http_scim_store, logins, n,
                                    ngx_http_scim_now_ms());
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "scim saml: %ui logins committed: %d", n, rc);

    for (i = 0; i < n; i++) {
        c = pending[i]->request->connection;

        ngx_http_finalize_request(pending[i]->request,
                                  ngx_http_scim_saml_opened(pending[i],
                                      logins ? &logins[i].session : NULL,
                                      rc == SCIM_OK ? logins[i].rc : rc));

        ngx_http_run_posted_requests(c);
    }

    ngx_free(logins);
}


static ngx_int_t
ngx_http_scim_saml_opened(ngx_http_scim_saml_login_t *login,
    scim_saml_session_t *session, int rc)
{
    size_t                       len;
    ngx_http_request_t          *r;
    ngx_http_scim_directory_t   *dir;
    ngx_http_scim_saml_entry_t   entry;

    r = login->request;
    dir = login->dir;

    if (rc == SCIM_SAML_EREPLAY) {
        return ngx_http_scim_saml_refuse(r, dir, SCIM_SAML_EREPLAY,
                                         "the assertion was used before "
                                         "(recorded in the store)");
    }

    if (rc != SCIM_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim saml directory \"%V\": the session cannot be "
                      "stored: %s", &dir->name, scim_strerror(rc));
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(login->user.id);

    entry.expires = session->expires;
    entry.user_id_len = (u_char) len;
    ngx_memcpy(entry.user_id, login->user.id, len);

    ngx_http_scim_saml_cache(r, dir, login->id, &entry,
                             session->last_access);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "scim saml directory \"%V\": user %s signed in "
                  "(\"%s\" from IdP \"%s\")", &dir->name, login->user.id,
                  login->assertion->login, login->assertion->issuer);

    /* the login cookie was single use: it is of no further use */

    if (ngx_http_scim_saml_set_cookie(r, dir, &dir->cookie_name,
                                      login->cookie,
                                      SCIM_SAML_COOKIE_SIZE - 1,
                                      NGX_HTTP_SCIM_COOKIE_SESSION)
           != NGX_OK
        || ngx_http_scim_saml_set_cookie(r, dir, &dir->request_cookie,
                                         (u_char *) "", 0,
                                         NGX_HTTP_SCIM_COOKIE_DELETE)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* 303: the browser follows with a GET, not a second POST */

    return ngx_http_scim_saml_redirect(r, NGX_HTTP_SEE_OTHER,
                                       login->return_to.data,
                                       login->return_to.len);
}


static void
ngx_http_scim_saml_login_cleanup(void *data)
{
    ngx_http_scim_saml_login_t *login = data;

    ngx_http_scim_main_conf_t  *smcf;

    if (login->queued) {
        smcf = ngx_http_get_module_main_conf(login->request,
                                             ngx_http_scim_module);

        ngx_queue_remove(&login->queue);
        smcf->saml_npending--;
        login->queued = 0;
    }
}


/*
 * Ends the session here, then at the IdP when it publishes a
 * SingleLogoutService. A LogoutResponse coming back (SAMLResponse in the
 * query) changes nothing here: the session is already gone, so it is not
 * verified, only followed to its RelayState when that is a local path.
 */

static ngx_int_t
ngx_http_scim_saml_logout(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir)
{
    u_char                      err[NGX_HTTP_SCIM_SAML_ERRLEN];
    ngx_int_t                   rc, idp;
    ngx_str_t                   return_to, arg;
    scim_saml_session_t        *session;
    scim_saml_redirect_t       *redirect;
    ngx_http_scim_saml_ctx_t   *ctx;
    ngx_http_scim_main_conf_t  *smcf;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_arg(r, (u_char *) "SAMLResponse", 12, &arg) == NGX_OK) {

        if (ngx_http_scim_saml_return_to(r, "RelayState", &return_to)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (!scim_saml_return_path_ok((char *) return_to.data,
                                      return_to.len))
        {
            return_to = ngx_http_scim_saml_slash;
        }

        return ngx_http_scim_saml_redirect(r, NGX_HTTP_MOVED_TEMPORARILY,
                                           return_to.data, return_to.len);
    }

    if (ngx_http_scim_saml_return_to(r, "return_to", &return_to) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (return_to.len == 0
        || !scim_saml_return_path_ok((char *) return_to.data, return_to.len))
    {
        return_to = ngx_http_scim_saml_slash;
    }

    ctx = ngx_http_scim_saml_session(r, dir);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_scim_saml_set_cookie(r, dir, &dir->cookie_name,
                                      (u_char *) "", 0,
                                      NGX_HTTP_SCIM_COOKIE_DELETE)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ctx->found) {
        return ngx_http_scim_saml_redirect(r, NGX_HTTP_MOVED_TEMPORARILY,
                                           return_to.data, return_to.len);
    }

    session = ngx_palloc(r->pool, sizeof(scim_saml_session_t));
    if (session == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* what the IdP needs to end its own session: NameID, SessionIndex */

    idp = scim_saml_sp_has_slo(dir->saml)
          && scim_saml_session_get(ngx_http_scim_store, dir->saml, ctx->id,
                                   ngx_http_scim_now_ms(), session)
             == SCIM_OK;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    (void) ngx_http_scim_kv_delete(smcf->shm_zone, NGX_HTTP_SCIM_KV_SESSION,
                                   ngx_http_scim_saml_key(r, dir, ctx->id));

    rc = scim_saml_session_delete(ngx_http_scim_store, dir->saml, ctx->id);

    if (rc != SCIM_OK && rc != SCIM_ENOTFOUND) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim saml directory \"%V\": the session of user %*s "
                      "cannot be deleted: %s", &dir->name,
                      (size_t) ctx->entry.user_id_len, ctx->entry.user_id,
                      scim_strerror(rc));
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->found = 0;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "scim saml directory \"%V\": user %*s signed out%s",
                  &dir->name, (size_t) ctx->entry.user_id_len,
                  ctx->entry.user_id, idp ? ", on to the IdP" : "");

    if (!idp) {
        return ngx_http_scim_saml_redirect(r, NGX_HTTP_MOVED_TEMPORARILY,
                                           return_to.data, return_to.len);
    }

    redirect = ngx_http_scim_saml_redirect_new(r);
    if (redirect == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (scim_saml_logout_redirect(dir->saml, session, (char *) return_to.data,
                                  return_to.len, ngx_http_scim_now_ms(),
                                  redirect, (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim saml directory \"%V\": logout: %s",
                      &dir->name, err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_scim_saml_redirect(r, NGX_HTTP_MOVED_TEMPORARILY,
                                       (u_char *) redirect->location,
                                       redirect->location_len);
}


/*
 * One error-log line says why; the page says only what the person can do
 * about it (the details help an attacker more than a user).
 */

static ngx_int_t
ngx_http_scim_saml_refuse(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, int code, char *reason)
{
    ngx_uint_t  status;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "scim saml directory \"%V\": ACS refused a response: %s",
                  &dir->name, reason);

    switch (code) {

    case SCIM_SAML_ETOOBIG:
        return ngx_http_scim_saml_page(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "Sign-in refused",
                                       "The sign-in response is too large.",
                                       NULL);

    case SCIM_SAML_EMALFORMED:
        status = NGX_HTTP_BAD_REQUEST;
        break;

    case SCIM_SAML_EINVALID:
    case SCIM_SAML_EREPLAY:
        status = NGX_HTTP_FORBIDDEN;
        break;

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_scim_saml_page(r, status, "Sign-in refused",
                                   "The response from your identity "
                                   "provider could not be accepted. Please "
                                   "sign in again; if this keeps happening, "
                                   "contact your administrator.", NULL);
}


/* sessions */


/*
 * The session of the request's cookie, looked up once per request, in the
 * given directory or in every directory with SAML settings.
 */

static ngx_http_scim_saml_ctx_t *
ngx_http_scim_saml_session(ngx_http_request_t *r,
    ngx_http_scim_directory_t *only)
{
    ngx_uint_t                   i;
    ngx_http_scim_ctx_t         *mctx;
    ngx_http_scim_saml_ctx_t    *ctx;
    ngx_http_scim_directory_t  **dirs;
    ngx_http_scim_main_conf_t   *smcf;

    /* the module's request ctx is shared with the SCIM API's filters */

    mctx = ngx_http_scim_request_ctx(r);
    if (mctx == NULL) {
        return NULL;
    }

    if (mctx->saml == NULL) {
        mctx->saml = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_saml_ctx_t));
        if (mctx->saml == NULL) {
            return NULL;
        }
    }

    ctx = mctx->saml;

    if (ctx->looked_up && ctx->scope == only) {
        return ctx;
    }

    ctx->looked_up = 1;
    ctx->scope = only;
    ctx->found = 0;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    if (smcf->shm_zone == NULL || ngx_http_scim_store == NULL) {
        return ctx;
    }

    if (only) {
        if (ngx_http_scim_saml_lookup(r, only, ctx) == NGX_ERROR) {
            return NULL;
        }

        return ctx;
    }

    dirs = smcf->directories.elts;

    for (i = 0; i < smcf->directories.nelts && !ctx->found; i++) {
        if (dirs[i]->saml
            && ngx_http_scim_saml_lookup(r, dirs[i], ctx) == NGX_ERROR)
        {
            return NULL;
        }
    }

    return ctx;
}


/*
 * The zone answers first: a hit refreshes the idle timeout (never past the
 * absolute end). A miss (evicted, or the zone was recreated by a restart
 * or a resize) goes to LMDB and fills the zone again. The last use is
 * written back to LMDB only every quarter of session_idle (at most every
 * 15 minutes), so the hot path stays a lookup in shared memory.
 */

/*
 * Every cookie of the session's name is tried, in order, until one is a
 * live session: a stale or planted cookie of that name sent first (a
 * sibling subdomain can set one with a longer Path) must not lock the
 * user out.
 */

static ngx_int_t
ngx_http_scim_saml_lookup(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, ngx_http_scim_saml_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     value;
    ngx_http_scim_cookie_iter_t   it;

    ngx_memzero(&it, sizeof(ngx_http_scim_cookie_iter_t));

    while (ngx_http_scim_cookie_value(r, &dir->cookie_name, &it, &value)
           == NGX_OK)
    {
        if (scim_saml_decode_id((char *) value.data, value.len, ctx->id)
            != SCIM_OK)
        {
            continue;
        }

        rc = ngx_http_scim_saml_lookup_id(r, dir, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    return NGX_DECLINED;
}


/* the session of one decoded id (ctx->id), from the zone or LMDB */

static ngx_int_t
ngx_http_scim_saml_lookup_id(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, ngx_http_scim_saml_ctx_t *ctx)
{
    int                         rc;
    size_t                      len;
    int64_t                     now, idle, interval;
    ngx_str_t                   value, *key;
    scim_saml_session_t        *session;
    ngx_http_scim_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    now = ngx_http_scim_now_ms();
    idle = (int64_t) dir->session_idle * 1000;
    interval = ngx_min(ngx_max(idle / 4, 1000), 15 * 60 * 1000);

    key = ngx_http_scim_saml_key(r, dir, ctx->id);
    if (key == NULL) {
        return NGX_ERROR;
    }

    value.data = (u_char *) &ctx->entry;
    value.len = sizeof(ngx_http_scim_saml_entry_t);

    if (ngx_http_scim_kv_get(smcf->shm_zone, NGX_HTTP_SCIM_KV_SESSION, key,
                             &value, now + idle, NULL, 0)
        == NGX_OK
        && value.len >= ngx_http_scim_saml_entry_size(0)
        && value.len == ngx_http_scim_saml_entry_size(ctx->entry.user_id_len))
    {
        ctx->dir = dir;
        ctx->found = 1;

        if (now - ctx->entry.persisted < interval) {
            return NGX_OK;
        }

        rc = scim_saml_session_touch(ngx_http_scim_store, dir->saml, ctx->id,
                                     now);

        if (rc == SCIM_ENOTFOUND) {

            /* deleted in the store (a logout through another zone) */

            (void) ngx_http_scim_kv_delete(smcf->shm_zone,
                                           NGX_HTTP_SCIM_KV_SESSION, key);
            ctx->found = 0;
            return NGX_DECLINED;
        }

        if (rc != SCIM_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "scim saml directory \"%V\": the last use of a "
                          "session cannot be recorded: %s",
                          &dir->name, scim_strerror(rc));
            return NGX_OK;
        }

        ngx_http_scim_saml_cache(r, dir, ctx->id, &ctx->entry, now);

        return NGX_OK;
    }

    session = ngx_palloc(r->pool, sizeof(scim_saml_session_t));
    if (session == NULL) {
        return NGX_ERROR;
    }

    rc = scim_saml_session_get(ngx_http_scim_store, dir->saml, ctx->id, now,
                               session);

    if (rc == SCIM_ENOTFOUND || rc == SCIM_SAML_EEXPIRED) {
        return NGX_DECLINED;
    }

    if (rc != SCIM_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim saml directory \"%V\": a session cannot be read: "
                      "%s", &dir->name, scim_strerror(rc));
        return NGX_DECLINED;
    }

    len = ngx_strlen(session->user_id);

    ctx->entry.expires = session->expires;
    ctx->entry.user_id_len = (u_char) len;
    ngx_memcpy(ctx->entry.user_id, session->user_id, len);

    if (now - session->last_access >= interval
        && scim_saml_session_touch(ngx_http_scim_store, dir->saml, ctx->id,
                                   now)
           == SCIM_OK)
    {
        session->last_access = now;
    }

    ngx_http_scim_saml_cache(r, dir, ctx->id, &ctx->entry,
                             session->last_access);

    ctx->dir = dir;
    ctx->found = 1;

    return NGX_OK;
}


/*
 * Puts a session in the zone: it goes after session_idle without use and
 * at its absolute end at the latest. A full zone only costs the next
 * lookup a read from LMDB.
 */

static void
ngx_http_scim_saml_cache(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, u_char *id,
    ngx_http_scim_saml_entry_t *entry, int64_t last_access)
{
    int64_t                     idle_end;
    ngx_str_t                   value, *key;
    ngx_http_scim_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    key = ngx_http_scim_saml_key(r, dir, id);
    if (key == NULL) {
        return;
    }

    entry->persisted = last_access;

    value.data = (u_char *) entry;
    value.len = ngx_http_scim_saml_entry_size(entry->user_id_len);

    idle_end = ngx_http_scim_now_ms() + (int64_t) dir->session_idle * 1000;

    (void) ngx_http_scim_kv_put(smcf->shm_zone, NGX_HTTP_SCIM_KV_SESSION, key,
                                &value, ngx_min(idle_end, entry->expires),
                                entry->expires, 0);
}


static ngx_str_t *
ngx_http_scim_saml_key(ngx_http_request_t *r, ngx_http_scim_directory_t *dir,
    u_char *id)
{
    u_char     *p;
    ngx_str_t  *key;

    key = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (key == NULL) {
        return NULL;
    }

    key->len = dir->name.len + 1 + SCIM_SAML_SESSION_ID_SIZE;
    key->data = ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(key->data, dir->name.data, dir->name.len);
    *p++ = '\0';
    ngx_memcpy(p, id, SCIM_SAML_SESSION_ID_SIZE);

    return key;
}


/*
 * The session the request's cookie names, for other handlers (the
 * gateway): NGX_OK with the directory, the user id (valid for the
 * request) and the absolute end in ms; NGX_DECLINED without a valid
 * session; NGX_ERROR.
 */

ngx_int_t
ngx_http_scim_saml_request_session(ngx_http_request_t *r,
    ngx_http_scim_directory_t **dir, ngx_str_t *user_id, int64_t *expires)
{
    ngx_http_scim_saml_ctx_t  *ctx;

    ctx = ngx_http_scim_saml_session(r, NULL);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->found) {
        return NGX_DECLINED;
    }

    *dir = ctx->dir;
    user_id->data = ctx->entry.user_id;
    user_id->len = ctx->entry.user_id_len;
    *expires = ctx->entry.expires;

    return NGX_OK;
}


/*
 * $scim_user_id (data 0) and $scim_session_expires (data 1, the absolute
 * end in seconds since the epoch) of the request's session.
 */

ngx_int_t
ngx_http_scim_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                    *p;
    ngx_http_scim_saml_ctx_t  *ctx;

    ctx = ngx_http_scim_saml_session(r, NULL);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->found) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == 0) {
        p = ctx->entry.user_id;
        v->len = ctx->entry.user_id_len;

    } else {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->len = ngx_sprintf(p, "%L", ctx->entry.expires / 1000) - p;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


/* HTTP helpers */


/* a query argument, percent-decoded; empty when absent */

static ngx_int_t
ngx_http_scim_saml_return_to(ngx_http_request_t *r, char *name,
    ngx_str_t *path)
{
    u_char     *dst, *src;
    ngx_str_t   arg;

    ngx_str_null(path);

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &arg) != NGX_OK
        || arg.len == 0)
    {
        return NGX_OK;
    }

    dst = ngx_pnalloc(r->pool, arg.len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    path->data = dst;
    src = arg.data;

    ngx_unescape_uri(&dst, &src, arg.len, 0);

    path->len = dst - path->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_saml_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_http_scim_cookie_iter_t  it;

    ngx_memzero(&it, sizeof(ngx_http_scim_cookie_iter_t));

    return ngx_http_scim_cookie_value(r, name, &it, value);
}


/*
 * The session cookie is HttpOnly, SameSite=Lax, Path=/ and Secure on TLS
 * (or always with session_cookie_secure on). The login cookie must come
 * back on the IdP's cross-site POST, so it is SameSite=None where it can
 * be Secure, and has no SameSite otherwise (browsers then send it on a
 * top-level POST shortly after it was set).
 */

static ngx_int_t
ngx_http_scim_saml_set_cookie(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, ngx_str_t *name, u_char *value,
    size_t len, ngx_uint_t kind)
{
    u_char      *p, *cookie;
    ngx_uint_t   secure;

    secure = dir->cookie_secure;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        secure = 1;
    }
#endif

    cookie = ngx_pnalloc(r->pool, name->len + len + sizeof("=; Path=/; "
                         "Max-Age=600; HttpOnly; Secure; SameSite=None"));
    if (cookie == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(cookie, "%V=%*s; Path=/", name, len, value);

    switch (kind) {

    case NGX_HTTP_SCIM_COOKIE_REQUEST:
        p = ngx_sprintf(p, "; Max-Age=%d",
                        NGX_HTTP_SCIM_SAML_REQUEST_TTL / 1000);
        break;

    case NGX_HTTP_SCIM_COOKIE_DELETE:
        p = ngx_cpymem(p, "; Max-Age=0", sizeof("; Max-Age=0") - 1);
        break;
    }

    p = ngx_cpymem(p, "; HttpOnly", sizeof("; HttpOnly") - 1);

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    if (kind != NGX_HTTP_SCIM_COOKIE_REQUEST) {
        p = ngx_cpymem(p, "; SameSite=Lax", sizeof("; SameSite=Lax") - 1);

    } else if (secure) {
        p = ngx_cpymem(p, "; SameSite=None", sizeof("; SameSite=None") - 1);
    }

    return ngx_http_scim_api_header(r, "Set-Cookie", cookie, p - cookie,
                                    NULL);
}


static ngx_int_t
ngx_http_scim_saml_redirect(ngx_http_request_t *r, ngx_uint_t status,
    u_char *location, size_t len)
{
    ngx_http_clear_location(r);

    r->headers_out.location = ngx_list_push(&r->headers_out.headers);
    if (r->headers_out.location == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.location->hash = 1;
    ngx_str_set(&r->headers_out.location->key, "Location");
    r->headers_out.location->value.data = location;
    r->headers_out.location->value.len = len;

#if (nginx_version >= 1023000)
    r->headers_out.location->next = NULL;
#endif

    return ngx_http_scim_saml_send(r, status, NULL, NULL, 0);
}


static ngx_int_t
ngx_http_scim_saml_send(ngx_http_request_t *r, ngx_uint_t status, char *type,
    u_char *body, size_t len)
{
    /* logins, sessions and metadata are never cached */

    if (ngx_http_scim_api_header(r, "Cache-Control", (u_char *) "no-store",
                                 sizeof("no-store") - 1, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;

    return ngx_http_scim_send_body(r, type, body, len);
}


static ngx_int_t
ngx_http_scim_saml_page(ngx_http_request_t *r, ngx_uint_t status,
    char *title, char *text, ngx_str_t *detail)
{
    u_char     *p, *page;
    size_t      len, escaped;
    ngx_str_t   none = ngx_null_string;

    static char  head[] = "<!DOCTYPE html>\n<html><head>"
                          "<meta charset=\"utf-8\"><title>";
    static char  body[] = "</title></head>\n<body><h1>";
    static char  para[] = "</h1>\n<p>";
    static char  tail[] = "</p>\n</body></html>\n";

    if (detail == NULL) {
        detail = &none;
    }

    escaped = detail->len
              + ngx_escape_html(NULL, detail->data, detail->len);

    len = sizeof(head) - 1 + 2 * ngx_strlen(title) + sizeof(body) - 1
          + sizeof(para) - 1 + ngx_strlen(text) + 1 + escaped
          + sizeof(tail) - 1;

    page = ngx_pnalloc(r->pool, len);
    if (page == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(page, head, sizeof(head) - 1);
    p = ngx_cpymem(p, title, ngx_strlen(title));
    p = ngx_cpymem(p, body, sizeof(body) - 1);
    p = ngx_cpymem(p, title, ngx_strlen(title));
    p = ngx_cpymem(p, para, sizeof(para) - 1);
    p = ngx_cpymem(p, text, ngx_strlen(text));

    if (detail->len) {
        *p++ = ' ';
        p = (u_char *) ngx_escape_html(p, detail->data, detail->len);
    }

    p = ngx_cpymem(p, tail, sizeof(tail) - 1);

    return ngx_http_scim_saml_send(r, status, "text/html; charset=utf-8",
                                   page, p - page);
}


/* constant time: a nonce must not leak through timing */

static ngx_uint_t
ngx_http_scim_saml_same(u_char *a, u_char *b, size_t n)
{
    u_char  d;

    for (d = 0; n--; /* void */) {
        d |= a[n] ^ b[n];
    }

    return d == 0;
}


static void
ngx_http_scim_saml_assertion_cleanup(void *data)
{
    scim_saml_assertion_free(data);
}


/* a redirect the core fills; released with the request */

static scim_saml_redirect_t *
ngx_http_scim_saml_redirect_new(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(scim_saml_redirect_t));
    if (cln == NULL) {
        return NULL;
    }

    ngx_memzero(cln->data, sizeof(scim_saml_redirect_t));
    cln->handler = ngx_http_scim_saml_redirect_cleanup;

    return cln->data;
}


static void
ngx_http_scim_saml_redirect_cleanup(void *data)
{
    scim_saml_redirect_free(data);
}
