
/*
 * Copyright (C) ngx_scim_module authors
 *
 * The "scim_zone" shared memory zone, set up the way limit_req and the SSL
 * session cache set up theirs: its data survives "nginx -s reload" as long
 * as the zone keeps its name and size.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static ngx_int_t ngx_http_scim_init_zone(ngx_shm_zone_t *shm_zone, void *data);
static ngx_int_t ngx_http_scim_check_layout(ngx_shm_zone_t *shm_zone,
    ngx_http_scim_zone_ctx_t *ctx);


static ngx_int_t
ngx_http_scim_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_scim_zone_ctx_t  *octx = data;

    size_t                     len;
    ngx_http_scim_zone_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return ngx_http_scim_check_layout(shm_zone, ctx);
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        return ngx_http_scim_check_layout(shm_zone, ctx);
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool, sizeof(ngx_http_scim_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ctx->sh->generation = 0;
    ctx->sh->created = ngx_time();
    ctx->sh->layout = NGX_HTTP_SCIM_ZONE_LAYOUT;
    ctx->sh->fail_time = 0;
    ctx->sh->entries = 0;
    ctx->sh->evictions = 0;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_scim_kv_rbtree_insert_value);

    ngx_queue_init(&ctx->sh->queue);

    len = sizeof(" in scim zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in scim zone \"%V\"%Z",
                &shm_zone->shm.name);

    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * A zone kept across a reload was laid out by the build that created it;
 * a module built with another layout must not read it.
 */

static ngx_int_t
ngx_http_scim_check_layout(ngx_shm_zone_t *shm_zone,
    ngx_http_scim_zone_ctx_t *ctx)
{
    if (ctx->sh->layout != NGX_HTTP_SCIM_ZONE_LAYOUT) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "scim zone \"%V\" was created by another build of the "
                      "module: restart nginx, or rename or resize the zone",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


char *
ngx_http_scim_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_scim_main_conf_t *smcf = conf;

    u_char                    *p;
    ssize_t                    size;
    ngx_str_t                 *value, name, s;
    ngx_http_scim_zone_ctx_t  *ctx;

    if (smcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", expected NAME:SIZE "
                           "such as \"scim:32m\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small, the minimum is %uzk",
                           &value[1], 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_scim_zone_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_scim_module);
    if (smcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (smcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used by another directive",
                           &name);
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone->init = ngx_http_scim_init_zone;
    smcf->shm_zone->data = ctx;

    return NGX_CONF_OK;
}


/*
 * Called after a request committed a store change: counts this zone's
 * writes for $scim_generation (a zone created afresh starts at 0). What is
 * derived from the store (the gateway's decisions) is checked against the
 * store's own directory generation instead, which every nginx sharing the
 * store sees move.
 */

void
ngx_http_scim_zone_changed(ngx_http_scim_main_conf_t *smcf)
{
    ngx_http_scim_zone_ctx_t  *ctx;

    if (smcf->shm_zone == NULL) {
        return;
    }

    ctx = smcf->shm_zone->data;

    (void) ngx_atomic_fetch_add(&ctx->sh->generation, 1);
}


/*
 * $scim_generation, $scim_zone_entries (live entries of the keyed store)
 * and $scim_zone_evictions (entries evicted before their time: the zone is
 * too small when this grows). The counters are words read without the
 * lock: a statistic may be a request old.
 */

ngx_int_t
ngx_http_scim_zone_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                     *p;
    ngx_uint_t                  n;
    ngx_http_scim_zone_ctx_t   *ctx;
    ngx_http_scim_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    if (smcf->shm_zone == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ctx = smcf->shm_zone->data;

    p = ngx_pnalloc(r->pool, NGX_ATOMIC_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    switch (data) {

    case NGX_HTTP_SCIM_ZONE_GENERATION:
        n = ctx->sh->generation;
        break;

    case NGX_HTTP_SCIM_ZONE_ENTRIES:
        n = ctx->sh->entries;
        break;

    default: /* NGX_HTTP_SCIM_ZONE_EVICTIONS */
        n = ctx->sh->evictions;
    }

    v->len = ngx_sprintf(p, "%ui", n) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}
