// /Users: create, read, list (filtered, paged) and delete.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "api.hpp"
#include "filter.hpp"
#include "query.hpp"
#include "record.hpp"
#include "resource.hpp"
#include "schema.hpp"
#include "users.hpp"
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

std::string email_key(const Directory& dir, std::string_view email) {
    return unique_key(dir.name, rt.name, "primaryEmail", ascii_lower(email));
}

// The unique index entries a user holds: userName (case-insensitively, RFC
// 7643 §4.1.1), externalId (the IdP's stable key; one user per externalId)
// and the primary e-mail (case-insensitively: it links a SAML login to the
// user, so two users sharing one would make a login ambiguous).
std::vector<UniqueEntry> unique_entries(const Directory& dir, const json_t* user) {
    std::vector<UniqueEntry> out;
    std::string email = primary_email(user);
    if (!email.empty())
        out.push_back({email_key(dir, email),
                       format("primary e-mail \"%s\" already belongs to another user",
                              email.c_str())});
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

void respond_record(Context& ctx, int status, std::string_view record, std::string_view id) {
    std::string body;
    body.reserve(record.size() + ctx.base_url.size() + 64);
    render_record(record, location_of(ctx.base_url, id), &body);
    respond_text(ctx.resp, status, body);
    ctx.resp->etag = dup_field(record_version(record));
}

[[noreturn]] void not_found(std::string_view id) {
    fail(404, nullptr,
         format("User \"%.*s\" not found", static_cast<int>(std::min<size_t>(id.size(), 128)),
                id.data()));
}

// The ids an index can answer a filter with, or nothing when it needs a
// scan. *exact says the ids are precisely the filter's result, so the
// records need not be parsed to check them (userName's index folds case as
// the filter's comparison does; externalId's is case-exact as it is).
std::optional<std::vector<std::string>> index_candidates(const Filter& f, const Directory& dir,
                                                         Txn& txn, const Store& store,
                                                         bool* exact) {
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
            *exact = false;
            if (auto l = index_candidates(*f.left, dir, txn, store, exact)) return l;
            return index_candidates(*f.right, dir, txn, store, exact);
        }
        case Filter::Kind::Or: {
            auto l = index_candidates(*f.left, dir, txn, store, exact);
            if (!l) return std::nullopt;
            auto r = index_candidates(*f.right, dir, txn, store, exact);
            if (!r) return std::nullopt;
            l->insert(l->end(), r->begin(), r->end());
            std::sort(l->begin(), l->end());
            l->erase(std::unique(l->begin(), l->end()), l->end());
            return l;
        }
        default:
            *exact = false;
            return std::nullopt;
    }
}

}  // namespace

std::string primary_email(const json_t* user) {
    const json_t* emails = json_object_get(user, "emails");
    const json_t *primary = nullptr, *work = nullptr, *first = nullptr;
    size_t i;
    json_t* e;
    json_array_foreach(emails, i, e) {
        const json_t* value = json_object_get(e, "value");
        if (!json_is_string(value) || json_string_length(value) == 0) continue;
        if (!first) first = value;
        if (!work && json_is_string(json_object_get(e, "type")) &&
            iequals(str_view(json_object_get(e, "type")), "work"))
            work = value;
        if (json_is_true(json_object_get(e, "primary"))) primary = value;
    }
    const json_t* v = primary ? primary : work ? work : first;
    return v ? std::string(str_view(v)) : std::string();
}

std::optional<std::string> find_user_by_email(Txn& txn, const Store& store, const Directory& dir,
                                              std::string_view email) {
    std::string_view id;
    if (email.empty() || !txn.get(store.unique, email_key(dir, email), &id)) return std::nullopt;
    return std::string(id);
}

bool get_user_record(Txn& txn, const Store& store, const Directory& dir, std::string_view id,
                     std::string_view* record) {
    return id.size() <= kMaxIdLength &&
           txn.get(store.resources, resource_key(dir.name, rt.name, id), record);
}

NewUser insert_user(Txn& txn, const Store& store, const Directory& dir, const json_t* user) {
    NewUser out;
    out.id = new_uuid();
    std::string now = now_rfc3339();
    // The id of the transaction that writes a version is unique and grows,
    // which is all a weak entity tag needs.
    std::string version = "W/\"" + std::to_string(txn.id()) + "\"";

    Json doc = take(json_object());
    json_object_set_new(doc.get(), "schemas", schemas_of(user, rt).release());
    json_object_set_new(doc.get(), "id", json_string(out.id.c_str()));
    json_object_update(doc.get(), const_cast<json_t*>(user));
    json_t* meta = json_object();
    json_object_set_new(meta, "resourceType", json_string(rt.name));
    json_object_set_new(meta, "created", json_string(now.c_str()));
    json_object_set_new(meta, "lastModified", json_string(now.c_str()));
    json_object_set_new(meta, "version", json_string(version.c_str()));
    json_object_set_new(doc.get(), "meta", meta);

    for (const UniqueEntry& u : unique_entries(dir, doc.get()))
        if (!txn.put(store.unique, u.key, out.id, MDB_NOOVERWRITE)) fail(409, "uniqueness", u.taken);
    out.record = encode_record(doc.get());
    txn.put(store.resources, resource_key(dir.name, rt.name, out.id), out.record, MDB_NOOVERWRITE);
    return out;
}

void users_create(Context& ctx) {
    Json body = parse_body(ctx);
    Json user = normalize_resource(body.get(), rt);
    Txn txn = Txn::write(ctx.store);
    NewUser created = insert_user(txn, ctx.store, ctx.dir, user.get());
    txn.commit();
    ctx.resp->changed = 1;

    respond_record(ctx, 201, created.record, created.id);
    ctx.resp->location = dup_field(location_of(ctx.base_url, created.id));
}

void users_get(Context& ctx, std::string_view id) {
    if (id.size() > kMaxIdLength) not_found(id);
    Txn txn = Txn::read(ctx.store);
    std::string_view stored;
    if (!txn.get(ctx.store.resources, resource_key(ctx.dir.name, rt.name, id), &stored))
        not_found(id);
    respond_record(ctx, 200, stored, id);
}

void users_delete(Context& ctx, std::string_view id) {
    if (id.size() > kMaxIdLength) not_found(id);
    Txn txn = Txn::write(ctx.store);
    std::string key = resource_key(ctx.dir.name, rt.name, id);
    std::string_view stored;
    if (!txn.get(ctx.store.resources, key, &stored)) not_found(id);
    Json doc = decode_record(stored);
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
    std::string resources;
    size_t total = 0, returned = 0;
    const size_t first = static_cast<size_t>(q.start_index);
    const size_t last = first + static_cast<size_t>(q.count);  // exclusive
    bool exact = true;
    std::optional<std::vector<std::string>> ids;
    if (filter) ids = index_candidates(*filter, ctx.dir, txn, ctx.store, &exact);
    const bool check = filter && !(ids && exact);

    // Counts every match and renders those inside [first, last).
    auto consider = [&](std::string_view id, std::string_view record) {
        if (check && !filter_matches(*filter, decode_record(record).get())) return;
        total++;
        if (total < first || total >= last) return;
        if (returned++) resources.push_back(',');
        render_record(record, location_of(ctx.base_url, id), &resources);
    };

    if (ids) {
        for (const std::string& id : *ids) {
            std::string_view record;
            if (txn.get(ctx.store.resources, resource_key(ctx.dir.name, rt.name, id), &record))
                consider(id, record);
        }
    } else {
        std::string prefix = resource_prefix(ctx.dir.name, rt.name);
        PrefixCursor cursor(txn, ctx.store.resources, prefix);
        while (cursor.next()) consider(cursor.key().substr(prefix.size()), cursor.value());
    }

    std::string body;
    body.reserve(resources.size() + 160);
    body.append("{\"schemas\":[\"").append(kListResponseUrn).append("\"],\"totalResults\":");
    body.append(std::to_string(total)).append(",\"startIndex\":");
    body.append(std::to_string(q.start_index)).append(",\"itemsPerPage\":");
    body.append(std::to_string(returned));
    if (q.count > 0 || total == 0) body.append(",\"Resources\":[").append(resources).append("]");
    body.push_back('}');
    respond_text(ctx.resp, 200, body);
}

}  // namespace scim
