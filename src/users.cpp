// /Users: create, read, list (filtered, paged) and delete.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "api.hpp"
#include "filter.hpp"
#include "query.hpp"
#include "resource.hpp"
#include "schema.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

const ResourceType& rt = kUserResource;
constexpr size_t kMaxIdLength = 128;

struct UniqueEntry {
    std::string key;
    std::string taken;  // the 409 detail
};

// The unique index entries a user holds: userName (case-insensitively, RFC
// 7643 §4.1.1) and externalId (the IdP's stable key; one user per externalId).
std::vector<UniqueEntry> unique_entries(const Directory& dir, const json_t* user) {
    std::vector<UniqueEntry> out;
    if (const json_t* un = json_object_get(user, "userName"))
        out.push_back({unique_key(dir.name, rt.name, "userName", ascii_lower(str_view(un))),
                       format("userName \"%s\" is already taken", json_string_value(un))});
    if (const json_t* ext = json_object_get(user, "externalId"))
        out.push_back({unique_key(dir.name, rt.name, "externalId", str_view(ext)),
                       format("externalId \"%s\" already belongs to another user",
                              json_string_value(ext))});
    return out;
}

std::string location_of(std::string_view base_url, std::string_view id) {
    return std::string(base_url).append(rt.endpoint).append("/").append(id);
}

Json parse_stored(std::string_view stored) {
    json_error_t jerr;
    json_t* j = json_loadb(stored.data(), stored.size(), 0, &jerr);
    if (!j) throw std::runtime_error("corrupt stored resource");
    return take(j);
}

// A stored user as the client sees it: meta.location depends on the URL the
// request came in through, so it is added here rather than stored.
Json render(std::string_view stored, std::string_view base_url) {
    Json doc = parse_stored(stored);
    json_t* meta = json_object_get(doc.get(), "meta");
    const json_t* id = json_object_get(doc.get(), "id");
    if (meta && id)
        json_object_set_new(meta, "location",
                            json_string(location_of(base_url, str_view(id)).c_str()));
    return doc;
}

void respond_resource(Context& ctx, int status, const json_t* doc) {
    respond_json(ctx.resp, status, doc);
    const json_t* version = json_object_get(json_object_get(doc, "meta"), "version");
    if (json_is_string(version)) ctx.resp->etag = dup_field(str_view(version));
}

[[noreturn]] void not_found(std::string_view id) {
    fail(404, nullptr,
         format("User \"%.*s\" not found", static_cast<int>(std::min<size_t>(id.size(), 128)),
                id.data()));
}

// The ids an index can answer a filter with, or nothing when it needs a scan.
std::optional<std::vector<std::string>> index_candidates(const Filter& f, const Directory& dir,
                                                         Txn& txn, const Store& store) {
    switch (f.kind) {
        case Filter::Kind::Compare: {
            const AttrPath& p = f.path;
            if (f.op != FilterOp::Eq || !p.attribute || p.extension || p.sub_attribute ||
                !json_is_string(f.value.get()))
                return std::nullopt;
            std::string key;
            std::string_view v = str_view(f.value.get());
            if (strcmp(p.attribute->name, "userName") == 0)
                key = unique_key(dir.name, rt.name, "userName", ascii_lower(v));
            else if (strcmp(p.attribute->name, "externalId") == 0)
                key = unique_key(dir.name, rt.name, "externalId", v);
            else
                return std::nullopt;
            std::vector<std::string> ids;
            std::string_view id;
            if (txn.get(store.unique, key, &id)) ids.emplace_back(id);
            return ids;
        }
        case Filter::Kind::And: {
            if (auto l = index_candidates(*f.left, dir, txn, store)) return l;
            return index_candidates(*f.right, dir, txn, store);
        }
        case Filter::Kind::Or: {
            auto l = index_candidates(*f.left, dir, txn, store);
            if (!l) return std::nullopt;
            auto r = index_candidates(*f.right, dir, txn, store);
            if (!r) return std::nullopt;
            l->insert(l->end(), r->begin(), r->end());
            std::sort(l->begin(), l->end());
            l->erase(std::unique(l->begin(), l->end()), l->end());
            return l;
        }
        default:
            return std::nullopt;
    }
}

}  // namespace

void users_create(Context& ctx) {
    Json body = parse_body(ctx);
    Json user = normalize_resource(body.get(), rt);
    std::string id = new_uuid();
    std::string now = now_rfc3339();

    Txn txn = Txn::write(ctx.store);
    // The id of the transaction that writes a version is unique and grows,
    // which is all a weak entity tag needs.
    std::string version = "W/\"" + std::to_string(txn.id()) + "\"";

    Json doc = take(json_object());
    json_object_set_new(doc.get(), "schemas", schemas_of(user.get(), rt).release());
    json_object_set_new(doc.get(), "id", json_string(id.c_str()));
    json_object_update(doc.get(), user.get());
    json_t* meta = json_object();
    json_object_set_new(meta, "resourceType", json_string(rt.name));
    json_object_set_new(meta, "created", json_string(now.c_str()));
    json_object_set_new(meta, "lastModified", json_string(now.c_str()));
    json_object_set_new(meta, "version", json_string(version.c_str()));
    json_object_set_new(doc.get(), "meta", meta);

    for (const UniqueEntry& u : unique_entries(ctx.dir, doc.get()))
        if (!txn.put(ctx.store.unique, u.key, id, MDB_NOOVERWRITE)) fail(409, "uniqueness", u.taken);
    txn.put(ctx.store.resources, resource_key(ctx.dir.name, rt.name, id), dump(doc.get()),
            MDB_NOOVERWRITE);
    txn.commit();
    ctx.resp->changed = 1;

    std::string location = location_of(ctx.base_url, id);
    json_object_set_new(meta, "location", json_string(location.c_str()));
    respond_resource(ctx, 201, doc.get());
    ctx.resp->location = dup_field(location);
}

void users_get(Context& ctx, std::string_view id) {
    if (id.size() > kMaxIdLength) not_found(id);
    Txn txn = Txn::read(ctx.store);
    std::string_view stored;
    if (!txn.get(ctx.store.resources, resource_key(ctx.dir.name, rt.name, id), &stored))
        not_found(id);
    Json doc = render(stored, ctx.base_url);
    respond_resource(ctx, 200, doc.get());
}

void users_delete(Context& ctx, std::string_view id) {
    if (id.size() > kMaxIdLength) not_found(id);
    Txn txn = Txn::write(ctx.store);
    std::string key = resource_key(ctx.dir.name, rt.name, id);
    std::string_view stored;
    if (!txn.get(ctx.store.resources, key, &stored)) not_found(id);
    Json doc = parse_stored(stored);
    for (const UniqueEntry& u : unique_entries(ctx.dir, doc.get())) txn.del(ctx.store.unique, u.key);
    txn.del(ctx.store.resources, key);
    txn.commit();
    ctx.resp->changed = 1;
    ctx.resp->status = 204;
}

void users_list(Context& ctx) {
    ListQuery q = parse_list_query(ctx.query());
    std::unique_ptr<Filter> filter;
    if (q.has_filter) {
        filter = parse_filter(q.filter);
        bind_filter(*filter, rt);
    }

    Txn txn = Txn::read(ctx.store);
    Json resources = take(json_array());
    size_t total = 0;
    const size_t first = static_cast<size_t>(q.start_index);
    const size_t last = first + static_cast<size_t>(q.count);  // exclusive
    // Counts every match and renders those inside [first, last).
    auto consider = [&](std::string_view stored) {
        Json doc;
        if (filter) {
            doc = parse_stored(stored);
            if (!filter_matches(*filter, doc.get())) return;
        }
        total++;
        if (total < first || total >= last) return;
        Json out = render(stored, ctx.base_url);
        json_array_append_new(resources.get(), out.release());
    };

    std::optional<std::vector<std::string>> ids;
    if (filter) ids = index_candidates(*filter, ctx.dir, txn, ctx.store);
    if (ids) {
        for (const std::string& id : *ids) {
            std::string_view stored;
            if (txn.get(ctx.store.resources, resource_key(ctx.dir.name, rt.name, id), &stored))
                consider(stored);
        }
    } else {
        PrefixCursor cursor(txn, ctx.store.resources, resource_prefix(ctx.dir.name, rt.name));
        while (cursor.next()) consider(cursor.value());
    }

    Json list = take(json_object());
    json_t* schemas = json_array();
    json_array_append_new(schemas, json_string(kListResponseUrn));
    json_object_set_new(list.get(), "schemas", schemas);
    json_object_set_new(list.get(), "totalResults", json_integer(static_cast<json_int_t>(total)));
    json_object_set_new(list.get(), "startIndex", json_integer(q.start_index));
    json_object_set_new(list.get(), "itemsPerPage",
                        json_integer(static_cast<json_int_t>(json_array_size(resources.get()))));
    if (q.count > 0 || total == 0) json_object_set_new(list.get(), "Resources", resources.release());
    respond_json(ctx.resp, 200, list.get());
}

}  // namespace scim
