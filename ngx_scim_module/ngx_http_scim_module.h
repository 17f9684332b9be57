
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


typedef struct {
    /* committed SCIM writes since the zone was created, all workers */
    ngx_atomic_t                 generation;
    time_t                       created;
} ngx_http_scim_shctx_t;


typedef struct {
    ngx_http_scim_shctx_t       *sh;
    ngx_slab_pool_t             *shpool;
} ngx_http_scim_zone_ctx_t;


typedef struct {
    ngx_str_t                    name;
    scim_directory_t            *core;
    ngx_str_t                    token_file;
    u_char                      *file;
    ngx_uint_t                   line;
} ngx_http_scim_directory_t;


typedef struct {
    ngx_str_t                    store_path;
    size_t                       store_max_size;
    u_char                      *store_file;
    ngx_uint_t                   store_line;
    ngx_shm_zone_t              *shm_zone;
    ngx_array_t                  directories;   /* ngx_http_scim_directory_t * */
} ngx_http_scim_main_conf_t;


typedef struct {
    ngx_http_scim_directory_t   *api;
    ngx_str_t                    api_name;
    ngx_str_t                    api_base;      /* location prefix, no "/" at end */
    u_char                      *api_file;
    ngx_uint_t                   api_line;
} ngx_http_scim_loc_conf_t;


/* per request: whether the response is ours, or nginx's to be rewritten */
typedef struct {
    unsigned                     ours:1;
    unsigned                     replaced:1;
    ngx_buf_t                   *error;
} ngx_http_scim_ctx_t;


char *ngx_http_scim_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_scim_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_scim_api_init_filters(ngx_conf_t *cf);
void ngx_http_scim_zone_changed(ngx_http_scim_main_conf_t *smcf);
ngx_int_t ngx_http_scim_generation_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


extern ngx_module_t        ngx_http_scim_module;

/* this process's store: opened in init_process, after fork */
extern scim_store_t       *ngx_http_scim_store;


#endif /* _NGX_HTTP_SCIM_MODULE_H_INCLUDED_ */
