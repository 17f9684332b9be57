// scim_handle(): authentication, routing and the exception border of the
// SCIM API. Every route is one row of the table below.
#include <cstdlib>
#include <cstring>
#include <new>

#include "api.hpp"
#include "query.hpp"
#include "resources.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

using CollectionHandler = void (*)(Context&);
using ItemHandler = void (*)(Context&, std::string_view);

template <const ResourceKind& K>
void list(Context& c) {
    resource_list(c, {&K}, parse_list_query(c.query()));
}
template <const ResourceKind& K>
void search(Context& c) {
    resource_list(c, {&K}, parse_search_request(parse_body(c).get()));
}
void search_all(Context& c) {
    resource_list(c, {&kUserKind, &kGroupKind}, parse_search_request(parse_body(c).get()));
}
template <const ResourceKind& K>
void create(Context& c) {
    resource_create(c, K);
}
template <const ResourceKind& K>
void get(Context& c, std::string_view id) {
    resource_get(c, K, id);
}
template <const ResourceKind& K>
void replace(Context& c, std::string_view id) {
    resource_replace(c, K, id);
}
template <const ResourceKind& K>
void patch(Context& c, std::string_view id) {
    resource_patch(c, K, id);
}
template <const ResourceKind& K>
void remove(Context& c, std::string_view id) {
    resource_delete(c, K, id);
}

struct Route {
    const char* endpoint;  // first path segment, matched case-insensitively
    scim_method_t method;
    CollectionHandler on_collection;  // /Endpoint
    ItemHandler on_item;              // /Endpoint/{id}
};

const Route kRoutes[] = {
    {"Users", SCIM_METHOD_GET, list<kUserKind>, get<kUserKind>},
    {"Users", SCIM_METHOD_POST, create<kUserKind>, nullptr},
    {"Users", SCIM_METHOD_PUT, nullptr, replace<kUserKind>},
    {"Users", SCIM_METHOD_PATCH, nullptr, patch<kUserKind>},
    {"Users", SCIM_METHOD_DELETE, nullptr, remove<kUserKind>},
    {"Groups", SCIM_METHOD_GET, list<kGroupKind>, get<kGroupKind>},
    {"Groups", SCIM_METHOD_POST, create<kGroupKind>, nullptr},
    {"Groups", SCIM_METHOD_PUT, nullptr, replace<kGroupKind>},
    {"Groups", SCIM_METHOD_PATCH, nullptr, patch<kGroupKind>},
    {"Groups", SCIM_METHOD_DELETE, nullptr, remove<kGroupKind>},
    {".search", SCIM_METHOD_POST, search_all, nullptr},
    {"Bulk", SCIM_METHOD_POST, bulk, nullptr},
    {"ServiceProviderConfig", SCIM_METHOD_GET, service_provider_config, nullptr},
    {"Schemas", SCIM_METHOD_GET, schemas_list, schemas_get},
    {"ResourceTypes", SCIM_METHOD_GET, resource_types_list, resource_types_get},
};

// POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
const Route kSearchRoutes[] = {
    {"Users", SCIM_METHOD_POST, search<kUserKind>, nullptr},
    {"Groups", SCIM_METHOD_POST, search<kGroupKind>, nullptr},
};

// Endpoints of RFC 7644 that this server does not serve: 501, not 404, so
// a client can tell "not implemented" from "wrong URL".
const char* const kNotImplemented[] = {"Me"};

const char* method_name(scim_method_t m) {
    static const char* const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "?"};
    return names[m <= SCIM_METHOD_OTHER ? m : SCIM_METHOD_OTHER];
}

bool json_content_type(std::string_view ct) {
    size_t semi = ct.find(';');
    std::string_view media = ct.substr(0, semi);
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    return iequals(media, "application/scim+json") || iequals(media, "application/json");
}

// RFC 7644 §3.8: clients may ask for application/json; one that lists
// application/scim+json (or nothing, or */*) gets that.
bool accepts_only_json(std::string_view accept) {
    bool json = false;
    while (!accept.empty()) {
        size_t comma = accept.find(',');
        std::string_view item = accept.substr(0, comma);
        size_t semi = item.find(';');
        std::string_view range = trim(item.substr(0, semi));
        // q=0 is "not acceptable" (RFC 9110 §12.4.2); other weights only order
        bool refused = false;
        for (std::string_view params = semi == std::string_view::npos ? std::string_view()
                                                                       : item.substr(semi + 1);
             !params.empty();) {
            size_t next = params.find(';');
            std::string_view param = trim(params.substr(0, next));
            if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
                refused = param.substr(2).find_first_not_of("0.") == std::string_view::npos;
            params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
        }
        if (!refused && iequals(range, "application/scim+json")) return false;
        if (!refused && iequals(range, "application/json")) json = true;
        accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    }
    return json;
}

// Control characters in a log line could forge further lines.
void sanitize(char* s) {
    for (; *s; s++)
        if (static_cast<unsigned char>(*s) < 0x20 || *s == 0x7f) *s = ' ';
}

}  // namespace

void dispatch(Context& ctx) {
    const scim_request_t& req = ctx.req;
    std::string_view path(req.path.data, req.path.len);
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    size_t slash = path.find('/');
    std::string_view endpoint = path.substr(0, slash);
    std::string_view id = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (id.find('/') != std::string_view::npos)
        fail(404, nullptr, format("no SCIM endpoint at \"/%.*s\"", static_cast<int>(path.size()),
                                  path.data()));

    scim_method_t method = req.method == SCIM_METHOD_HEAD ? SCIM_METHOD_GET : req.method;
    if ((method == SCIM_METHOD_POST || method == SCIM_METHOD_PUT || method == SCIM_METHOD_PATCH) &&
        req.content_type.len > 0 &&
        !json_content_type({req.content_type.data, req.content_type.len}))
        fail(415, nullptr,
             format("Content-Type \"%.*s\" is not supported: send application/scim+json",
                    static_cast<int>(req.content_type.len), req.content_type.data));

    if (id == ".search") {
        for (const Route& r : kSearchRoutes) {
            if (!iequals(endpoint, r.endpoint)) continue;
            if (r.method == method) return r.on_collection(ctx);
            // /Users/.search is an endpoint, not a user named ".search"
            ctx.resp->allow = dup_field("POST");
            fail(405, nullptr,
                 format("%s is not allowed on \"/%.*s\"; allowed: POST",
                        req.method == SCIM_METHOD_OTHER ? "this method" : method_name(req.method),
                        static_cast<int>(path.size()), path.data()));
        }
    }
    bool known = false;
    for (const Route& r : kRoutes) {
        if (!iequals(endpoint, r.endpoint)) continue;
        known = true;
        if (r.method != method) continue;
        if (id.empty() && r.on_collection) return r.on_collection(ctx);
        if (!id.empty() && r.on_item) return r.on_item(ctx, id);
    }
    for (const char* e : kNotImplemented)
        if (iequals(endpoint, e))
            fail(501, nullptr, format("/%s is not implemented by this server", e));
    if (!known)
        fail(404, nullptr, format("no SCIM endpoint at \"/%.*s\"", static_cast<int>(path.size()),
                                  path.data()));
    // 405 says what is allowed (RFC 7231 §6.5.5).
    std::string allow;
    for (const Route& r : kRoutes) {
        bool serves = id.empty() ? r.on_collection != nullptr : r.on_item != nullptr;
        if (!iequals(endpoint, r.endpoint) || !serves) continue;
        if (!allow.empty()) allow += ", ";
        allow += method_name(r.method);
        if (r.method == SCIM_METHOD_GET) allow += ", HEAD";
    }
    ctx.resp->allow = dup_field(allow);
    fail(405, nullptr,
         format("%s is not allowed on \"/%.*s\"; allowed: %s",
                req.method == SCIM_METHOD_OTHER ? "this method" : method_name(req.method),
                static_cast<int>(path.size()), path.data(), allow.c_str()));
}

}  // namespace scim

using namespace scim;

extern "C" int scim_handle(scim_store_t* store, const scim_directory_t* dir,
                           const scim_request_t* req, scim_response_t* resp) noexcept {
    memset(resp, 0, sizeof(*resp));
    int rc = SCIM_OK;
    try {
        try {
            Context ctx{*store, *dir, *req, resp, {req->base_url.data, req->base_url.len}};
            if (!authorized(*dir, {req->authorization.data, req->authorization.len})) {
                resp->headers |= SCIM_HEADER_WWW_AUTHENTICATE;
                fail(401, nullptr,
                     req->authorization.len
                         ? "the bearer token is not valid for this directory"
                         : "a bearer token is required (Authorization: Bearer ...)");
            }
            dispatch(ctx);
        } catch (const ScimError& e) {
            respond_error(resp, e.status, e.scim_type, e.detail);
        } catch (const StoreError& e) {
            int status = e.code == MDB_MAP_FULL ? 507 : 500;
            respond_error(resp, status, nullptr,
                          e.code == MDB_MAP_FULL
                              ? "the store is full: raise max_size of scim_store"
                              : std::string("the store failed: ") + e.what());
        } catch (const std::bad_alloc&) {
            rc = ENOMEM;
            respond_error(resp, 500, nullptr, "out of memory");
        } catch (const std::exception& e) {
            rc = SCIM_EINTERNAL;
            respond_error(resp, 500, nullptr, std::string("internal error: ") + e.what());
        }
        if (resp->content_type && strcmp(resp->content_type, kScimContentType) == 0 &&
            accepts_only_json({req->accept.data, req->accept.len}))
            resp->content_type = kJsonContentType;
    } catch (...) {
        // Building the error response itself failed; the glue sends a bare 500.
        scim_response_free(resp);
        resp->status = 500;
        return ENOMEM;
    }
    sanitize(resp->reason);
    return rc;
}

extern "C" void scim_response_free(scim_response_t* resp) noexcept {
    free(resp->body);
    free(resp->location);
    free(resp->etag);
    free(resp->allow);
    resp->body = resp->location = resp->etag = resp->allow = nullptr;
    resp->body_len = 0;
}
