
/*
 * Copyright (C) ngx_scim_module authors
 *
 * The product-access gateway: "scim_product" and "scim_require", the access
 * phase handler that turns a session into a decision (cached in the zone,
 * invalidated by the store's directory generation), the identity request
 * headers and the $scim_user family of variables. The decision itself is
 * the core's (scim_access_compute()).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


/*
 * A cached decision: the directory generation it was computed at, the
 * configuration's policy epoch, then the blob.
 */
#define NGX_HTTP_SCIM_DECISION_HEAD  (2 * sizeof(uint64_t))
#define NGX_HTTP_SCIM_DECISION_TTL   600000
#define NGX_HTTP_SCIM_DECISION_BUF   4096


struct ngx_http_scim_gateway_ctx_s {
    unsigned                     looked_up:1;
    unsigned                     session:1;
    ngx_http_scim_directory_t   *dir;
    scim_access_t                access;
};


static ngx_http_scim_gateway_ctx_t *ngx_http_scim_gateway_lookup(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_gateway_decide(ngx_http_request_t *r,
    ngx_http_scim_gateway_ctx_t *gctx, ngx_str_t *user_id);
static ngx_int_t ngx_http_scim_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_clean_headers(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_uint_t cookies);
static ngx_uint_t ngx_http_scim_has_identity(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf);
static ngx_int_t ngx_http_scim_rebuild_headers(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf);
static ngx_int_t ngx_http_scim_strip_session_cookies(ngx_http_request_t *r,
    ngx_uint_t *emptied);
static ngx_int_t ngx_http_scim_strip_cookie_header(ngx_http_request_t *r,
    ngx_http_scim_main_conf_t *smcf, ngx_table_elt_t *h, ngx_uint_t *emptied);
static ngx_uint_t ngx_http_scim_session_cookie(ngx_http_scim_main_conf_t *smcf,
    ngx_str_t *name);
static ngx_int_t ngx_http_scim_identity_set(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, scim_access_t *access);
static ngx_int_t ngx_http_scim_identity_push(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_uint_t kind, u_char *value,
    size_t len);
static ngx_int_t ngx_http_scim_unauthenticated(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf);
static ngx_int_t ngx_http_scim_denied(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_http_scim_gateway_ctx_t *gctx);
static ngx_int_t ngx_http_scim_gateway_page(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *title, ngx_str_t *text);
static ngx_uint_t ngx_http_scim_is_identity(ngx_http_scim_loc_conf_t *slcf,
    ngx_str_t *name);
static ngx_uint_t ngx_http_scim_same_header(ngx_str_t *a, ngx_str_t *b);
static ngx_uint_t ngx_http_scim_header_reserved(ngx_str_t *name);
static ngx_int_t ngx_http_scim_header_name_check(ngx_conf_t *cf,
    ngx_str_t *name, ngx_uint_t prefix);
static void ngx_http_scim_policy_cleanup(void *data);


/* PREFIX + these are the identity headers (X-Remote-User, ...) */
static ngx_str_t  ngx_http_scim_identity_suffixes[] = {
    ngx_string("User"),
    ngx_string("Email"),
    ngx_string("Name"),
    ngx_string("User-Id"),
    ngx_string("Groups"),
    ngx_string("Products"),
    ngx_string("Groups-Overflow")
};


/* the KIND of "scim_identity_header KIND NAME" */
static ngx_str_t  ngx_http_scim_identity_kinds[] = {
    ngx_string("user"),
    ngx_string("email"),
    ngx_string("name"),
    ngx_string("user_id"),
    ngx_string("groups"),
    ngx_string("products"),
    ngx_string("groups_overflow")
};


char *
ngx_http_scim_product(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_main_conf_t *smcf = conf;

    u_char               err[512];
    ngx_str_t           *value, groups, deflt;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;

    ngx_str_null(&groups);
    ngx_str_null(&deflt);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "groups=", 7) == 0) {
            groups.data = value[i].data + 7;
            groups.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "default=", 8) == 0) {
            deflt.data = value[i].data + 8;
            deflt.len = value[i].len - 8;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (smcf->policy == NULL) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        if (scim_policy_new(&smcf->policy) != SCIM_OK) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_scim_policy_cleanup;
        cln->data = smcf->policy;

        smcf->policy_file = cf->conf_file->file.name.data;
        smcf->policy_line = cf->conf_file->line;
    }

    if (scim_policy_add_product(smcf->policy, (char *) value[1].data,
                                value[1].len, (char *) groups.data,
                                groups.len, (char *) deflt.data, deflt.len,
                                (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_scim_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t  *value, mode;

    if (slcf->require != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    slcf->require_file = cf->conf_file->file.name.data;
    slcf->require_line = cf->conf_file->line;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        slcf->require = NGX_HTTP_SCIM_REQUIRE_OFF;

    } else if (ngx_strcmp(value[1].data, "any") == 0) {
        slcf->require = NGX_HTTP_SCIM_REQUIRE_ANY;

    } else if (ngx_strncmp(value[1].data, "product=", 8) == 0
               && value[1].len > 8)
    {
        /* resolved in merge: products may be declared further down */
        slcf->require = NGX_HTTP_SCIM_REQUIRE_PRODUCT;
        slcf->require_name.data = value[1].data + 8;
        slcf->require_name.len = value[1].len - 8;

    } else {
        return "takes \"product=NAME\", \"any\" or \"off\"";
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "unauthenticated=", 16) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    mode.data = value[2].data + 16;
    mode.len = value[2].len - 16;

    if (mode.len == 4 && ngx_strncmp(mode.data, "auto", 4) == 0) {
        slcf->unauthenticated = NGX_HTTP_SCIM_UNAUTH_AUTO;

    } else if (mode.len == 8 && ngx_strncmp(mode.data, "redirect", 8) == 0) {
        slcf->unauthenticated = NGX_HTTP_SCIM_UNAUTH_REDIRECT;

    } else if (mode.len == 3 && ngx_strncmp(mode.data, "401", 3) == 0) {
        slcf->unauthenticated = NGX_HTTP_SCIM_UNAUTH_401;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": unauthenticated= takes "
                           "\"auto\", \"redirect\" or \"401\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_scim_identity_headers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t  *value;

    if (slcf->identity != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        slcf->identity = 0;
        return NGX_CONF_OK;
    }

    if (ngx_http_scim_header_name_check(cf, &value[1], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    slcf->identity = 1;
    slcf->identity_prefix = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_scim_identity_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    for (i = 0; i < NGX_HTTP_SCIM_IDENTITY_N; i++) {
        if (ngx_http_scim_identity_kinds[i].len == value[1].len
            && ngx_strncmp(ngx_http_scim_identity_kinds[i].data,
                           value[1].data, value[1].len) == 0)
        {
            if (slcf->identity_explicit[i].data) {
                return "is duplicate";
            }

            if (ngx_http_scim_header_name_check(cf, &value[2], 0) != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            if (ngx_http_scim_header_reserved(&value[2])) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" cannot carry an identity: a "
                                   "client's copy is removed from every "
                                   "request, and nginx and the app need it "
                                   "for something else", &value[2]);
                return NGX_CONF_ERROR;
            }

            slcf->identity_explicit[i] = value[2];
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown identity header \"%V\": use user, email, "
                       "name, user_id, groups, products or groups_overflow",
                       &value[1]);

    return NGX_CONF_ERROR;
}


/*
 * Headers that mean something to HTTP, nginx or the app's session: as
 * identity headers, the client's own would be removed from every request.
 */

static ngx_uint_t
ngx_http_scim_header_reserved(ngx_str_t *name)
{
    ngx_uint_t  i;

    static ngx_str_t  reserved[] = {
        ngx_string("Host"), ngx_string("Cookie"), ngx_string("Authorization"),
        ngx_string("Proxy-Authorization"), ngx_string("Connection"),
        ngx_string("Content-Length"), ngx_string("Content-Type"),
        ngx_string("Transfer-Encoding"), ngx_string("TE"),
        ngx_string("Upgrade"), ngx_string("Expect"), ngx_string("Range"),
        ngx_string("If-Match"), ngx_string("If-None-Match"),
        ngx_string("Accept"), ngx_string("User-Agent"),
        ngx_string("Forwarded"), ngx_string("X-Forwarded-For")
    };

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (ngx_http_scim_same_header(name, &reserved[i])) {
            return 1;
        }
    }

    return 0;
}


/*
 * A header name is an RFC 9110 token: a space, a colon or a control
 * character in it would make the request nginx sends upstream malformed,
 * or split one header into two.
 */

static ngx_int_t
ngx_http_scim_header_name_check(ngx_conf_t *cf, ngx_str_t *name,
    ngx_uint_t prefix)
{
    u_char      c;
    ngx_uint_t  i;

    static u_char  tchar[] = "!#$%&'*+-.^_`|~";

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || ngx_strlchr(tchar, tchar + sizeof(tchar) - 1, c) != NULL))
        {
            break;
        }
    }

    if (name->len && i == name->len) {
        return NGX_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid header name%s \"%V\": a header name is one "
                       "or more letters, digits and any of "
                       "!#$%%&'*+-.^_`|~ (RFC 9110 token characters)",
                       prefix ? " prefix" : "", name);

    return NGX_ERROR;
}


/*
 * Browsers are sent to scim_login_url with "return_to=": a path of this
 * server, or an absolute http(s) URL; a relative reference would resolve
 * against the protected page and loop.
 */

char *
ngx_http_scim_login_url_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *url = data;

    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < url->len; i++) {
        c = url->data[i];

        /* it goes into Location and a quoted WWW-Authenticate parameter */

        if (c <= ' ' || c == '"' || c >= 0x7f) {
            goto invalid;
        }
    }

    if ((url->len > 1 && url->data[0] == '/' && url->data[1] != '/')
        || (url->len == 1 && url->data[0] == '/'))
    {
        return NGX_CONF_OK;
    }

    if ((url->len > sizeof("http://") - 1
         && ngx_strncasecmp(url->data, (u_char *) "http://",
                            sizeof("http://") - 1) == 0)
        || (url->len > sizeof("https://") - 1
            && ngx_strncasecmp(url->data, (u_char *) "https://",
                               sizeof("https://") - 1) == 0))
    {
        return NGX_CONF_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\": \"scim_login_url\" takes a "
                       "path starting with \"/\" or an absolute http:// or "
                       "https:// URL, without spaces or quotes", url);

    return NGX_CONF_ERROR;
}


char *
ngx_http_scim_identity_max_size_check(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *size = data;

    ngx_str_t  *value;

    if (*size >= NGX_HTTP_SCIM_IDENTITY_MIN_SIZE
        && *size <= NGX_HTTP_SCIM_IDENTITY_MAX_SIZE)
    {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\": "
                       "\"scim_identity_headers_max_size\" must be from %uz "
                       "bytes to %uz bytes (1m)", &value[1],
                       (size_t) NGX_HTTP_SCIM_IDENTITY_MIN_SIZE,
                       (size_t) NGX_HTTP_SCIM_IDENTITY_MAX_SIZE);

    return NGX_CONF_ERROR;
}


void
ngx_http_scim_gateway_loc_init(ngx_http_scim_loc_conf_t *conf)
{
    conf->require = NGX_CONF_UNSET;
    conf->require_product = NGX_CONF_UNSET;
    conf->unauthenticated = NGX_CONF_UNSET_UINT;
    conf->identity = NGX_CONF_UNSET;
    conf->identity_max_size = NGX_CONF_UNSET_SIZE;
}


char *
ngx_http_scim_gateway_merge(ngx_conf_t *cf, ngx_http_scim_loc_conf_t *prev,
    ngx_http_scim_loc_conf_t *conf)
{
    u_char                     *p;
    ngx_uint_t                  i;
    ngx_http_scim_directory_t **dirs;
    ngx_http_scim_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_scim_module);

    /*
     * The module's endpoints are never behind scim_require (see the access
     * handler); set in their very location, it would silently do nothing.
     */

    if (conf->require != NGX_CONF_UNSET
        && conf->require != NGX_HTTP_SCIM_REQUIRE_OFF
        && (conf->api_name.len || conf->saml_endpoint))
    {
        ngx_http_scim_conf_error_at(cf, conf->require_file, conf->require_line,
                                    "\"scim_require\" cannot protect a "
                                    "\"%s\" location: it authenticates "
                                    "requests on its own",
                                    conf->api_name.len ? "scim_api"
                                                       : "scim_saml_*");
        return NGX_CONF_ERROR;
    }

    if (conf->require == NGX_CONF_UNSET) {
        conf->require = prev->require;
        conf->require_product = prev->require_product;
        conf->require_name = prev->require_name;
        conf->require_file = prev->require_file;
        conf->require_line = prev->require_line;
    }

    if (conf->require == NGX_CONF_UNSET) {
        conf->require = NGX_HTTP_SCIM_REQUIRE_OFF;
    }

    ngx_conf_merge_uint_value(conf->unauthenticated, prev->unauthenticated,
                              NGX_HTTP_SCIM_UNAUTH_AUTO);
    ngx_conf_merge_str_value(conf->login_url, prev->login_url, "/saml/login");
    ngx_conf_merge_value(conf->identity, prev->identity, 1);
    ngx_conf_merge_str_value(conf->identity_prefix, prev->identity_prefix,
                             "X-Remote-");
    ngx_conf_merge_size_value(conf->identity_max_size,
                              prev->identity_max_size, 4096);

    for (i = 0; i < NGX_HTTP_SCIM_IDENTITY_N; i++) {
        if (conf->identity_explicit[i].data == NULL) {
            conf->identity_explicit[i] = prev->identity_explicit[i];
        }
    }

    /* the header names: PREFIX + suffix, unless named one by one */

    for (i = 0; i < NGX_HTTP_SCIM_IDENTITY_N; i++) {
        if (conf->identity_explicit[i].data) {
            conf->identity_names[i] = conf->identity_explicit[i];

        } else {
            conf->identity_names[i].len = conf->identity_prefix.len
                                      + ngx_http_scim_identity_suffixes[i].len;
            p = ngx_pnalloc(cf->pool, conf->identity_names[i].len);
            if (p == NULL) {
                return NGX_CONF_ERROR;
            }

            conf->identity_names[i].data = p;
            p = ngx_cpymem(p, conf->identity_prefix.data,
                           conf->identity_prefix.len);
            ngx_memcpy(p, ngx_http_scim_identity_suffixes[i].data,
                       ngx_http_scim_identity_suffixes[i].len);
        }

        /* once here, not on every request (as proxy_set_header does) */

        conf->identity_lowcase[i] = ngx_pnalloc(cf->pool,
                                                conf->identity_names[i].len);
        if (conf->identity_lowcase[i] == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->identity_hash[i] = ngx_hash_strlow(conf->identity_lowcase[i],
                                                 conf->identity_names[i].data,
                                                 conf->identity_names[i].len);
    }

    if (conf->require == NGX_HTTP_SCIM_REQUIRE_OFF) {
        return NGX_CONF_OK;
    }

    /* the checks a requiring location needs, once per location */

    if (conf->require == NGX_HTTP_SCIM_REQUIRE_PRODUCT
        && conf->require_product == NGX_CONF_UNSET)
    {
        conf->require_product = smcf->policy
                                ? scim_policy_product(smcf->policy,
                                        (char *) conf->require_name.data,
                                        conf->require_name.len)
                                : -1;

        if (conf->require_product < 0) {
            ngx_http_scim_conf_error_at(cf, conf->require_file,
                                        conf->require_line,
                                        "\"scim_require\" names unknown product "
                                        "\"%V\": declare it with "
                                        "\"scim_product %V groups=...\"",
                                        &conf->require_name,
                                        &conf->require_name);
            return NGX_CONF_ERROR;
        }
    }

    if (smcf->shm_zone == NULL) {
        ngx_http_scim_conf_error_at(cf, conf->require_file, conf->require_line,
                                    "\"scim_require\" needs a \"scim_zone\" "
                                    "for the sessions and decisions");
        return NGX_CONF_ERROR;
    }

    dirs = smcf->directories.elts;

    for (i = 0; i < smcf->directories.nelts; i++) {
        if (dirs[i]->saml) {
            break;
        }
    }

    if (i == smcf->directories.nelts) {
        ngx_http_scim_conf_error_at(cf, conf->require_file, conf->require_line,
                                    "\"scim_require\" needs a scim_directory "
                                    "with SAML settings to log users in");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Directories refuse to sync a group named like a product's default
 * group; once the whole http block, directories and products, is known.
 */

char *
ngx_http_scim_gateway_init_main(ngx_conf_t *cf,
    ngx_http_scim_main_conf_t *smcf)
{
    ngx_uint_t                   i;
    ngx_http_scim_directory_t  **dirs;

    smcf->policy_epoch = ((uint64_t) ngx_time() << 32)
                         ^ ((uint64_t) ngx_pid << 16) ^ (uint64_t) ngx_random();

    if (smcf->policy == NULL) {
        return NGX_CONF_OK;
    }

    dirs = smcf->directories.elts;

    for (i = 0; i < smcf->directories.nelts; i++) {
        if (scim_directory_reserve_groups(dirs[i]->core, smcf->policy)
            != SCIM_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_scim_gateway_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_scim_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_access_handler(ngx_http_request_t *r)
{
    ngx_http_scim_loc_conf_t     *slcf;
    ngx_http_scim_gateway_ctx_t  *gctx;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);

    /*
     * The module's own endpoints authenticate on their own (SAML messages,
     * the SCIM bearer token) and must stay reachable without a session:
     * a scim_require inherited from the server or http level does not
     * apply to them (one set in the location itself fails nginx -t).
     *
     * A client's own X-Remote-User (or X_Remote_User, which reaches a
     * FastCGI app as HTTP_X_REMOTE_USER too) never reaches an upstream,
     * whether this location requires a session or not.
     */

    if (slcf->require == NGX_HTTP_SCIM_REQUIRE_OFF
        || slcf->api_name.len || slcf->saml_endpoint)
    {
        if (ngx_http_scim_clean_headers(r, slcf, 0) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    gctx = ngx_http_scim_gateway_lookup(r);
    if (gctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!gctx->session) {
        return ngx_http_scim_unauthenticated(r, slcf);
    }

    if (!gctx->access.found || !gctx->access.active
        || (slcf->require == NGX_HTTP_SCIM_REQUIRE_PRODUCT
            && !(gctx->access.products
                 & ((uint64_t) 1 << slcf->require_product))))
    {
        return ngx_http_scim_denied(r, slcf, gctx);
    }

    /* the client's identity headers go before ours are added */

    if (ngx_http_scim_clean_headers(r, slcf, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (slcf->identity
        && ngx_http_scim_identity_set(r, slcf, &gctx->access) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * Removes the client's identity headers and, with "cookies", our session
 * and login cookies; a Cookie header left empty is removed as a whole.
 * The request header list is rebuilt only when something goes.
 */

static ngx_int_t
ngx_http_scim_clean_headers(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_uint_t cookies)
{
    ngx_uint_t  emptied;

    emptied = 0;

    if (cookies
        && ngx_http_scim_strip_session_cookies(r, &emptied) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (emptied || ngx_http_scim_has_identity(r, slcf)) {
        return ngx_http_scim_rebuild_headers(r, slcf);
    }

    return NGX_OK;
}


/*
 * The session cookie is a bearer credential of nginx's, not of the app:
 * the app behind scim_require gets the identity headers instead, and the
 * Cookie header it receives no longer carries our session and login
 * cookies (an app, or its logs, could otherwise replay them).
 */

static ngx_int_t
ngx_http_scim_strip_session_cookies(ngx_http_request_t *r,
    ngx_uint_t *emptied)
{
    ngx_table_elt_t            *h;
    ngx_http_scim_main_conf_t  *smcf;
#if (nginx_version < 1023000)
    ngx_uint_t                  i;
    ngx_table_elt_t           **cookies;
#endif

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    /*
     * The Cookie headers nginx has already collected, not a walk of every
     * request header: this runs on every request to a protected location.
     */

#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {
        if (ngx_http_scim_strip_cookie_header(r, smcf, h, emptied)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

#else

    cookies = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = cookies[i];

        if (ngx_http_scim_strip_cookie_header(r, smcf, h, emptied)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_strip_cookie_header(ngx_http_request_t *r,
    ngx_http_scim_main_conf_t *smcf, ngx_table_elt_t *h, ngx_uint_t *emptied)
{
    u_char                  *p, *last, *out, *o;
    ngx_uint_t               changed;
    ngx_http_scim_cookie_t   cookie;

    out = ngx_pnalloc(r->pool, h->value.len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    o = out;
    changed = 0;
    p = h->value.data;
    last = p + h->value.len;

    /* read as the session lookup reads it: nothing it accepts stays */

    while ((p = ngx_http_scim_cookie_next(p, last, &cookie)) != NULL) {

        if (ngx_http_scim_session_cookie(smcf, &cookie.name)) {
            changed = 1;
            continue;
        }

        if (o != out) {
            *o++ = ';';
            *o++ = ' ';
        }

        o = ngx_cpymem(o, cookie.item.data, cookie.item.len);
    }

    if (changed) {
        h->value.data = out;
        h->value.len = o - out;

        if (h->value.len == 0) {
            (*emptied)++;
        }
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_scim_session_cookie(ngx_http_scim_main_conf_t *smcf,
    ngx_str_t *name)
{
    ngx_uint_t                   i;
    ngx_http_scim_directory_t  **dirs;

    dirs = smcf->directories.elts;

    for (i = 0; i < smcf->directories.nelts; i++) {
        if (dirs[i]->saml
            && (ngx_http_scim_cookie_is(name, &dirs[i]->cookie_name)
                || ngx_http_scim_cookie_is(name, &dirs[i]->request_cookie)))
        {
            return 1;
        }
    }

    return 0;
}


/* the session and the decision of a request, once per request */

static ngx_http_scim_gateway_ctx_t *
ngx_http_scim_gateway_lookup(ngx_http_request_t *r)
{
    int64_t                       expires;
    ngx_int_t                     rc;
    ngx_str_t                     user_id;
    ngx_http_scim_ctx_t          *ctx;
    ngx_http_scim_gateway_ctx_t  *gctx;

    ctx = ngx_http_scim_request_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->gateway == NULL) {
        ctx->gateway = ngx_pcalloc(r->pool,
                                   sizeof(ngx_http_scim_gateway_ctx_t));
        if (ctx->gateway == NULL) {
            return NULL;
        }
    }

    gctx = ctx->gateway;

    if (gctx->looked_up) {
        return gctx;
    }

    gctx->looked_up = 1;

    rc = ngx_http_scim_saml_request_session(r, &gctx->dir, &user_id,
                                            &expires);
    if (rc == NGX_ERROR) {
        return NULL;
    }

    if (rc == NGX_DECLINED) {
        return gctx;
    }

    if (ngx_http_scim_gateway_decide(r, gctx, &user_id) != NGX_OK) {
        return NULL;
    }

    gctx->session = 1;

    return gctx;
}


/*
 * The decision is cached in the zone with the store's directory generation
 * at the time it was computed. Every committed SCIM write moves the
 * generation in the same LMDB transaction, so the next request on any
 * worker, of this nginx or of another one sharing the store (an old binary
 * during an upgrade, a second instance with a zone of its own), sees a
 * stale entry and recomputes: a deactivation or a membership change takes
 * effect on the very next request. The generation is read before the
 * decision is computed, so a write racing with the computation leaves an
 * entry that is already stale.
 */

static ngx_int_t
ngx_http_scim_gateway_decide(ngx_http_request_t *r,
    ngx_http_scim_gateway_ctx_t *gctx, ngx_str_t *user_id)
{
    int                         rc;
    char                       *blob;
    u_char                     *p, buf[NGX_HTTP_SCIM_DECISION_BUF];
    size_t                      blob_len;
    uint64_t                    generation, cached[2];
    ngx_str_t                   key, value;
    ngx_http_scim_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    if (ngx_http_scim_store == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim: no store in this worker to decide access");
        return NGX_ERROR;
    }

    rc = scim_store_generation(ngx_http_scim_store, &generation);
    if (rc != SCIM_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim: the store's generation cannot be read: %s",
                      scim_strerror(rc));
        return NGX_ERROR;
    }

    key.len = gctx->dir->name.len + 1 + user_id->len;
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key.data, gctx->dir->name.data, gctx->dir->name.len);
    *p++ = '\0';
    ngx_memcpy(p, user_id->data, user_id->len);

    value.data = buf;
    value.len = sizeof(buf);

    rc = ngx_http_scim_kv_get(smcf->shm_zone, NGX_HTTP_SCIM_KV_DECISION, &key,
                              &value, 0, NULL, 0);

    if (rc == NGX_OK && value.len > NGX_HTTP_SCIM_DECISION_HEAD) {
        ngx_memcpy(cached, value.data, NGX_HTTP_SCIM_DECISION_HEAD);

        if (cached[0] == generation && cached[1] == smcf->policy_epoch) {
            p = ngx_pnalloc(r->pool, value.len - NGX_HTTP_SCIM_DECISION_HEAD);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(p, value.data + NGX_HTTP_SCIM_DECISION_HEAD,
                       value.len - NGX_HTTP_SCIM_DECISION_HEAD);

            if (scim_access_read((char *) p,
                                 value.len - NGX_HTTP_SCIM_DECISION_HEAD,
                                 &gctx->access)
                == SCIM_OK)
            {
                return NGX_OK;
            }
        }
    }

    rc = scim_access_compute(ngx_http_scim_store, gctx->dir->core, smcf->policy,
                             (char *) user_id->data, user_id->len, &blob,
                             &blob_len);
    if (rc != SCIM_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim: access of user \"%V\" cannot be computed: %s",
                      user_id, scim_strerror(rc));
        return NGX_ERROR;
    }

    value.len = NGX_HTTP_SCIM_DECISION_HEAD + blob_len;
    value.data = ngx_pnalloc(r->pool, value.len);
    if (value.data == NULL) {
        free(blob);
        return NGX_ERROR;
    }

    cached[0] = generation;
    cached[1] = smcf->policy_epoch;
    ngx_memcpy(value.data, cached, NGX_HTTP_SCIM_DECISION_HEAD);
    ngx_memcpy(value.data + NGX_HTTP_SCIM_DECISION_HEAD, blob, blob_len);
    free(blob);

    /* a full zone only costs the next request a recomputation */

    (void) ngx_http_scim_kv_put(smcf->shm_zone, NGX_HTTP_SCIM_KV_DECISION,
                                &key, &value,
                                ngx_http_scim_now_ms()
                                + NGX_HTTP_SCIM_DECISION_TTL, 0, 0);

    if (scim_access_read((char *) value.data + NGX_HTTP_SCIM_DECISION_HEAD,
                         blob_len, &gctx->access)
        != SCIM_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* whether a request header is (a disguise of) one of our identity headers */

static ngx_uint_t
ngx_http_scim_is_identity(ngx_http_scim_loc_conf_t *slcf, ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_SCIM_IDENTITY_N; i++) {
        if (ngx_http_scim_same_header(name, &slcf->identity_names[i])) {
            return 1;
        }
    }

    return 0;
}


/* header names compare case-insensitively, with "_" as "-" */

static ngx_uint_t
ngx_http_scim_same_header(ngx_str_t *a, ngx_str_t *b)
{
    u_char      ca, cb;
    ngx_uint_t  i;

    if (a->len != b->len) {
        return 0;
    }

    for (i = 0; i < a->len; i++) {
        ca = ngx_tolower(a->data[i]);
        cb = ngx_tolower(b->data[i]);

        if (ca == '_') {
            ca = '-';
        }

        if (cb == '_') {
            cb = '-';
        }

        if (ca != cb) {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_scim_has_identity(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (!slcf->identity) {
        return 0;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_scim_is_identity(slcf, &h[i].key)) {
            return 1;
        }
    }

    return 0;
}


/*
 * ngx_list_t has no removal, and proxy, fastcgi, uwsgi and grpc all walk
 * the list: the list is rebuilt in place of copies, without the client's
 * identity headers and without the Cookie headers that were emptied.
 *
 * r->headers_in's single-header pointers (host, user_agent, ...) keep
 * pointing at the old elements: they stay valid in the request pool, and
 * equal to their copies, as long as nothing edits them. The Cookie headers
 * are edited (ngx_http_scim_strip_session_cookies()) and read again by
 * $http_cookie and $cookie_NAME, so their pointers are moved to the
 * copies, and the ones removed are dropped.
 */

static ngx_int_t
ngx_http_scim_rebuild_headers(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf)
{
    ngx_uint_t         i, n, cookie;
    ngx_list_part_t   *part, old;
    ngx_table_elt_t   *h, *copy;
#if (nginx_version >= 1023000)
    ngx_table_elt_t  **link;
#else
    ngx_uint_t         j;
    ngx_table_elt_t  **cookies;
#endif

    old = r->headers_in.headers.part;

    /*
     * One part for the copies and the identity headers pushed next: no
     * more pool than they need.
     */

    n = NGX_HTTP_SCIM_IDENTITY_N + 1;

    for (part = &old; part; part = part->next) {
        n += part->nelts;
    }

    if (ngx_list_init(&r->headers_in.headers, r->pool, n,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

#if (nginx_version >= 1023000)
    /* the chain follows the list's order; only the copies' links change */
    link = &r->headers_in.cookie;
#else
    cookies = r->headers_in.cookies.elts;
#endif

    part = &old;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

#if (nginx_version >= 1023000)
        cookie = (*link == &h[i]);
#else
        for (j = 0; j < r->headers_in.cookies.nelts; j++) {
            if (cookies[j] == &h[i]) {
                break;
            }
        }

        cookie = (j < r->headers_in.cookies.nelts);
#endif

        if ((cookie && h[i].value.len == 0)
            || (slcf->identity && ngx_http_scim_is_identity(slcf, &h[i].key)))
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "scim: removed request header \"%V\"", &h[i].key);

            if (cookie) {
#if (nginx_version >= 1023000)
                *link = h[i].next;
#else
                cookies[j] = NULL;
#endif
            }

            continue;
        }

        copy = ngx_list_push(&r->headers_in.headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = h[i];

        if (cookie) {
#if (nginx_version >= 1023000)
            *link = copy;
            link = &copy->next;
#else
            cookies[j] = copy;
#endif
        }
    }

#if (nginx_version < 1023000)

    for (i = 0, n = 0; i < r->headers_in.cookies.nelts; i++) {
        if (cookies[i] != NULL) {
            cookies[n++] = cookies[i];
        }
    }

    r->headers_in.cookies.nelts = n;

#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_identity_set(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, scim_access_t *access)
{
    u_char  *p;

    if (ngx_http_scim_identity_push(r, slcf, NGX_HTTP_SCIM_IDENTITY_USER,
                                    (u_char *) access->user_name.data,
                                    access->user_name.len)
           != NGX_OK
        || ngx_http_scim_identity_push(r, slcf, NGX_HTTP_SCIM_IDENTITY_EMAIL,
                                       (u_char *) access->email.data,
                                       access->email.len)
           != NGX_OK
        || ngx_http_scim_identity_push(r, slcf, NGX_HTTP_SCIM_IDENTITY_NAME,
                                       (u_char *) access->display_name.data,
                                       access->display_name.len)
           != NGX_OK
        || ngx_http_scim_identity_push(r, slcf,
                                       NGX_HTTP_SCIM_IDENTITY_USER_ID,
                                       (u_char *) access->user_id.data,
                                       access->user_id.len)
           != NGX_OK
        || ngx_http_scim_identity_push(r, slcf,
                                       NGX_HTTP_SCIM_IDENTITY_PRODUCTS,
                                       (u_char *) access->product_names.data,
                                       access->product_names.len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * A group list longer than the bound is not truncated (a cut list can
     * grant the wrong thing): the groups header is sent empty and the
     * overflow header says how many groups there are. The products header,
     * which the gateway decided on, is always complete.
     */

    if (access->groups.len <= slcf->identity_max_size) {
        return ngx_http_scim_identity_push(r, slcf,
                                           NGX_HTTP_SCIM_IDENTITY_GROUPS,
                                           (u_char *) access->groups.data,
                                           access->groups.len);
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "scim: %uz groups of user \"%*s\" exceed "
                  "scim_identity_headers_max_size (%uz bytes); \"%V\" is sent "
                  "empty",
                  access->group_count, access->user_name.len,
                  access->user_name.data, slcf->identity_max_size,
                  &slcf->identity_names[NGX_HTTP_SCIM_IDENTITY_GROUPS]);

    p = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_scim_identity_push(r, slcf, NGX_HTTP_SCIM_IDENTITY_GROUPS,
                                    (u_char *) "", 0)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_scim_identity_push(r, slcf,
                                   NGX_HTTP_SCIM_IDENTITY_OVERFLOW, p,
                                   ngx_sprintf(p, "%uz", access->group_count)
                                   - p);
}


/*
 * The name's lowercase form and hash were computed at configuration time;
 * the entry points to them (nothing changes a request header's key).
 */

static ngx_int_t
ngx_http_scim_identity_push(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_uint_t kind, u_char *value,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = slcf->identity_names[kind];
    h->lowcase_key = slcf->identity_lowcase[kind];
    h->hash = slcf->identity_hash[kind];
    h->value.data = value;
    h->value.len = len;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/*
 * Without a session: a browser is sent to the login with its URL as the
 * return path; an API client (no text/html in Accept, or a method other
 * than GET and HEAD, whose body a login could not replay) gets a 401.
 */

static ngx_int_t
ngx_http_scim_unauthenticated(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf)
{
    u_char            *p;
    size_t             len;
    uintptr_t          escape;
    ngx_str_t          title, text;
    ngx_uint_t         browser;
    ngx_table_elt_t   *h, *accept;

    browser = slcf->unauthenticated == NGX_HTTP_SCIM_UNAUTH_REDIRECT;

    if (slcf->unauthenticated == NGX_HTTP_SCIM_UNAUTH_AUTO
        && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)))
    {
        accept = NULL;

#if (NGX_HTTP_HEADERS)
        accept = r->headers_in.accept;
#endif

        browser = accept != NULL
                  && ngx_strlcasestrn(accept->value.data,
                                      accept->value.data + accept->value.len,
                                      (u_char *) "text/html", 9 - 1)
                     != NULL;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    if (browser) {
        escape = 2 * ngx_escape_uri(NULL, r->unparsed_uri.data,
                                    r->unparsed_uri.len, NGX_ESCAPE_ARGS);
        len = slcf->login_url.len + sizeof("?return_to=") - 1
              + r->unparsed_uri.len + escape;

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->value.data = p;
        p = ngx_cpymem(p, slcf->login_url.data, slcf->login_url.len);
        /* a login URL may carry a query of its own */

        *p++ = ngx_strlchr(slcf->login_url.data,
                           slcf->login_url.data + slcf->login_url.len, '?')
               ? '&' : '?';
        p = ngx_cpymem(p, "return_to=", sizeof("return_to=") - 1);
        p = (u_char *) ngx_escape_uri(p, r->unparsed_uri.data,
                                      r->unparsed_uri.len, NGX_ESCAPE_ARGS);
        h->value.len = p - h->value.data;

        ngx_str_set(&h->key, "Location");
        r->headers_out.location = h;

        ngx_str_set(&title, "Sign in");
        ngx_str_set(&text, "This page needs you to sign in.");

        return ngx_http_scim_gateway_page(r, NGX_HTTP_MOVED_TEMPORARILY,
                                          &title, &text);
    }

    len = sizeof("SAML realm=\"\", login=\"\"") - 1 + r->headers_in.server.len
          + slcf->login_url.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = p;
    h->value.len = ngx_sprintf(p, "SAML realm=\"%V\", login=\"%V\"",
                               &r->headers_in.server, &slcf->login_url)
                   - p;
    ngx_str_set(&h->key, "WWW-Authenticate");
    r->headers_out.www_authenticate = h;

    ngx_str_set(&title, "Unauthorized");
    ngx_str_set(&text, "No session: sign in first.");

    return ngx_http_scim_gateway_page(r, NGX_HTTP_UNAUTHORIZED, &title, &text);
}


/*
 * The page tells the person why in a sentence; the log line tells the
 * operator who and why, in terms of the configuration.
 */

static ngx_int_t
ngx_http_scim_denied(ngx_http_request_t *r, ngx_http_scim_loc_conf_t *slcf,
    ngx_http_scim_gateway_ctx_t *gctx)
{
    u_char         *p;
    ngx_str_t       title, text;
    scim_access_t  *a;

    a = &gctx->access;

    ngx_str_set(&title, "Access denied");

    if (!a->found) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim: access denied to user (id %*s) of directory "
                      "\"%V\": deleted",
                      a->user_id.len, a->user_id.data, &gctx->dir->name);

        ngx_str_set(&text, "Your account no longer exists in the identity "
                           "provider's directory.");

    } else if (!a->active) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim: access denied to user \"%*s\" (id %*s) of "
                      "directory \"%V\": deactivated",
                      a->user_name.len, a->user_name.data,
                      a->user_id.len, a->user_id.data, &gctx->dir->name);

        ngx_str_set(&text, "Your account is deactivated in the identity "
                           "provider's directory.");

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim: access denied to user \"%*s\" (id %*s) of "
                      "directory \"%V\": not granted product \"%V\"",
                      a->user_name.len, a->user_name.data,
                      a->user_id.len, a->user_id.data, &gctx->dir->name,
                      &slcf->require_name);

        p = ngx_pnalloc(r->pool, 128 + slcf->require_name.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        text.data = p;
        text.len = ngx_sprintf(p, "Your account has no access to %V. Ask "
                               "your administrator for a group that grants "
                               "it.", &slcf->require_name)
                   - p;
    }

    return ngx_http_scim_gateway_page(r, NGX_HTTP_FORBIDDEN, &title, &text);
}


/*
 * A short page of our own, so the person sees why; the request ends here
 * (the access phase then stops at NGX_DONE).
 */

static ngx_int_t
ngx_http_scim_gateway_page(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *title, ngx_str_t *text)
{
    u_char     *p;
    size_t      len;
    ngx_int_t   rc;

    len = sizeof("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                 "<title></title></head>\n<body><h1></h1>\n<p></p>\n"
                 "</body></html>\n") - 1
          + 2 * title->len + text->len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_sprintf(p, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                      "<title>%V</title></head>\n<body><h1>%V</h1>\n"
                      "<p>%V</p>\n</body></html>\n", title, title, text)
          - p;

    r->headers_out.status = status;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    rc = ngx_http_scim_send_body(r, "text/html; charset=utf-8", p, len);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * $scim_user, $scim_email, $scim_name, $scim_groups, $scim_products: the
 * identity of the request's session (looked up here when no scim_require
 * did it, so log_format works anywhere).
 */

ngx_int_t
ngx_http_scim_gateway_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    scim_str_t                   *s;
    ngx_http_scim_main_conf_t    *smcf;
    ngx_http_scim_gateway_ctx_t  *gctx;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    if (smcf->shm_zone == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    gctx = ngx_http_scim_gateway_lookup(r);
    if (gctx == NULL) {
        return NGX_ERROR;
    }

    if (!gctx->session || !gctx->access.found) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {
    case NGX_HTTP_SCIM_IDENTITY_USER:
        s = &gctx->access.user_name;
        break;
    case NGX_HTTP_SCIM_IDENTITY_EMAIL:
        s = &gctx->access.email;
        break;
    case NGX_HTTP_SCIM_IDENTITY_NAME:
        s = &gctx->access.display_name;
        break;
    case NGX_HTTP_SCIM_IDENTITY_GROUPS:
        s = &gctx->access.groups;
        break;
    default: /* NGX_HTTP_SCIM_IDENTITY_PRODUCTS */
        s = &gctx->access.product_names;
    }

    v->data = (u_char *) s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static void
ngx_http_scim_policy_cleanup(void *data)
{
    scim_policy_free(data);
}
