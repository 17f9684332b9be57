
/*
 * Copyright (C) ngx_scim_module authors
 *
 * A generic keyed store in the "scim_zone" shared memory zone, built the
 * way limit_req and the SSL session cache keep their entries: a slab pool,
 * an rbtree keyed by a hash (ngx_memn2cmp() on collision), an LRU queue
 * with the most recently used entry at its head, and an expiry per entry.
 *
 * Every entry lives in a namespace (sessions, outstanding AuthnRequest
 * IDs, the fast replay check, later per-user access decisions) and holds
 * an opaque value. Values are copied in and out under the zone's mutex;
 * no pointer into the zone ever leaves this file, and no JSON, XML,
 * crypto or LMDB call runs while the mutex is held.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


typedef struct {
    u_char                       color;
    u_char                       ns;
    u_short                      key_len;
    uint32_t                     value_len;
    ngx_queue_t                  queue;
    /* the entry is gone after "expires", never later than "cap" */
    int64_t                      expires;
    int64_t                      cap;
    u_char                       data[1];   /* key, then value */
} ngx_http_scim_kv_node_t;


#define NGX_HTTP_SCIM_KV_MAX_EVICT  16


static ngx_http_scim_kv_node_t *ngx_http_scim_kv_lookup(
    ngx_http_scim_shctx_t *sh, uint32_t hash, ngx_uint_t ns, ngx_str_t *key);
static void ngx_http_scim_kv_free(ngx_http_scim_zone_ctx_t *ctx,
    ngx_http_scim_kv_node_t *kn);
static void ngx_http_scim_kv_expire(ngx_http_scim_zone_ctx_t *ctx,
    int64_t now);
static uint32_t ngx_http_scim_kv_hash(ngx_uint_t ns, ngx_str_t *key);


void
ngx_http_scim_kv_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                 rc;
    ngx_rbtree_node_t       **p;
    ngx_http_scim_kv_node_t  *kn, *knt;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            kn = (ngx_http_scim_kv_node_t *) &node->color;
            knt = (ngx_http_scim_kv_node_t *) &temp->color;

            rc = (ngx_int_t) kn->ns - (ngx_int_t) knt->ns;

            if (rc == 0) {
                rc = ngx_memn2cmp(kn->data, knt->data, kn->key_len,
                                  knt->key_len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


int64_t
ngx_http_scim_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/*
 * Stores a value; an entry with the same key is replaced unless
 * NGX_HTTP_SCIM_KV_ADD is given, when a live one makes the call return
 * NGX_DECLINED. "expires" is when the entry goes, "cap" the latest a
 * refresh by ngx_http_scim_kv_get() may push that (0: same as expires).
 * NGX_ERROR means the zone is full even after evicting from the LRU tail:
 * the caller carries on without the entry.
 */

ngx_int_t
ngx_http_scim_kv_put(ngx_shm_zone_t *shm_zone, ngx_uint_t ns, ngx_str_t *key,
    ngx_str_t *value, int64_t expires, int64_t cap, ngx_uint_t flags)
{
    size_t                     size;
    int64_t                    now;
    uint32_t                   hash;
    ngx_uint_t                 n, report;
    ngx_rbtree_node_t         *node;
    ngx_http_scim_kv_node_t   *kn;
    ngx_http_scim_zone_ctx_t  *ctx;

    if (key->len == 0 || key->len > 0xffff
        || (uint64_t) value->len > 0xffffffff)
    {
        return NGX_ERROR;
    }

    ctx = shm_zone->data;
    hash = ngx_http_scim_kv_hash(ns, key);
    now = ngx_http_scim_now_ms();

    if (cap == 0 || cap < expires) {
        cap = expires;
    }

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_scim_kv_node_t, data)
           + key->len + value->len;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    kn = ngx_http_scim_kv_lookup(ctx->sh, hash, ns, key);

    if (kn) {
        if ((flags & NGX_HTTP_SCIM_KV_ADD) && kn->expires > now) {
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            return NGX_DECLINED;
        }

        /* a value of the same size is overwritten in place */

        if (kn->value_len == value->len) {
            ngx_memcpy(kn->data + kn->key_len, value->data, value->len);
            kn->expires = expires;
            kn->cap = cap;

            ngx_queue_remove(&kn->queue);
            ngx_queue_insert_head(&ctx->sh->queue, &kn->queue);

            ngx_shmtx_unlock(&ctx->shpool->mutex);
            return NGX_OK;
        }

        ngx_http_scim_kv_free(ctx, kn);
    }

    ngx_http_scim_kv_expire(ctx, now);

    node = ngx_slab_alloc_locked(ctx->shpool, size);

    /*
     * The zone is full: evict from the LRU tail and retry, as the SSL
     * session cache does. Entries come in a few slab sizes, so one
     * eviction may free a chunk of another size; a few more are allowed.
     */

    for (n = 0; node == NULL && n < NGX_HTTP_SCIM_KV_MAX_EVICT; n++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            break;
        }

        ngx_http_scim_kv_free(ctx,
                              ngx_queue_data(ngx_queue_last(&ctx->sh->queue),
                                             ngx_http_scim_kv_node_t, queue));
        ctx->sh->evictions++;

        node = ngx_slab_alloc_locked(ctx->shpool, size);
    }

    if (node == NULL) {

        /* "zone full" is logged at most once a second */

        report = (ctx->sh->fail_time != ngx_time());
        ctx->sh->fail_time = ngx_time();

        ngx_shmtx_unlock(&ctx->shpool->mutex);

        if (report) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "could not allocate %uz bytes%s: the zone is full",
                          size, ctx->shpool->log_ctx);
        }

        return NGX_ERROR;
    }

    node->key = hash;

    kn = (ngx_http_scim_kv_node_t *) &node->color;

    kn->ns = (u_char) ns;
    kn->key_len = (u_short) key->len;
    kn->value_len = (uint32_t) value->len;
    kn->expires = expires;
    kn->cap = cap;

    ngx_memcpy(kn->data, key->data, key->len);
    ngx_memcpy(kn->data + key->len, value->data, value->len);

    ngx_rbtree_insert(&ctx->sh->rbtree, node);
    ngx_queue_insert_head(&ctx->sh->queue, &kn->queue);

    ctx->sh->entries++;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


/*
 * Copies a live entry's value into value->data (whose capacity is
 * value->len on entry; its length on return) and moves the entry to the
 * LRU head. With "refresh" > 0 the entry's expiry becomes that, but never
 * later than its cap; *expires gets the expiry in force (may be NULL).
 * NGX_HTTP_SCIM_KV_TAKE deletes the entry after reading: exactly one of
 * several concurrent takers gets it (single use).
 * Returns NGX_OK, NGX_DECLINED (absent or expired), or NGX_ERROR (the
 * buffer is too small; nothing is copied).
 */

ngx_int_t
ngx_http_scim_kv_get(ngx_shm_zone_t *shm_zone, ngx_uint_t ns, ngx_str_t *key,
    ngx_str_t *value, int64_t refresh, int64_t *expires, ngx_uint_t flags)
{
    int64_t                    now;
    ngx_http_scim_kv_node_t   *kn;
    ngx_http_scim_zone_ctx_t  *ctx;

    ctx = shm_zone->data;
    now = ngx_http_scim_now_ms();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    kn = ngx_http_scim_kv_lookup(ctx->sh, ngx_http_scim_kv_hash(ns, key), ns,
                                 key);

    if (kn == NULL || kn->expires <= now) {
        if (kn) {
            ngx_http_scim_kv_free(ctx, kn);
        }

        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    if (kn->value_len > value->len) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_ERROR;
    }

    value->len = kn->value_len;
    ngx_memcpy(value->data, kn->data + kn->key_len, kn->value_len);

    if (refresh > 0) {
        kn->expires = ngx_min(refresh, kn->cap);
    }

    if (expires) {
        *expires = kn->expires;
    }

    if (flags & NGX_HTTP_SCIM_KV_TAKE) {
        ngx_http_scim_kv_free(ctx, kn);

    } else {
        ngx_queue_remove(&kn->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &kn->queue);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_scim_kv_delete(ngx_shm_zone_t *shm_zone, ngx_uint_t ns,
    ngx_str_t *key)
{
    ngx_http_scim_kv_node_t   *kn;
    ngx_http_scim_zone_ctx_t  *ctx;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    kn = ngx_http_scim_kv_lookup(ctx->sh, ngx_http_scim_kv_hash(ns, key), ns,
                                 key);
    if (kn) {
        ngx_http_scim_kv_free(ctx, kn);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return kn ? NGX_OK : NGX_DECLINED;
}


static ngx_http_scim_kv_node_t *
ngx_http_scim_kv_lookup(ngx_http_scim_shctx_t *sh, uint32_t hash,
    ngx_uint_t ns, ngx_str_t *key)
{
    ngx_int_t                 rc;
    ngx_rbtree_node_t        *node, *sentinel;
    ngx_http_scim_kv_node_t  *kn;

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        kn = (ngx_http_scim_kv_node_t *) &node->color;

        rc = (ngx_int_t) ns - (ngx_int_t) kn->ns;

        if (rc == 0) {
            rc = ngx_memn2cmp(key->data, kn->data, key->len, kn->key_len);
        }

        if (rc == 0) {
            return kn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_scim_kv_free(ngx_http_scim_zone_ctx_t *ctx,
    ngx_http_scim_kv_node_t *kn)
{
    ngx_rbtree_node_t  *node;

    ngx_queue_remove(&kn->queue);

    node = (ngx_rbtree_node_t *)
               ((u_char *) kn - offsetof(ngx_rbtree_node_t, color));

    ngx_rbtree_delete(&ctx->sh->rbtree, node);

    ngx_slab_free_locked(ctx->shpool, node);

    ctx->sh->entries--;
}


/*
 * Frees up to three expired entries from the LRU tail. Entries are bumped
 * when read, so the tail holds the least used ones; an expired entry
 * behind a live one waits until it is read or evicted.
 */

static void
ngx_http_scim_kv_expire(ngx_http_scim_zone_ctx_t *ctx, int64_t now)
{
    ngx_uint_t                n;
    ngx_queue_t              *q;
    ngx_http_scim_kv_node_t  *kn;

    for (n = 0; n < 3; n++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&ctx->sh->queue);
        kn = ngx_queue_data(q, ngx_http_scim_kv_node_t, queue);

        if (kn->expires > now) {
            return;
        }

        ngx_http_scim_kv_free(ctx, kn);
    }
}


/*
 * Two lookups on every request to a protected location hash their keys
 * (about 40 bytes each): MurmurHash2 takes four bytes a step where crc32
 * takes one. The namespace only needs to move the hash; a lookup compares
 * it with the key.
 */

static uint32_t
ngx_http_scim_kv_hash(ngx_uint_t ns, ngx_str_t *key)
{
    return ngx_murmur_hash2(key->data, key->len) ^ (uint32_t) ns;
}
