
/*
 * Copyright (C) ngx_scim_module authors
 *
 * Directives, configuration and process hooks of ngx_http_scim_module, and
 * ngx_http_scim_store_module, a core module that checks and prepares the
 * LMDB store once the whole configuration (including "user") is known.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


#define NGX_HTTP_SCIM_ERRLEN  512


static void *ngx_http_scim_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_scim_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_scim_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_scim_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_scim_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_scim_add_variables(ngx_conf_t *cf);

static char *ngx_http_scim_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_directory_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_directory_handler(ngx_conf_t *cf,
    ngx_command_t *dummy, void *conf);
static char *ngx_http_scim_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_scim_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_uint_t ngx_http_scim_api_url_invalid(ngx_str_t *url);
static void ngx_http_scim_directory_cleanup(void *data);
static void ngx_http_scim_ctx_cleanup(void *data);

static ngx_int_t ngx_http_scim_init_process(ngx_cycle_t *cycle);
static void ngx_http_scim_exit_process(ngx_cycle_t *cycle);

static void *ngx_http_scim_store_create_conf(ngx_cycle_t *cycle);
static char *ngx_http_scim_store_init_conf(ngx_cycle_t *cycle, void *conf);


scim_store_t  *ngx_http_scim_store;


/* their bounds are the core's: ngx_http_scim_saml_limit() asks it */
static scim_saml_limit_t  ngx_http_scim_clock_skew = SCIM_SAML_CLOCK_SKEW;
static scim_saml_limit_t  ngx_http_scim_session_idle = SCIM_SAML_SESSION_IDLE;
static scim_saml_limit_t  ngx_http_scim_session_lifetime =
    SCIM_SAML_SESSION_LIFETIME;
static scim_saml_limit_t  ngx_http_scim_max_response_size =
    SCIM_SAML_MAX_RESPONSE_SIZE;

static ngx_conf_post_t  ngx_http_scim_login_url_post =
    { ngx_http_scim_login_url_check };

static ngx_conf_post_t  ngx_http_scim_identity_max_size_post =
    { ngx_http_scim_identity_max_size_check };


static ngx_command_t  ngx_http_scim_commands[] = {

    { ngx_string("scim_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_scim_store_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_directory"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_scim_directory_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_scim_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_product"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_scim_product,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_scim_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_login_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, login_url),
      &ngx_http_scim_login_url_post },

    { ngx_string("scim_identity_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_identity_headers,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_identity_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_scim_identity_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("scim_identity_headers_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_scim_loc_conf_t, identity_max_size),
      &ngx_http_scim_identity_max_size_post },

    { ngx_string("scim_saml_acs"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_saml_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_SCIM_SAML_ACS,
      NULL },

    { ngx_string("scim_saml_login"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_saml_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_SCIM_SAML_LOGIN,
      NULL },

    { ngx_string("scim_saml_metadata"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_scim_saml_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_SCIM_SAML_METADATA,
      NULL },

    { ngx_string("scim_saml_logout"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_scim_saml_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_SCIM_SAML_LOGOUT,
      NULL },

      ngx_null_command
};


/*
 * Directives inside "scim_directory NAME { ... }". The block is parsed by a
 * custom handler (as "types" and "map" are), so these get the directory as
 * their conf and reuse nginx's argument-count flags; on|off directives are
 * TAKE1 here, and ngx_conf_set_flag_slot() checks the value.
 */

static ngx_command_t  ngx_http_scim_directory_commands[] = {

    { ngx_string("token_file"),
      NGX_CONF_TAKE1,
      ngx_http_scim_token_file,
      0,
      0,
      NULL },

    /* the SAML Service Provider (ngx_http_scim_saml.c) */

    { ngx_string("idp_metadata"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_file,
      0,
      NGX_HTTP_SCIM_SAML_IDP_METADATA,
      NULL },

    { ngx_string("idp_cert"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_file,
      0,
      NGX_HTTP_SCIM_SAML_IDP_CERT,
      NULL },

    { ngx_string("sp_key"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_file,
      0,
      NGX_HTTP_SCIM_SAML_SP_KEY,
      NULL },

    { ngx_string("sp_cert"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_file,
      0,
      NGX_HTTP_SCIM_SAML_SP_CERT,
      NULL },

    { ngx_string("idp_entity_id"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_option,
      0,
      SCIM_SAML_IDP_ENTITY_ID,
      NULL },

    { ngx_string("idp_sso_url"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_option,
      0,
      SCIM_SAML_IDP_SSO_URL,
      NULL },

    { ngx_string("idp_slo_url"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_option,
      0,
      SCIM_SAML_IDP_SLO_URL,
      NULL },

    { ngx_string("sp_entity_id"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_option,
      0,
      SCIM_SAML_SP_ENTITY_ID,
      NULL },

    { ngx_string("sp_acs_url"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_option,
      0,
      SCIM_SAML_SP_ACS_URL,
      NULL },

    { ngx_string("sp_slo_url"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_option,
      0,
      SCIM_SAML_SP_SLO_URL,
      NULL },

    { ngx_string("login_attribute"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_option,
      0,
      SCIM_SAML_LOGIN_ATTRIBUTE,
      NULL },

    { ngx_string("clock_skew"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_limit,
      0,
      offsetof(ngx_http_scim_directory_t, clock_skew),
      &ngx_http_scim_clock_skew },

    { ngx_string("session_idle"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_limit,
      0,
      offsetof(ngx_http_scim_directory_t, session_idle),
      &ngx_http_scim_session_idle },

    { ngx_string("session_lifetime"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_limit,
      0,
      offsetof(ngx_http_scim_directory_t, session_lifetime),
      &ngx_http_scim_session_lifetime },

    { ngx_string("max_response_size"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_limit,
      0,
      offsetof(ngx_http_scim_directory_t, max_response_size),
      &ngx_http_scim_max_response_size },

    { ngx_string("session_cookie"),
      NGX_CONF_TAKE1,
      ngx_http_scim_saml_cookie_name,
      0,
      0,
      NULL },

    { ngx_string("session_cookie_secure"),
      NGX_CONF_TAKE1,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_scim_directory_t, cookie_secure),
      NULL },

    { ngx_string("idp_initiated"),
      NGX_CONF_TAKE1,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_scim_directory_t, idp_initiated),
      NULL },

    { ngx_string("jit"),
      NGX_CONF_TAKE1,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_scim_directory_t, jit),
      NULL },

    { ngx_string("allow_sha1"),
      NGX_CONF_TAKE1,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_scim_directory_t, allow_sha1),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_scim_module_ctx = {
    ngx_http_scim_add_variables,           /* preconfiguration */
    ngx_http_scim_postconfiguration,       /* postconfiguration */

    ngx_http_scim_create_main_conf,        /* create main configuration */
    ngx_http_scim_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_scim_create_loc_conf,         /* create location configuration */
    ngx_http_scim_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_scim_module = {
    NGX_MODULE_V1,
    &ngx_http_scim_module_ctx,             /* module context */
    ngx_http_scim_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_scim_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_scim_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_core_module_t  ngx_http_scim_store_module_ctx = {
    ngx_string("scim_store"),
    ngx_http_scim_store_create_conf,
    ngx_http_scim_store_init_conf
};


ngx_module_t  ngx_http_scim_store_module = {
    NGX_MODULE_V1,
    &ngx_http_scim_store_module_ctx,       /* module context */
    NULL,                                  /* module directives */
    NGX_CORE_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_scim_vars[] = {

    { ngx_string("scim_generation"), NULL,
      ngx_http_scim_zone_variable, NGX_HTTP_SCIM_ZONE_GENERATION,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_zone_entries"), NULL,
      ngx_http_scim_zone_variable, NGX_HTTP_SCIM_ZONE_ENTRIES,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_zone_evictions"), NULL,
      ngx_http_scim_zone_variable, NGX_HTTP_SCIM_ZONE_EVICTIONS,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_user_id"), NULL,
      ngx_http_scim_session_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_session_expires"), NULL,
      ngx_http_scim_session_variable, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_user"), NULL,
      ngx_http_scim_gateway_variable, NGX_HTTP_SCIM_IDENTITY_USER,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_email"), NULL,
      ngx_http_scim_gateway_variable, NGX_HTTP_SCIM_IDENTITY_EMAIL,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_name"), NULL,
      ngx_http_scim_gateway_variable, NGX_HTTP_SCIM_IDENTITY_NAME,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_groups"), NULL,
      ngx_http_scim_gateway_variable, NGX_HTTP_SCIM_IDENTITY_GROUPS,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("scim_products"), NULL,
      ngx_http_scim_gateway_variable, NGX_HTTP_SCIM_IDENTITY_PRODUCTS,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static void *
ngx_http_scim_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_scim_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->store_path = { 0, NULL };
     *     smcf->store_file = NULL;
     *     smcf->shm_zone = NULL;
     */

    smcf->store_max_size = NGX_CONF_UNSET_SIZE;

    ngx_queue_init(&smcf->saml_pending);

    if (ngx_array_init(&smcf->directories, cf->pool, 4,
                       sizeof(ngx_http_scim_directory_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static char *
ngx_http_scim_init_main_conf(ngx_conf_t *cf, void *conf)
{
    return ngx_http_scim_gateway_init_main(cf, conf);
}


static ngx_int_t
ngx_http_scim_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_scim_api_init_filters(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_scim_gateway_init(cf);
}


static void *
ngx_http_scim_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_scim_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     slcf->api = NULL;
     *     slcf->api_name = { 0, NULL };
     *     slcf->api_base = { 0, NULL };
     *     slcf->api_url = { 0, NULL };
     */

    ngx_http_scim_gateway_loc_init(slcf);

    return slcf;
}


static char *
ngx_http_scim_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_scim_loc_conf_t  *prev = parent;
    ngx_http_scim_loc_conf_t  *conf = child;

    ngx_uint_t                   i;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_scim_directory_t  **dirs;
    ngx_http_scim_main_conf_t   *smcf;

    /*
     * "if" and "limit_except" blocks are locations of their own that keep
     * the enclosing location's content handler: they serve its endpoint,
     * so they carry its settings (the parent is merged, and resolved,
     * first).
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->noname && conf->api_name.len == 0 && conf->saml_endpoint == 0) {
        conf->api = prev->api;
        conf->api_name = prev->api_name;
        conf->api_base = prev->api_base;
        conf->api_url = prev->api_url;
        conf->api_file = prev->api_file;
        conf->api_line = prev->api_line;

        conf->saml = prev->saml;
        conf->saml_name = prev->saml_name;
        conf->saml_endpoint = prev->saml_endpoint;
        conf->saml_location = prev->saml_location;
        conf->saml_exact = prev->saml_exact;
        conf->saml_file = prev->saml_file;
        conf->saml_line = prev->saml_line;
    }

    if (ngx_http_scim_saml_merge(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_scim_gateway_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * "scim_api" names a directory that may be declared further down the
     * http block, so the name is resolved here, after the whole block
     * is parsed. Content handlers are not inherited, neither is this.
     */

    if (conf->api_name.len == 0 || conf->api != NULL) {
        return NGX_CONF_OK;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_scim_module);

    if (smcf->store_path.len == 0) {
        ngx_http_scim_conf_error_at(cf, conf->api_file, conf->api_line,
                          "\"scim_api\" needs a \"scim_store\" in the http block");
        return NGX_CONF_ERROR;
    }

    dirs = smcf->directories.elts;

    for (i = 0; i < smcf->directories.nelts; i++) {
        if (dirs[i]->name.len == conf->api_name.len
            && ngx_strncmp(dirs[i]->name.data, conf->api_name.data,
                           conf->api_name.len)
               == 0)
        {
            conf->api = dirs[i];
            return NGX_CONF_OK;
        }
    }

    ngx_http_scim_conf_error_at(cf, conf->api_file, conf->api_line,
                                "\"scim_api\" names unknown directory \"%V\": "
                                "declare it with \"scim_directory %V { ... }\"",
                                &conf->api_name, &conf->api_name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_scim_store_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_main_conf_t *smcf = conf;

    off_t             size;
    ngx_str_t        *value, s;
    ngx_uint_t        i;
    ngx_file_info_t   fi;

    if (smcf->store_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    smcf->store_path = value[1];

    if (ngx_conf_full_name(cf->cycle, &smcf->store_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {

            s.len = value[i].len - 9;
            s.data = value[i].data + 9;

            /* ngx_parse_offset() also knows "g" */

            size = ngx_parse_offset(&s);

            if (size == NGX_ERROR || (uint64_t) size > NGX_MAX_SIZE_T_VALUE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_size \"%V\", expected a size "
                                   "such as \"1g\"", &s);
                return NGX_CONF_ERROR;
            }

            if ((uint64_t) size < SCIM_STORE_MIN_MAX_SIZE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "max_size \"%V\" is too small, "
                                   "the minimum is 1m", &s);
                return NGX_CONF_ERROR;
            }

            smcf->store_max_size = (size_t) size;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_info(smcf->store_path.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "scim_store directory \"%V\" does not exist; "
                           "create it and give it to the worker user",
                           &smcf->store_path);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "scim_store \"%V\" is not a directory",
                           &smcf->store_path);
        return NGX_CONF_ERROR;
    }

    smcf->store_file = cf->conf_file->file.name.data;
    smcf->store_line = cf->conf_file->line;

    if (smcf->store_max_size == NGX_CONF_UNSET_SIZE) {
        smcf->store_max_size = SCIM_STORE_DEFAULT_MAX_SIZE;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_scim_directory_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_main_conf_t *smcf = conf;

    char                        *rv;
    u_char                       err[NGX_HTTP_SCIM_ERRLEN];
    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ngx_conf_t                   save;
    ngx_pool_cleanup_t          *cln;
    ngx_http_scim_directory_t   *dir, **dirs, **slot;

    value = cf->args->elts;

    dirs = smcf->directories.elts;

    for (i = 0; i < smcf->directories.nelts; i++) {
        if (dirs[i]->name.len == value[1].len
            && ngx_strncmp(dirs[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate scim_directory \"%V\", first "
                               "declared in %s:%ui", &value[1],
                               dirs[i]->file, dirs[i]->line);
            return NGX_CONF_ERROR;
        }
    }

    dir = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_directory_t));
    if (dir == NULL) {
        return NGX_CONF_ERROR;
    }

    dir->name = value[1];
    dir->file = cf->conf_file->file.name.data;
    dir->line = cf->conf_file->line;

    ngx_http_scim_saml_directory_init(dir);

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    if (scim_directory_new((char *) dir->name.data, dir->name.len, &dir->core,
                           (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_scim_directory_cleanup;
    cln->data = dir->core;

    slot = ngx_array_push(&smcf->directories);
    if (slot == NULL) {
        return NGX_CONF_ERROR;
    }

    *slot = dir;

    save = *cf;
    cf->handler = ngx_http_scim_directory_handler;
    cf->handler_conf = (char *) dir;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (dir->token_file.len == 0) {
        ngx_http_scim_conf_error_at(cf, dir->file, dir->line,
                                    "scim_directory \"%V\" has no "
                                    "\"token_file\"", &dir->name);
        return NGX_CONF_ERROR;
    }

    return ngx_http_scim_saml_directory_done(cf, dir);
}


static char *
ngx_http_scim_directory_handler(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    char           *rv;
    ngx_str_t      *value;
    ngx_uint_t      nargs;
    ngx_command_t  *cmd;

    static ngx_uint_t  argument_number[] = {
        NGX_CONF_NOARGS,
        NGX_CONF_TAKE1,
        NGX_CONF_TAKE2,
        NGX_CONF_TAKE3,
        NGX_CONF_TAKE4,
        NGX_CONF_TAKE5,
        NGX_CONF_TAKE6,
        NGX_CONF_TAKE7
    };

    value = cf->args->elts;
    nargs = cf->args->nelts - 1;

    for (cmd = ngx_http_scim_directory_commands; cmd->name.len; cmd++) {

        if (cmd->name.len != value[0].len
            || ngx_strcmp(cmd->name.data, value[0].data) != 0)
        {
            continue;
        }

        if (nargs >= sizeof(argument_number) / sizeof(ngx_uint_t)
            || !(cmd->type & argument_number[nargs]))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of arguments in \"%V\" "
                               "directive", &value[0]);
            return NGX_CONF_ERROR;
        }

        rv = cmd->set(cf, cmd, conf);

        if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
            return rv;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive %s", &value[0], rv);
        return NGX_CONF_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown directive \"%V\" in scim_directory",
                       &value[0]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_scim_token_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_directory_t *dir = conf;

    u_char      err[NGX_HTTP_SCIM_ERRLEN];
    ngx_str_t  *value;

    if (dir->token_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dir->token_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &dir->token_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * The master reads the hashes once; workers inherit them. A changed
     * token file takes effect on reload.
     */

    if (scim_directory_load_tokens(dir->core, (char *) dir->token_file.data,
                                   (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_scim_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_loc_conf_t *slcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->api_name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* the location's prefix is the directory base URL */

#if (NGX_PCRE)
    if (clcf->regex) {
        return "must be in a prefix location such as "
               "\"location /scim/v2/ { ... }\", not a regex location";
    }
#endif

    if (clcf->exact_match || clcf->named || clcf->noname) {
        return "must be in a prefix location such as "
               "\"location /scim/v2/ { ... }\"";
    }

    slcf->api_name = value[1];
    slcf->api_base = clcf->name;
    slcf->api_file = cf->conf_file->file.name.data;
    slcf->api_line = cf->conf_file->line;

    while (slcf->api_base.len && slcf->api_base.data[slcf->api_base.len - 1]
                                 == '/')
    {
        slcf->api_base.len--;
    }

    /*
     * Behind a proxy that terminates TLS, or under another host name, the
     * URLs in Location, meta.location and $ref are the public ones.
     */

    if (cf->args->nelts == 3) {
        if (value[2].len <= 9
            || ngx_strncmp(value[2].data, "base_url=", 9) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": expected "
                               "base_url=URL", &value[2]);
            return NGX_CONF_ERROR;
        }

        slcf->api_url.data = value[2].data + 9;
        slcf->api_url.len = value[2].len - 9;

        while (slcf->api_url.len
               && slcf->api_url.data[slcf->api_url.len - 1] == '/')
        {
            slcf->api_url.len--;
        }

        if (ngx_http_scim_api_url_invalid(&slcf->api_url)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "base_url \"%V\" is not an absolute http:// or "
                               "https:// URL without query, fragment, "
                               "spaces or control characters",
                               &slcf->api_url);
            return NGX_CONF_ERROR;
        }
    }

    clcf->handler = ngx_http_scim_api_handler;

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_scim_api_url_invalid(ngx_str_t *url)
{
    size_t   skip, i;
    u_char   c;

    if (url->len > 7 && ngx_strncasecmp(url->data, (u_char *) "http://", 7)
                        == 0)
    {
        skip = 7;

    } else if (url->len > 8
               && ngx_strncasecmp(url->data, (u_char *) "https://", 8) == 0)
    {
        skip = 8;

    } else {
        return 1;
    }

    if (url->data[skip] == '/') {
        return 1;
    }

    for (i = skip; i < url->len; i++) {
        c = url->data[i];

        if (c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '"'
            || c == '\\')
        {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_scim_directory_cleanup(void *data)
{
    scim_directory_free(data);
}


/*
 * The request's module context. An internal redirect (index, try_files,
 * error_page, a named location) empties every module's context, but by
 * then the gateway may have removed the session cookie from the request:
 * the session and the decision found before are taken over from the
 * previous context, which a cleanup of the request pool keeps findable
 * (as the realip module finds the client's address). The SCIM API's
 * response state starts afresh, as any module's does. Subrequests share
 * the pool, so only the main request's contexts are marked.
 */

ngx_http_scim_ctx_t *
ngx_http_scim_request_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t   *cln;
    ngx_http_scim_ctx_t  *ctx, *prev;

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (ctx != NULL) {
        return ctx;
    }

    if (r != r->main) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_scim_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_scim_module);

        return ctx;
    }

    prev = NULL;

    if (r->internal || r->filter_finalize) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_scim_ctx_cleanup) {
                prev = cln->data;
                break;
            }
        }
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_scim_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_scim_ctx_t));

    if (prev != NULL) {
        ctx->saml = prev->saml;
        ctx->gateway = prev->gateway;
    }

    cln->handler = ngx_http_scim_ctx_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_scim_module);

    return ctx;
}


static void
ngx_http_scim_ctx_cleanup(void *data)
{
    /* nothing to release: the handler marks the context */
}


/*
 * Cookies are read one way everywhere (the session lookup, the login
 * cookie, the stripper that keeps them from the app), the way nginx's
 * ngx_http_parse_multi_header_lines() reads them: ";" or "," between
 * cookies, spaces around, a name compared ignoring case.
 */

u_char *
ngx_http_scim_cookie_next(u_char *p, u_char *last,
    ngx_http_scim_cookie_t *cookie)
{
    u_char  *start, *end, *eq, *name_end;

    while (p < last
           && (*p == ' ' || *p == '\t' || *p == ';' || *p == ','))
    {
        p++;
    }

    if (p == last) {
        return NULL;
    }

    start = p;

    while (p < last && *p != ';' && *p != ',') {
        p++;
    }

    end = p;

    eq = ngx_strlchr(start, end, '=');
    name_end = eq ? eq : end;

    while (name_end > start && (name_end[-1] == ' ' || name_end[-1] == '\t')) {
        name_end--;
    }

    cookie->item.data = start;
    cookie->item.len = end - start;
    cookie->name.data = start;
    cookie->name.len = name_end - start;

    if (eq == NULL) {
        ngx_str_null(&cookie->value);
        return p;
    }

    cookie->value.data = eq + 1;

    while (cookie->value.data < end && *cookie->value.data == ' ') {
        cookie->value.data++;
    }

    while (end > cookie->value.data && end[-1] == ' ') {
        end--;
    }

    cookie->value.len = end - cookie->value.data;

    return p;
}


ngx_uint_t
ngx_http_scim_cookie_is(ngx_str_t *name, ngx_str_t *want)
{
    /* exactly as a browser sends it first: the cheap compare */

    return name->len == want->len
           && (ngx_memcmp(name->data, want->data, want->len) == 0
               || ngx_strncasecmp(name->data, want->data, want->len) == 0);
}


/*
 * The next value of the cookie "name" across the request's Cookie
 * headers, in the order sent: NGX_OK, or NGX_DECLINED when there is none.
 */

ngx_int_t
ngx_http_scim_cookie_value(ngx_http_request_t *r, ngx_str_t *name,
    ngx_http_scim_cookie_iter_t *it, ngx_str_t *value)
{
    u_char                  *last;
    ngx_http_scim_cookie_t   cookie;

    for ( ;; ) {

        if (!it->started) {
            it->started = 1;
#if (nginx_version >= 1023000)
            it->header = r->headers_in.cookie;
#else
            it->index = 0;
            it->header = r->headers_in.cookies.nelts
                         ? ((ngx_table_elt_t **) r->headers_in.cookies.elts)[0]
                         : NULL;
#endif
            it->pos = it->header ? it->header->value.data : NULL;
        }

        if (it->header == NULL) {
            return NGX_DECLINED;
        }

        last = it->header->value.data + it->header->value.len;

        while ((it->pos = ngx_http_scim_cookie_next(it->pos, last, &cookie))
               != NULL)
        {
            if (cookie.value.data && ngx_http_scim_cookie_is(&cookie.name, name))
            {
                *value = cookie.value;
                return NGX_OK;
            }
        }

#if (nginx_version >= 1023000)
        it->header = it->header->next;
#else
        it->header = ++it->index < r->headers_in.cookies.nelts
                     ? ((ngx_table_elt_t **) r->headers_in.cookies.elts)[it->index]
                     : NULL;
#endif
        it->pos = it->header ? it->header->value.data : NULL;
    }
}


/*
 * An "nginx -t" message that points at the directive a check concerns
 * rather than at the place parsing has reached when the check can run.
 */

void
ngx_http_scim_conf_error_at(ngx_conf_t *cf, u_char *file, ngx_uint_t line,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    errstr[NGX_MAX_CONF_ERRSTR];

    va_start(args, fmt);
    p = ngx_vslprintf(errstr, errstr + NGX_MAX_CONF_ERRSTR, fmt, args);
    va_end(args);

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%*s in %s:%ui",
                  p - errstr, errstr, file, line);
}


static ngx_int_t
ngx_http_scim_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_scim_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_init_process(ngx_cycle_t *cycle)
{
    u_char                      err[NGX_HTTP_SCIM_ERRLEN];
    ngx_http_scim_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_scim_module);

    if (smcf == NULL || smcf->store_path.len == 0) {
        return NGX_OK;
    }

    /*
     * LMDB forbids using an environment across fork(), so each worker
     * opens its own. A failure is not fatal to the worker: the SCIM
     * locations answer 503 and say why in the log.
     */

    if (scim_store_open((char *) smcf->store_path.data, smcf->store_max_size,
                        &ngx_http_scim_store, (char *) err, sizeof(err))
        != SCIM_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "scim_store cannot be opened: %s", err);
        ngx_http_scim_store = NULL;
    }

    return NGX_OK;
}


static void
ngx_http_scim_exit_process(ngx_cycle_t *cycle)
{
    scim_store_close(ngx_http_scim_store);
    ngx_http_scim_store = NULL;
}


static void *
ngx_http_scim_store_create_conf(ngx_cycle_t *cycle)
{
    /* the core module has no directives; a non-NULL conf is required */

    return ngx_pcalloc(cycle->pool, sizeof(ngx_uint_t));
}


/*
 * Runs after every core module's init_conf, so "user" has its final value,
 * and before the cycle commits, so a failure here makes "nginx -t" fail
 * and a reload keep the running configuration.
 */

static char *
ngx_http_scim_store_init_conf(ngx_cycle_t *cycle, void *conf)
{
    int                         rc;
    ngx_uint_t                  i;
    ngx_http_scim_directory_t **dirs;
    u_char                      err[NGX_HTTP_SCIM_ERRLEN];
    ngx_uint_t                  worker_user;
    scim_store_t               *store;
    ngx_core_conf_t            *ccf;
    ngx_http_scim_main_conf_t  *smcf;

    if (ngx_process == NGX_PROCESS_SIGNALLER
        || cycle->conf_ctx[ngx_http_module.index] == NULL)
    {
        return NGX_CONF_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_scim_module);

    if (smcf == NULL || smcf->store_path.len == 0) {
        return NGX_CONF_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    worker_user = geteuid() == 0
                  && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT
                  && ccf->user != 0;

    rc = SCIM_OK;

    if (worker_user) {
        rc = scim_store_check_access((char *) smcf->store_path.data,
                                     ccf->user, ccf->group,
                                     (char *) err, sizeof(err));
    }

    /*
     * Opening the store here creates data.mdb and lock.mdb and proves they
     * are a readable LMDB environment of a known format. The handle is
     * closed at once: workers open their own after fork.
     */

    if (rc == SCIM_OK) {
        rc = scim_store_open((char *) smcf->store_path.data,
                             smcf->store_max_size, &store,
                             (char *) err, sizeof(err));
        if (rc == SCIM_OK) {
            /* a product's default group may not be a synced group */

            dirs = smcf->directories.elts;

            for (i = 0; smcf->policy && rc == SCIM_OK
                        && i < smcf->directories.nelts; i++)
            {
                rc = scim_policy_check_store(smcf->policy, store,
                                             dirs[i]->core, (char *) err,
                                             sizeof(err));
                if (rc != SCIM_OK) {
                    scim_store_close(store);
                    ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                                  "scim_product: %s in %s:%ui", err,
                                  smcf->policy_file, smcf->policy_line);
                    return NGX_CONF_ERROR;
                }
            }

            scim_store_close(store);
        }

        /*
         * What the open created as root goes to the workers, even when the
         * open failed (lock.mdb is created before data.mdb is read), so
         * that repairing the store is enough for the next start.
         */

        if (worker_user) {
            (void) scim_store_chown((char *) smcf->store_path.data,
                                    ccf->user, ccf->group, NULL, 0);

            if (rc == SCIM_OK) {
                rc = scim_store_check_access((char *) smcf->store_path.data,
                                             ccf->user, ccf->group,
                                             (char *) err, sizeof(err));
            }
        }
    }

    if (rc != SCIM_OK) {
        if (rc == SCIM_EACCESS) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "scim_store: %s (the worker user \"%s\" must "
                          "own or be able to write it) in %s:%ui",
                          err, ccf->username, smcf->store_file,
                          smcf->store_line);
        } else {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "scim_store: %s in %s:%ui",
                          err, smcf->store_file, smcf->store_line);
        }

        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
