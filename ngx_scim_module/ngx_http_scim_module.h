
/*
 * Copyright (C) ngx_scim_module authors
 *
 * Shared declarations of the glue: configuration, the shm zone and the
 * per-process store handle. Business logic lives in the core (include/scim.h).
 */


#ifndef _NGX_HTTP_SCIM_MODULE_H_INCLUDED_
#define _NGX_HTTP_SCIM_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <scim.h>
#include <scim_saml.h>


/* bumped whenever ngx_http_scim_shctx_t changes: a zone kept across a
 * reload by a build with another layout is refused */
#define NGX_HTTP_SCIM_ZONE_LAYOUT    2


typedef struct {
    /* committed SCIM writes since the zone was created, all workers */
    ngx_atomic_t                 generation;
    time_t                       created;

    /* the keyed store (ngx_http_scim_kv.c) */
    ngx_uint_t                   layout;
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;        /* LRU, most recent first */
    time_t                       fail_time;    /* last "zone full" log */
    ngx_uint_t                   entries;
    ngx_uint_t                   evictions;
} ngx_http_scim_shctx_t;


/* the counters of ngx_http_scim_zone_variable() */
#define NGX_HTTP_SCIM_ZONE_GENERATION  0
#define NGX_HTTP_SCIM_ZONE_ENTRIES     1
#define NGX_HTTP_SCIM_ZONE_EVICTIONS   2


/* namespaces of the keyed store; issue 5 adds access decisions */
#define NGX_HTTP_SCIM_KV_SESSION     1
#define NGX_HTTP_SCIM_KV_REQUEST     2
#define NGX_HTTP_SCIM_KV_REPLAY      3
#define NGX_HTTP_SCIM_KV_DECISION    4

/* put: keep a live entry and return NGX_DECLINED */
#define NGX_HTTP_SCIM_KV_ADD         0x01
/* get: delete the entry after reading it (single use) */
#define NGX_HTTP_SCIM_KV_TAKE        0x02


/* the SAML location kinds (ngx_http_scim_saml.c) */
#define NGX_HTTP_SCIM_SAML_ACS       1
#define NGX_HTTP_SCIM_SAML_LOGIN     2
#define NGX_HTTP_SCIM_SAML_METADATA  3
#define NGX_HTTP_SCIM_SAML_LOGOUT    4

/* what ngx_http_scim_saml_file() loads */
#define NGX_HTTP_SCIM_SAML_IDP_METADATA  0
#define NGX_HTTP_SCIM_SAML_IDP_CERT      1
#define NGX_HTTP_SCIM_SAML_SP_KEY        2
#define NGX_HTTP_SCIM_SAML_SP_CERT       3


typedef struct {
    ngx_http_scim_shctx_t       *sh;
    ngx_slab_pool_t             *shpool;
} ngx_http_scim_zone_ctx_t;


/* scim_require */
#define NGX_HTTP_SCIM_REQUIRE_OFF      0
#define NGX_HTTP_SCIM_REQUIRE_ANY      1
#define NGX_HTTP_SCIM_REQUIRE_PRODUCT  2

/* what scim_require answers a request without a session */
#define NGX_HTTP_SCIM_UNAUTH_AUTO      0
#define NGX_HTTP_SCIM_UNAUTH_REDIRECT  1
#define NGX_HTTP_SCIM_UNAUTH_401       2

/* the identity headers, in the order of ngx_http_scim_identity_suffixes */
#define NGX_HTTP_SCIM_IDENTITY_USER      0
#define NGX_HTTP_SCIM_IDENTITY_EMAIL     1
#define NGX_HTTP_SCIM_IDENTITY_NAME      2
#define NGX_HTTP_SCIM_IDENTITY_USER_ID   3
#define NGX_HTTP_SCIM_IDENTITY_GROUPS    4
#define NGX_HTTP_SCIM_IDENTITY_PRODUCTS  5
#define NGX_HTTP_SCIM_IDENTITY_OVERFLOW  6
#define NGX_HTTP_SCIM_IDENTITY_N         7

/*
 * scim_identity_headers_max_size: below 64 bytes hardly one group name
 * fits; far below 1m, upstreams refuse the header line already
 */
#define NGX_HTTP_SCIM_IDENTITY_MIN_SIZE  64
#define NGX_HTTP_SCIM_IDENTITY_MAX_SIZE  1048576


typedef struct {
    ngx_str_t                    name;
    scim_directory_t            *core;
    ngx_str_t                    token_file;
    u_char                      *file;
    ngx_uint_t                   line;

    /* the SAML Service Provider; NULL while no IdP setting is given */
    scim_saml_sp_t              *saml;
    u_char                      *saml_file;
    ngx_uint_t                   saml_line;
    ngx_str_t                    acs_path;      /* the path of sp_acs_url */
    time_t                       clock_skew;
    time_t                       session_idle;
    time_t                       session_lifetime;
    size_t                       max_response_size;
    ngx_flag_t                   idp_initiated;
    ngx_flag_t                   jit;
    ngx_flag_t                   allow_sha1;
    ngx_str_t                    cookie_name;
    ngx_str_t                    request_cookie; /* cookie_name + "_req" */
    ngx_flag_t                   cookie_secure;
} ngx_http_scim_directory_t;


typedef struct {
    ngx_str_t                    store_path;
    size_t                       store_max_size;
    u_char                      *store_file;
    ngx_uint_t                   store_line;
    ngx_shm_zone_t              *shm_zone;
    ngx_array_t                  directories;   /* ngx_http_scim_directory_t * */

    /* products and the groups that grant them (gateway.c) */
    scim_policy_t               *policy;
    /* new at each configuration load: decisions cached by another
     * configuration (other products, other groups) are not used */
    uint64_t                     policy_epoch;
    u_char                      *policy_file;   /* the first scim_product */
    ngx_uint_t                   policy_line;
    /* this worker's logins waiting for the group commit (saml.c) */
    ngx_queue_t                  saml_pending;
    ngx_uint_t                   saml_npending;
    ngx_event_t                  saml_commit;
} ngx_http_scim_main_conf_t;


typedef struct {
    ngx_http_scim_directory_t   *api;
    ngx_str_t                    api_name;
    ngx_str_t                    api_base;      /* location prefix, no "/" at end */
    ngx_str_t                    api_url;       /* base_url=, no "/" at end */
    u_char                      *api_file;
    ngx_uint_t                   api_line;

    ngx_http_scim_directory_t   *saml;
    ngx_str_t                    saml_name;
    ngx_uint_t                   saml_endpoint;
    ngx_str_t                    saml_location;  /* prefix or exact name */
    ngx_uint_t                   saml_exact;
    u_char                      *saml_file;
    ngx_uint_t                   saml_line;

    /* the gateway (ngx_http_scim_gateway.c) */
    ngx_int_t                    require;       /* NGX_HTTP_SCIM_REQUIRE_* */
    ngx_int_t                    require_product;
    ngx_str_t                    require_name;
    ngx_uint_t                   unauthenticated;
    u_char                      *require_file;
    ngx_uint_t                   require_line;
    ngx_str_t                    login_url;
    ngx_flag_t                   identity;      /* identity headers on */
    ngx_str_t                    identity_prefix;
    /* scim_identity_header, then the names in force (merge) */
    ngx_str_t                    identity_explicit[NGX_HTTP_SCIM_IDENTITY_N];
    ngx_str_t                    identity_names[NGX_HTTP_SCIM_IDENTITY_N];
    /* their lowercase forms and hashes, as r->headers_in entries need */
    u_char                      *identity_lowcase[NGX_HTTP_SCIM_IDENTITY_N];
    ngx_uint_t                   identity_hash[NGX_HTTP_SCIM_IDENTITY_N];
    size_t                       identity_max_size;
} ngx_http_scim_loc_conf_t;


/* the request's SAML session, looked up once (ngx_http_scim_saml.c) */
typedef struct ngx_http_scim_saml_ctx_s  ngx_http_scim_saml_ctx_t;

/* the request's access decision, looked up once (ngx_http_scim_gateway.c) */
typedef struct ngx_http_scim_gateway_ctx_s  ngx_http_scim_gateway_ctx_t;


/* per request: whether the response is ours, or nginx's to be rewritten */
typedef struct {
    unsigned                     ours:1;
    unsigned                     replaced:1;
    ngx_buf_t                   *error;
    ngx_http_scim_saml_ctx_t    *saml;
    ngx_http_scim_gateway_ctx_t *gateway;
} ngx_http_scim_ctx_t;


char *ngx_http_scim_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_scim_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_scim_api_init_filters(ngx_conf_t *cf);
ngx_int_t ngx_http_scim_api_body(ngx_http_request_t *r, ngx_str_t *body);
ngx_int_t ngx_http_scim_api_header(ngx_http_request_t *r, char *name,
    u_char *value, size_t len, ngx_table_elt_t **out);
ngx_int_t ngx_http_scim_send_body(ngx_http_request_t *r, const char *type,
    u_char *body, size_t len);
ngx_http_scim_ctx_t *ngx_http_scim_request_ctx(ngx_http_request_t *r);

/* One cookie of a Cookie header: the item as sent, its name and value. */
typedef struct {
    ngx_str_t                    item;
    ngx_str_t                    name;
    ngx_str_t                    value;    /* data is NULL without "=" */
} ngx_http_scim_cookie_t;

/* Where ngx_http_scim_cookie_value() goes on; zeroed before the first call. */
typedef struct {
    ngx_table_elt_t             *header;
    ngx_uint_t                   index;
    u_char                      *pos;
    ngx_uint_t                   started;
} ngx_http_scim_cookie_iter_t;

u_char *ngx_http_scim_cookie_next(u_char *p, u_char *last,
    ngx_http_scim_cookie_t *cookie);
ngx_uint_t ngx_http_scim_cookie_is(ngx_str_t *name, ngx_str_t *want);
ngx_int_t ngx_http_scim_cookie_value(ngx_http_request_t *r, ngx_str_t *name,
    ngx_http_scim_cookie_iter_t *it, ngx_str_t *value);
void ngx_http_scim_zone_changed(ngx_http_scim_main_conf_t *smcf);
ngx_int_t ngx_http_scim_zone_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
void ngx_http_scim_conf_error_at(ngx_conf_t *cf, u_char *file,
    ngx_uint_t line, const char *fmt, ...);

void ngx_http_scim_kv_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
ngx_int_t ngx_http_scim_kv_put(ngx_shm_zone_t *shm_zone, ngx_uint_t ns,
    ngx_str_t *key, ngx_str_t *value, int64_t expires, int64_t cap,
    ngx_uint_t flags);
ngx_int_t ngx_http_scim_kv_get(ngx_shm_zone_t *shm_zone, ngx_uint_t ns,
    ngx_str_t *key, ngx_str_t *value, int64_t refresh, int64_t *expires,
    ngx_uint_t flags);
ngx_int_t ngx_http_scim_kv_delete(ngx_shm_zone_t *shm_zone, ngx_uint_t ns,
    ngx_str_t *key);
int64_t ngx_http_scim_now_ms(void);

char *ngx_http_scim_saml_option(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_saml_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_saml_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_saml_cookie_name(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_saml_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_scim_saml_directory_init(ngx_http_scim_directory_t *dir);
char *ngx_http_scim_saml_directory_done(ngx_conf_t *cf,
    ngx_http_scim_directory_t *dir);
char *ngx_http_scim_saml_merge(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *conf);
ngx_int_t ngx_http_scim_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_int_t ngx_http_scim_saml_request_session(ngx_http_request_t *r,
    ngx_http_scim_directory_t **dir, ngx_str_t *user_id, int64_t *expires);


char *ngx_http_scim_product(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_scim_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_scim_identity_headers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_identity_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_scim_login_url_check(ngx_conf_t *cf, void *post, void *data);
char *ngx_http_scim_identity_max_size_check(ngx_conf_t *cf, void *post,
    void *data);
void ngx_http_scim_gateway_loc_init(ngx_http_scim_loc_conf_t *conf);
char *ngx_http_scim_gateway_merge(ngx_conf_t *cf,
    ngx_http_scim_loc_conf_t *prev, ngx_http_scim_loc_conf_t *conf);
char *ngx_http_scim_gateway_init_main(ngx_conf_t *cf,
    ngx_http_scim_main_conf_t *smcf);
ngx_int_t ngx_http_scim_gateway_init(ngx_conf_t *cf);
ngx_int_t ngx_http_scim_gateway_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

extern ngx_module_t        ngx_http_scim_module;

/* this process's store: opened in init_process, after fork */
extern scim_store_t       *ngx_http_scim_store;


#endif /* _NGX_HTTP_SCIM_MODULE_H_INCLUDED_ */
