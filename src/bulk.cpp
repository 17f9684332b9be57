// /Bulk (RFC 7644 §3.7): each operation goes through the same dispatch as a
// request of its own and commits on its own; "bulkId:" references are
// resolved to the ids earlier operations created, in whatever order the
// references allow.
#include <lmdb.h>

#include <map>
#include <optional>
#include <vector>

#include "api.hpp"
#include "schema.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

const char kBulkRequestUrn[] = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const char kBulkResponseUrn[] = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
constexpr std::string_view kRef = "bulkId:";

struct Operation {
    scim_method_t method = SCIM_METHOD_OTHER;
    std::string method_text;
    std::string path;
    std::string bulk_id;
    std::string version;
    Json data;
    Json result;  // the BulkResponse entry, once decided
    std::string syntax_error;
};

// Every "bulkId:X" an operation refers to, in its path or its data.
void references(const json_t* v, std::vector<std::string>* out) {
    if (json_is_string(v)) {
        std::string_view s = str_view(v);
        if (s.substr(0, kRef.size()) == kRef) out->emplace_back(s.substr(kRef.size()));
    } else if (json_is_array(v)) {
        size_t i;
        json_t* e;
        json_array_foreach(v, i, e) references(e, out);
    } else if (json_is_object(v)) {
        const char* k;
        json_t* e;
        json_object_foreach(const_cast<json_t*>(v), k, e) references(e, out);
    }
}

// The id a "bulkId:X" string stands for, as a new JSON string, or nullptr.
json_t* resolved(const json_t* v, const std::map<std::string, std::string>& ids) {
    if (!json_is_string(v)) return nullptr;
    std::string_view s = str_view(v);
    if (s.substr(0, kRef.size()) != kRef) return nullptr;
    auto it = ids.find(std::string(s.substr(kRef.size())));
    return it == ids.end() ? nullptr : json_string(it->second.c_str());
}

void resolve(json_t* v, const std::map<std::string, std::string>& ids) {
    size_t i;
    const char* k;
    json_t* e;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (json_t* r = resolved(e, ids))
                json_array_set_new(v, i, r);
            else
                resolve(e, ids);
        }
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, e) {
            if (json_t* r = resolved(e, ids))
                json_object_set_new(v, k, r);
            else
                resolve(e, ids);
        }
    }
}

std::string resolve_path(std::string path, const std::map<std::string, std::string>& ids) {
    size_t at = path.find(kRef);
    if (at == std::string::npos) return path;
    auto it = ids.find(path.substr(at + kRef.size()));
    return it == ids.end() ? path : path.substr(0, at) + it->second;
}

Json entry(const Operation& op) {
    Json e = take(json_object());
    json_object_set_new(e.get(), "method", json_string(op.method_text.c_str()));
    if (!op.bulk_id.empty()) json_object_set_new(e.get(), "bulkId", json_string(op.bulk_id.c_str()));
    return e;
}

Json error_entry(const Operation& op, int status, const char* scim_type, const std::string& detail) {
    Json e = entry(op);
    json_object_set_new(e.get(), "status", json_string(std::to_string(status).c_str()));
    json_t* r = json_object();
    json_t* schemas = json_array();
    json_array_append_new(schemas, json_string(kErrorUrn));
    json_object_set_new(r, "schemas", schemas);
    json_object_set_new(r, "status", json_string(std::to_string(status).c_str()));
    if (scim_type) json_object_set_new(r, "scimType", json_string(scim_type));
    json_object_set_new(r, "detail", json_string(detail.c_str()));
    json_object_set_new(e.get(), "response", r);
    return e;
}

// The endpoint a path names, as dispatch() reads it ("//Bulk/" is "Bulk").
std::string_view first_segment(std::string_view path) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return path.substr(0, path.find('/'));
}

Operation parse_operation(const json_t* o, size_t n) {
    Operation op;
    const json_t* m = object_get_ci(o, "method");
    const json_t* p = object_get_ci(o, "path");
    const json_t* b = object_get_ci(o, "bulkId");
    const json_t* v = object_get_ci(o, "version");
    op.method_text = json_is_string(m) ? std::string(str_view(m)) : std::string();
    if (json_is_string(b)) op.bulk_id = std::string(str_view(b));
    if (json_is_string(v)) op.version = std::string(str_view(v));
    if (json_is_string(p)) op.path = std::string(str_view(p));
    if (const json_t* d = object_get_ci(o, "data")) op.data = borrow(const_cast<json_t*>(d));
    static const struct {
        const char* name;
        scim_method_t method;
    } methods[] = {{"POST", SCIM_METHOD_POST}, {"PUT", SCIM_METHOD_PUT},
                   {"PATCH", SCIM_METHOD_PATCH}, {"DELETE", SCIM_METHOD_DELETE}};
    for (const auto& x : methods)
        if (iequals(op.method_text, x.name)) op.method = x.method;
    if (!json_is_object(o))
        op.syntax_error = format("operation %zu is not an object", n);
    else if (op.method == SCIM_METHOD_OTHER)
        op.syntax_error = format("operation %zu: \"method\" must be POST, PUT, PATCH or DELETE", n);
    else if (op.path.empty() || op.path[0] != '/')
        op.syntax_error = format("operation %zu: \"path\" must be a path such as \"/Users\"", n);
    else if (op.method == SCIM_METHOD_POST && op.bulk_id.empty())
        op.syntax_error = format("operation %zu: a POST needs a \"bulkId\"", n);
    else if (op.method != SCIM_METHOD_DELETE && !json_is_object(op.data.get()))
        op.syntax_error = format("operation %zu: \"data\" must be an object", n);
    else if (iequals(first_segment(op.path), "Bulk"))
        op.syntax_error = format("operation %zu: a bulk request cannot contain another", n);
    if (!op.syntax_error.empty()) op.method_text = op.method_text.empty() ? "?" : op.method_text;
    return op;
}

}  // namespace

void bulk(Context& ctx) {
    if (ctx.req.body.len > kBulkMaxPayloadSize)
        fail(413, nullptr, format("the bulk request has %zu bytes; maxPayloadSize is %zu",
                                  ctx.req.body.len, kBulkMaxPayloadSize));
    Json body = parse_body(ctx);
    if (!json_is_object(body.get())) fail(400, "invalidSyntax", "the request body must be a JSON object");
    if (const json_t* schemas = object_get_ci(body.get(), "schemas")) {
        bool ok = false;
        size_t i;
        json_t* s;
        json_array_foreach(schemas, i, s) ok = ok || (json_is_string(s) && iequals(str_view(s), kBulkRequestUrn));
        if (!ok) fail(400, "invalidSyntax", format("\"schemas\" must list \"%s\"", kBulkRequestUrn));
    }
    const json_t* list = object_get_ci(body.get(), "Operations");
    if (!json_is_array(list)) fail(400, "invalidSyntax", "\"Operations\" must be an array");
    if (json_array_size(list) > kBulkMaxOperations)
        fail(413, nullptr, format("the bulk request has %zu operations; maxOperations is %zu",
                                  json_array_size(list), kBulkMaxOperations));
    long fail_on_errors = 0;
    if (const json_t* f = object_get_ci(body.get(), "failOnErrors")) {
        if (!json_is_integer(f) || json_integer_value(f) < 0)
            fail(400, "invalidValue", "\"failOnErrors\" must be a non-negative integer");
        fail_on_errors = static_cast<long>(json_integer_value(f));
    }

    std::vector<Operation> ops;
    std::map<std::string, size_t> defined;  // bulkId -> operation index
    size_t i;
    json_t* o;
    json_array_foreach(list, i, o) {
        ops.push_back(parse_operation(o, i + 1));
        if (!ops.back().bulk_id.empty()) {
            if (defined.count(ops.back().bulk_id) && ops.back().syntax_error.empty())
                ops.back().syntax_error = format("operation %zu: bulkId \"%s\" is used twice", i + 1,
                                                 ops.back().bulk_id.c_str());
            else
                defined.emplace(ops.back().bulk_id, i);
        }
    }

    std::map<std::string, std::string> created;  // bulkId -> id
    long errors = 0;
    bool stopped = false;
    auto record_error = [&](Operation& op, int status, const char* type, const std::string& detail) {
        op.result = error_entry(op, status, type, detail);
        errors++;
        if (fail_on_errors > 0 && errors >= fail_on_errors) stopped = true;
    };

    // Passes over the operations in order until none can make progress: an
    // operation waits while a bulkId it refers to is not created yet.
    for (bool progress = true; progress && !stopped;) {
        progress = false;
        for (Operation& op : ops) {
            if (stopped) break;
            if (op.result) continue;
            if (!op.syntax_error.empty()) {
                record_error(op, 400, "invalidSyntax", op.syntax_error);
                progress = true;
                continue;
            }
            std::vector<std::string> refs;
            Json path_ref = take(json_string(op.path.substr(op.path.rfind('/') + 1).c_str()));
            references(path_ref.get(), &refs);
            references(op.data.get(), &refs);
            bool waiting = false;
            std::string broken;
            for (const std::string& r : refs) {
                if (created.count(r)) continue;
                auto d = defined.find(r);
                if (d == defined.end()) {
                    broken = format("bulkId \"%s\" is not defined by any operation", r.c_str());
                } else if (ops[d->second].result) {
                    broken = format("bulkId \"%s\" refers to an operation that failed", r.c_str());
                } else {
                    waiting = true;
                }
            }
            if (!broken.empty()) {
                record_error(op, 409, "invalidValue", broken);
                progress = true;
                continue;
            }
            if (waiting) continue;

            std::string path = resolve_path(op.path, created);
            std::string data;
            if (op.data) {
                resolve(op.data.get(), created);
                data = dump(op.data.get());
            }
            scim_request_t sub{};
            sub.method = op.method;
            sub.path = {path.data(), path.size()};
            sub.body = {data.data(), data.size()};
            sub.content_type = {kScimContentType, sizeof(kScimContentType) - 1};
            sub.if_match = {op.version.data(), op.version.size()};
            sub.base_url = ctx.req.base_url;
            scim_response_t out{};
            try {
                Context sub_ctx{ctx.store, ctx.dir, sub, &out, ctx.base_url};
                // Every operation gets its own result, a store failure
                // included: operations before it have committed, and the
                // client must learn which.
                try {
                    dispatch(sub_ctx);
                } catch (const ScimError& e) {
                    respond_error(&out, e.status, e.scim_type, e.detail);
                } catch (const StoreError& e) {
                    respond_error(&out, e.code == MDB_MAP_FULL ? 507 : 500, nullptr,
                                  e.code == MDB_MAP_FULL
                                      ? "the store is full: raise max_size of scim_store"
                                      : std::string("the store failed: ") + e.what());
                }
            } catch (...) {
                scim_response_free(&out);
                throw;
            }
            ctx.resp->changed |= out.changed;
            progress = true;
            // RFC 7644 §3.7: every result has a location but a failed POST's.
            std::string location = out.location ? std::string(out.location)
                                                 : std::string(ctx.base_url) + path;
            if (out.status >= 400) {
                Json err = take(json_loadb(out.body, out.body_len, 0, nullptr));
                op.result = entry(op);
                if (op.method != SCIM_METHOD_POST)
                    json_object_set_new(op.result.get(), "location", json_string(location.c_str()));
                json_object_set_new(op.result.get(), "status",
                                    json_string(std::to_string(out.status).c_str()));
                if (err) json_object_set(op.result.get(), "response", err.get());
                errors++;
                if (fail_on_errors > 0 && errors >= fail_on_errors) stopped = true;
            } else {
                op.result = entry(op);
                json_object_set_new(op.result.get(), "location", json_string(location.c_str()));
                if (out.etag) json_object_set_new(op.result.get(), "version", json_string(out.etag));
                json_object_set_new(op.result.get(), "status",
                                    json_string(std::to_string(out.status).c_str()));
                if (op.method == SCIM_METHOD_POST)
                    created[op.bulk_id] = location.substr(location.rfind('/') + 1);
            }
            scim_response_free(&out);
        }
    }
    // Whatever still waits refers, through others, to itself.
    for (Operation& op : ops)
        if (!op.result && !stopped)
            record_error(op, 409, "invalidValue", "circular bulkId references");

    Json resp = take(json_object());
    json_t* schemas = json_array();
    json_array_append_new(schemas, json_string(kBulkResponseUrn));
    json_object_set_new(resp.get(), "schemas", schemas);
    json_t* results = json_array();
    for (const Operation& op : ops)
        if (op.result) json_array_append(results, op.result.get());
    json_object_set_new(resp.get(), "Operations", results);
    respond_json(ctx.resp, 200, resp.get());
}

}  // namespace scim
