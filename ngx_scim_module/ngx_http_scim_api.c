
/*
 * Copyright (C) ngx_scim_module authors
 *
 * The "scim_api" content handler: translates an HTTP request into a
 * scim_request_t, hands it to the core and writes back what the core
 * answers. Routing, validation and storage are the core's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_scim_module.h"


static void ngx_http_scim_api_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_api_process(ngx_http_request_t *r);
static void ngx_http_scim_api_accept(ngx_http_request_t *r,
    scim_str_t *accept);
static ngx_int_t ngx_http_scim_api_base_url(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_str_t *url);
static ngx_int_t ngx_http_scim_api_send(ngx_http_request_t *r,
    ngx_http_scim_directory_t *dir, scim_response_t *resp);
static void ngx_http_scim_api_response_cleanup(void *data);
static ngx_int_t ngx_http_scim_api_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_scim_api_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static char  ngx_http_scim_unavailable[] =
    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
    "\"status\":\"503\","
    "\"detail\":\"the SCIM store is not available; see the error log\"}";


ngx_int_t
ngx_http_scim_api_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH)) {
        r->request_body_in_single_buf = 1;

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_scim_api_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_scim_api_process(r);
}


static void
ngx_http_scim_api_body_handler(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_scim_api_process(r));
}


static ngx_int_t
ngx_http_scim_api_process(ngx_http_request_t *r)
{
    int                         rc;
    ngx_str_t                   body, base_url;
    scim_request_t              req;
    scim_response_t            *resp, unavailable;
    ngx_pool_cleanup_t         *cln;
    ngx_http_scim_loc_conf_t   *slcf;
    ngx_http_scim_main_conf_t  *smcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);
    smcf = ngx_http_get_module_main_conf(r, ngx_http_scim_module);

    if (ngx_http_scim_store == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim directory \"%V\": 503: the store failed to open "
                      "in this worker (see the alert at its start)",
                      &slcf->api->name);

        ngx_memzero(&unavailable, sizeof(scim_response_t));
        unavailable.status = NGX_HTTP_SERVICE_UNAVAILABLE;
        unavailable.content_type = "application/scim+json";
        unavailable.body = ngx_http_scim_unavailable;
        unavailable.body_len = sizeof(ngx_http_scim_unavailable) - 1;

        return ngx_http_scim_api_send(r, slcf->api, &unavailable);
    }

    ngx_memzero(&req, sizeof(scim_request_t));

    switch (r->method) {
    case NGX_HTTP_GET:
        req.method = SCIM_METHOD_GET;
        break;
    case NGX_HTTP_HEAD:
        req.method = SCIM_METHOD_HEAD;
        break;
    case NGX_HTTP_POST:
        req.method = SCIM_METHOD_POST;
        break;
    case NGX_HTTP_PUT:
        req.method = SCIM_METHOD_PUT;
        break;
    case NGX_HTTP_PATCH:
        req.method = SCIM_METHOD_PATCH;
        break;
    case NGX_HTTP_DELETE:
        req.method = SCIM_METHOD_DELETE;
        break;
    default:
        req.method = SCIM_METHOD_OTHER;
    }

    req.path.data = (char *) r->uri.data;
    req.path.len = r->uri.len;

    if (r->uri.len >= slcf->api_base.len
        && ngx_strncmp(r->uri.data, slcf->api_base.data, slcf->api_base.len)
           == 0)
    {
        req.path.data += slcf->api_base.len;
        req.path.len -= slcf->api_base.len;
    }

    req.query.data = (char *) r->args.data;
    req.query.len = r->args.len;

    if (ngx_http_scim_api_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    req.body.data = (char *) body.data;
    req.body.len = body.len;

    if (r->headers_in.content_type) {
        req.content_type.data = (char *) r->headers_in.content_type->value.data;
        req.content_type.len = r->headers_in.content_type->value.len;
    }

    if (r->headers_in.authorization) {
        req.authorization.data =
                             (char *) r->headers_in.authorization->value.data;
        req.authorization.len = r->headers_in.authorization->value.len;
    }

    if (r->headers_in.if_match) {
        req.if_match.data = (char *) r->headers_in.if_match->value.data;
        req.if_match.len = r->headers_in.if_match->value.len;
    }

    if (r->headers_in.if_none_match) {
        req.if_none_match.data =
                             (char *) r->headers_in.if_none_match->value.data;
        req.if_none_match.len = r->headers_in.if_none_match->value.len;
    }

    ngx_http_scim_api_accept(r, &req.accept);

    if (ngx_http_scim_api_base_url(r, slcf, &base_url) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    req.base_url.data = (char *) base_url.data;
    req.base_url.len = base_url.len;

    /* the response owns malloc()ed buffers until the request ends */

    cln = ngx_pool_cleanup_add(r->pool, sizeof(scim_response_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    resp = cln->data;
    ngx_memzero(resp, sizeof(scim_response_t));
    cln->handler = ngx_http_scim_api_response_cleanup;

    rc = scim_handle(ngx_http_scim_store, slcf->api->core, &req, resp);

    if (rc != SCIM_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "scim directory \"%V\": core failure: %s",
                      &slcf->api->name, scim_strerror(rc));
    }

    if (resp->changed) {
        ngx_http_scim_zone_changed(smcf);
    }

    if (resp->status >= NGX_HTTP_BAD_REQUEST) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "scim directory \"%V\": %s",
                      &slcf->api->name, resp->reason);
    }

    if (resp->status == 0 || (resp->body_len && resp->content_type == NULL)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_scim_api_send(r, slcf->api, resp);
}


ngx_int_t
ngx_http_scim_api_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && !cl->buf->in_file) {
        body->data = cl->buf->pos;
        body->len = cl->buf->last - cl->buf->pos;
        return NGX_OK;
    }

    /* bodies larger than client_body_buffer_size were written to a file */

    len = 0;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            size = b->file_last - b->file_pos;
            n = ngx_read_file(b->file, p, size, b->file_pos);

            if (n != (ssize_t) size) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "scim: cannot read the request body back from "
                              "\"%V\"", &b->file->name);
                return NGX_ERROR;
            }

            p += size;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    return NGX_OK;
}


/*
 * r->headers_in.accept exists only in nginx builds with NGX_HTTP_HEADERS,
 * so the header is looked up in the list.
 */

static void
ngx_http_scim_api_accept(ngx_http_request_t *r, scim_str_t *accept)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Accept") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept",
                               sizeof("Accept") - 1) == 0)
        {
            accept->data = (char *) h[i].value.data;
            accept->len = h[i].value.len;
            return;
        }
    }
}


/*
 * meta.location and Location are absolute URLs: the location's base_url=
 * when it has one, else built from the request's scheme and Host and the
 * location's prefix.
 */

static ngx_int_t
ngx_http_scim_api_base_url(ngx_http_request_t *r,
    ngx_http_scim_loc_conf_t *slcf, ngx_str_t *url)
{
    u_char                    *p;
    ngx_str_t                  scheme, host;
    ngx_http_core_srv_conf_t  *cscf;

    if (slcf->api_url.len) {
        *url = slcf->api_url;
        return NGX_OK;
    }

    ngx_str_set(&scheme, "http://");

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    }
#endif

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    url->len = scheme.len + host.len + slcf->api_base.len;

    url->data = ngx_pnalloc(r->pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, scheme.data, scheme.len);
    p = ngx_cpymem(p, host.data, host.len);
    ngx_memcpy(p, slcf->api_base.data, slcf->api_base.len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_api_send(ngx_http_request_t *r, ngx_http_scim_directory_t *dir,
    scim_response_t *resp)
{
    u_char               *p;
    size_t                len;
    ngx_table_elt_t      *h;
    ngx_http_scim_ctx_t  *ctx;

    ctx = ngx_http_scim_request_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->ours = 1;

    /*
     * The core has already answered If-Match and If-None-Match, and a
     * write has already been committed: nginx's not_modified filter must
     * not answer them again (it would turn a committed PUT into a 412).
     */

    r->disable_not_modified = 1;

    r->headers_out.status = resp->status;

    if (resp->location
        && ngx_http_scim_api_header(r, "Location", (u_char *) resp->location,
                                    ngx_strlen(resp->location), NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (resp->etag
        && ngx_http_scim_api_header(r, "ETag", (u_char *) resp->etag,
                                    ngx_strlen(resp->etag), NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (resp->allow
        && ngx_http_scim_api_header(r, "Allow", (u_char *) resp->allow,
                                    ngx_strlen(resp->allow), NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (resp->headers & SCIM_HEADER_WWW_AUTHENTICATE) {
        len = sizeof("Bearer realm=\"\"") - 1 + dir->name.len;

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(p, "Bearer realm=\"%V\"", &dir->name);

        if (ngx_http_scim_api_header(r, "WWW-Authenticate", p, len, &h)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.www_authenticate = h;
    }

    /* SCIM responses carry personal data: keep them out of caches */

    if (ngx_http_scim_api_header(r, "Cache-Control", (u_char *) "no-store",
                                 sizeof("no-store") - 1, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_scim_send_body(r, resp->content_type, (u_char *) resp->body,
                                   resp->body_len);
}


/*
 * Sends the response whose status and headers are set: a body of a type,
 * or only the header when len is 0. Shared by every content handler.
 */

ngx_int_t
ngx_http_scim_send_body(ngx_http_request_t *r, const char *type, u_char *body,
    size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (len == 0) {
        r->header_only = 1;
        r->headers_out.content_length_n = 0;

        return ngx_http_send_header(r);
    }

    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = len;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_scim_api_header(ngx_http_request_t *r, char *name, u_char *value,
    size_t len, ngx_table_elt_t **out)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    if (out) {
        *out = h;
    }

    return NGX_OK;
}


static void
ngx_http_scim_api_response_cleanup(void *data)
{
    scim_response_free(data);
}


/*
 * Errors nginx answers itself in a SCIM location (a body over
 * client_max_body_size, a malformed request, a failure before the handler
 * ran) become SCIM error bodies too, so an IdP always gets JSON it can read.
 * nginx has logged the reason already.
 */

ngx_int_t
ngx_http_scim_api_init_filters(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_scim_api_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_scim_api_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_scim_api_header_filter(ngx_http_request_t *r)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  detail;
    ngx_buf_t                 *b;
    ngx_http_scim_ctx_t       *ctx;
    ngx_http_scim_loc_conf_t  *slcf;
    ngx_http_core_loc_conf_t  *clcf;
    u_char                     buf[128];

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_scim_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (slcf->api == NULL
        || r != r->main
        || r->headers_out.status < NGX_HTTP_BAD_REQUEST
        || (ctx && ctx->ours))
    {
        return ngx_http_next_header_filter(r);
    }

    if (ctx == NULL) {
        ctx = ngx_http_scim_request_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }
    }

    switch (r->headers_out.status) {

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
        detail.data = buf;
        detail.len = ngx_snprintf(buf, sizeof(buf),
                                  "the request body is larger than "
                                  "client_max_body_size (%O bytes)",
                                  clcf->client_max_body_size)
                     - buf;
        break;

    case NGX_HTTP_BAD_REQUEST:
        ngx_str_set(&detail, "nginx refused the request as malformed");
        break;

    case NGX_HTTP_REQUEST_TIME_OUT:
        ngx_str_set(&detail, "the request was not received in time");
        break;

    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        ngx_str_set(&detail, "the request line is too long");
        break;

    default:
        detail.data = buf;
        detail.len = ngx_snprintf(buf, sizeof(buf),
                                  "nginx answered %ui before the SCIM handler "
                                  "could (see the error log)",
                                  r->headers_out.status)
                     - buf;
    }

    len = sizeof("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
                 "\"status\":\"\",\"detail\":\"\"}") - 1
          + NGX_INT_T_LEN + detail.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(b->pos, "{\"schemas\":[\"urn:ietf:params:scim:api:messages:"
                    "2.0:Error\"],\"status\":\"%ui\",\"detail\":\"%V\"}",
                    r->headers_out.status, &detail);
    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    ctx->error = b;

    ngx_str_set(&r->headers_out.content_type, "application/scim+json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    r->headers_out.content_length_n = b->last - b->pos;

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_scim_api_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t           *cl, out;
    ngx_http_scim_ctx_t   *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_scim_module);

    if (ctx == NULL || ctx->error == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's HTML body is consumed unsent; ours goes once */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->replaced) {
        return NGX_OK;
    }

    ctx->replaced = 1;

    out.buf = ctx->error;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
