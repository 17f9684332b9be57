// Create, read, replace, patch, delete and list for every resource kind.
#include "resources.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "api.hpp"
#include "filter.hpp"
#include "members.hpp"
#include "patch.hpp"
#include "projection.hpp"
#include "record.hpp"
#include "resource.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

constexpr size_t kMaxIdLength = 128;

std::string location_of(std::string_view base_url, const ResourceKind& k, std::string_view id) {
    return std::string(base_url).append(k.type.endpoint).append("/").append(id);
}

[[noreturn]] void not_found(const ResourceKind& k, std::string_view id) {
    fail(404, nullptr, format("%s \"%.*s\" not found", k.type.name,
                              static_cast<int>(std::min<size_t>(id.size(), kMaxIdLength)), id.data()));
}

bool load(Txn& txn, const Store& store, const Directory& dir, const ResourceKind& k,
          std::string_view id, std::string_view* record) {
    return id.size() <= kMaxIdLength &&
           txn.get(store.resources, resource_key(dir.name, k.type.name, id), record);
}

bool is_group(const ResourceKind& k) { return strcmp(k.derived, "members") == 0; }

// RFC 7232 weak comparison against a list of entity tags, or "*".
bool etag_matches(std::string_view header, std::string_view version) {
    auto opaque = [](std::string_view t) {
        t = trim(t);
        if (t.size() >= 2 && (t[0] == 'W' || t[0] == 'w') && t[1] == '/') t.remove_prefix(2);
        return t;
    };
    std::string_view mine = opaque(version);
    while (!header.empty()) {
        size_t comma = header.find(',');
        std::string_view one = opaque(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        if (one == "*" || one == mine) return true;
    }
    return false;
}

void check_if_match(const Context& ctx, std::string_view record) {
    if (ctx.req.if_match.len == 0) return;
    std::string version = record_version(record);
    if (!etag_matches({ctx.req.if_match.data, ctx.req.if_match.len}, version))
        fail(412, nullptr,
             format("If-Match %.*s does not match the current version %s",
                    static_cast<int>(std::min<size_t>(ctx.req.if_match.len, 128)),
                    ctx.req.if_match.data, version.c_str()));
}

Projection projection_of(const ListQuery& q, const ResourceKind& k) {
    return Projection(q.attributes, q.excluded_attributes, k.type);
}

// Writes the record of `id` from normalised attributes, moving its unique
// and index entries from what `old` held (nullptr: a new resource).
std::string write_record(Txn& txn, const Store& store, const Directory& dir,
                         const ResourceKind& k, std::string_view id, const json_t* attrs,
                         const json_t* old) {
    if (is_group(k))
        if (const json_t* name = json_object_get(attrs, "displayName"))
            for (const auto& r : dir.reserved_groups)
                if (r.group == ascii_lower(str_view(name)))
                    fail(409, "uniqueness",
                         format("displayName \"%s\" is the default group of product \"%s\" in "
                                "the nginx configuration; a group synced from the identity "
                                "provider cannot be a default group",
                                json_string_value(name), r.product.c_str()));
    std::string now = now_rfc3339();
    const json_t* old_meta = old ? json_object_get(old, "meta") : nullptr;
    const json_t* created = json_object_get(old_meta, "created");

    Json doc = take(json_object());
    json_object_set_new(doc.get(), "schemas", schemas_of(attrs, k.type).release());
    json_object_set_new(doc.get(), "id", json_stringn(id.data(), id.size()));
    json_object_update(doc.get(), const_cast<json_t*>(attrs));
    json_t* meta = json_object();
    json_object_set_new(meta, "resourceType", json_string(k.type.name));
    json_object_set_new(meta, "created", json_is_string(created) ? json_incref(const_cast<json_t*>(created))
                                                                 : json_string(now.c_str()));
    json_object_set_new(meta, "lastModified", json_string(now.c_str()));
    json_object_set_new(meta, "version", json_string(new_version(txn).c_str()));
    json_object_set_new(doc.get(), "meta", meta);

    std::vector<UniqueEntry> before = old ? k.unique_entries(dir, old) : std::vector<UniqueEntry>();
    std::vector<UniqueEntry> after = k.unique_entries(dir, doc.get());
    auto has = [](const std::vector<UniqueEntry>& v, const std::string& key) {
        return std::any_of(v.begin(), v.end(), [&](const UniqueEntry& e) { return e.key == key; });
    };
    for (const UniqueEntry& e : before)
        if (!has(after, e.key)) txn.del_if(store.unique, e.key, id);
    for (const UniqueEntry& e : after) {
        if (has(before, e.key)) continue;
        if (!txn.put(store.unique, e.key, id, MDB_NOOVERWRITE)) {
            std::string_view holder;
            if (!txn.get(store.unique, e.key, &holder) || holder != id) fail(409, "uniqueness", e.taken);
        }
    }
    std::vector<std::string> ib = old ? k.index_entries(dir, old) : std::vector<std::string>();
    std::vector<std::string> ia = k.index_entries(dir, doc.get());
    for (const std::string& key : ib)
        if (std::find(ia.begin(), ia.end(), key) == ia.end()) txn.del_dup(store.index, key, id);
    for (const std::string& key : ia) txn.put_dup(store.index, key, id);

    std::string record = encode_record(doc.get());
    txn.put(store.resources, resource_key(dir.name, k.type.name, id), record);
    if (!old) add_to_count(txn, store, dir.name, k.type.name, 1);
    return record;
}

// The member ids a POST or PUT of a group carries; removed from `attrs`.
std::vector<std::string> take_members(json_t* attrs) {
    std::vector<std::string> ids;
    size_t i;
    json_t* m;
    json_array_foreach(json_object_get(attrs, "members"), i, m) {
        const json_t* v = json_object_get(m, "value");
        if (!json_is_string(v)) fail(400, "invalidValue", "each member needs a \"value\" holding its id");
        ids.emplace_back(str_view(v));
    }
    json_object_del(attrs, "members");
    return ids;
}

// Appends one resource as the client sees it: its record with
// meta.location and, when asked for, its derived attribute; without a
// projection, spliced as text.
void render_resource(Context& ctx, const ResourceKind& k, Txn& txn, std::string_view id,
                     std::string_view record, const Projection& proj, std::string* out) {
    if (proj.empty()) {
        std::string inserted = std::string("\"") + k.derived + "\":";
        size_t n = is_group(k) ? append_members(txn, ctx.store, ctx.dir, id, ctx.base_url, &inserted)
                               : append_groups(txn, ctx.store, ctx.dir, id, ctx.base_url, &inserted);
        if (n == 0) inserted.clear();
        render_record(record, location_of(ctx.base_url, k, id), inserted, out);
        return;
    }
    Json doc = decode_record(record);
    json_t* meta = json_object_get(doc.get(), "meta");
    json_incref(meta);
    json_object_del(doc.get(), "meta");
    if (proj.includes(k.derived)) {
        MembershipView view(txn, ctx.store, ctx.dir, id, ctx.base_url);
        Json derived = view.values(k.derived);
        if (json_array_size(derived.get()) > 0) json_object_set(doc.get(), k.derived, derived.get());
    }
    json_object_set_new(meta, "location", json_string(location_of(ctx.base_url, k, id).c_str()));
    json_object_set_new(doc.get(), "meta", meta);
    proj.apply(doc.get());
    out->append(dump(doc.get()));
}

void respond_resource(Context& ctx, const ResourceKind& k, Txn& txn, std::string_view id,
                      std::string_view record, const Projection& proj, int status) {
    std::string body;
    body.reserve(record.size() + ctx.base_url.size() + 64);
    render_resource(ctx, k, txn, id, record, proj, &body);
    respond_text(ctx.resp, status, body);
    ctx.resp->etag = dup_field(record_version(record));
}

// ---- filters answered by an index ----

const IndexedAttribute* indexed(const ResourceKind& k, const AttrPath& p, const char* sub) {
    if (p.extension) return nullptr;
    for (size_t i = 0; i < k.indexed_count; i++) {
        const IndexedAttribute& ia = k.indexed[i];
        if (strcmp(ia.attribute, p.attribute->name) != 0) continue;
        if ((ia.sub == nullptr) != (sub == nullptr)) continue;
        if (sub && strcmp(ia.sub, sub) != 0) continue;
        return &ia;
    }
    return nullptr;
}

std::string index_name(const IndexedAttribute& ia) {
    return ia.sub ? std::string(ia.attribute) + "." + ia.sub : std::string(ia.attribute);
}

std::vector<std::string> lookup(const ResourceKind& k, const IndexedAttribute& ia,
                                std::string_view value, const Directory& dir, Txn& txn,
                                const Store& store) {
    std::string key = unique_key(dir.name, k.type.name, index_name(ia),
                                 ia.fold_case ? ascii_lower(value) : std::string(value));
    std::vector<std::string> ids;
    if (!ia.multi) {
        std::string_view id;
        if (txn.get(store.unique, key, &id)) ids.emplace_back(id);
        return ids;
    }
    MDB_cursor* c;
    int rc = mdb_cursor_open(txn.handle(), store.index, &c);
    if (rc != 0) throw StoreError(rc);
    MDB_val kv = to_val(key), dv;
    for (rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_KEY); rc == 0;
         rc = mdb_cursor_get(c, &kv, &dv, MDB_NEXT_DUP))
        ids.emplace_back(from_val(dv));
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) throw StoreError(rc);
    return ids;
}

// The ids an index can answer a filter with, or nothing when it needs a
// scan. *exact says the ids are precisely the filter's result, so records
// need not be parsed to check them (folded indexes serve case-insensitive
// comparisons, exact ones case-exact comparisons).
std::optional<std::vector<std::string>> index_candidates(const Filter& f, const ResourceKind& k,
                                                         const Directory& dir, Txn& txn,
                                                         const Store& store, bool* exact) {
    switch (f.kind) {
        case Filter::Kind::Compare: {
            const AttrPath& p = f.path;
            if (f.op != FilterOp::Eq || p.unknown || !p.attribute || !json_is_string(f.value.get()))
                break;
            std::string_view v = str_view(f.value.get());
            if (!p.extension && !p.sub_attribute && strcmp(p.attribute->name, "id") == 0) {
                std::vector<std::string> ids;
                std::string_view record;
                if (load(txn, store, dir, k, v, &record)) ids.emplace_back(v);
                return ids;
            }
            const char* sub = p.sub_attribute ? p.sub_attribute->name
                              : p.attribute->type == Type::Complex ? "value"
                                                                   : nullptr;
            if (const IndexedAttribute* ia = indexed(k, p, sub))
                return lookup(k, *ia, v, dir, txn, store);
            break;
        }
        case Filter::Kind::ValuePath: {
            if (f.path.unknown) break;
            const Filter& inner = *f.left;
            if (inner.kind == Filter::Kind::Compare && inner.op == FilterOp::Eq &&
                json_is_string(inner.value.get()))
                if (const IndexedAttribute* ia = indexed(k, f.path, inner.path.sub_attribute->name))
                    return lookup(k, *ia, str_view(inner.value.get()), dir, txn, store);
            break;
        }
        case Filter::Kind::And: {
            *exact = false;
            if (auto l = index_candidates(*f.left, k, dir, txn, store, exact)) return l;
            return index_candidates(*f.right, k, dir, txn, store, exact);
        }
        case Filter::Kind::Or: {
            auto l = index_candidates(*f.left, k, dir, txn, store, exact);
            if (!l) return std::nullopt;
            auto r = index_candidates(*f.right, k, dir, txn, store, exact);
            if (!r) return std::nullopt;
            l->insert(l->end(), r->begin(), r->end());
            std::sort(l->begin(), l->end());
            l->erase(std::unique(l->begin(), l->end()), l->end());
            return l;
        }
        case Filter::Kind::Not:
            break;
    }
    *exact = false;
    return std::nullopt;
}

// ---- sorting (RFC 7644 §3.4.2.3) ----

struct SortSpec {
    AttrPath path;
    bool descending = false;
};

// The value a resource sorts by: of a multi-valued attribute, the primary
// value, else the first.
Json sort_value(const SortSpec& s, const json_t* doc) {
    if (s.path.unknown) return nullptr;
    const json_t* c = s.path.extension ? json_object_get(doc, s.path.extension->id) : doc;
    const json_t* v = c ? json_object_get(c, s.path.attribute->name) : nullptr;
    if (json_is_array(v)) {
        const json_t* pick = json_array_get(v, 0);
        size_t i;
        json_t* e;
        json_array_foreach(v, i, e) if (json_is_true(json_object_get(e, "primary"))) pick = e;
        v = pick;
    }
    const char* sub = s.path.sub_attribute ? s.path.sub_attribute->name
                      : s.path.attribute->type == Type::Complex ? "value"
                                                                : nullptr;
    if (sub) v = json_is_object(v) ? json_object_get(v, sub) : nullptr;
    if (!v || json_is_null(v)) return nullptr;
    const Attribute& t = s.path.sub_attribute ? *s.path.sub_attribute
                         : sub ? *find_sub_attribute(*s.path.attribute, sub)
                               : *s.path.attribute;
    if (json_is_string(v) && !t.case_exact && t.type != Type::DateTime)
        return take(json_string(ascii_lower(str_view(v)).c_str()));
    if (json_is_string(v) && t.type == Type::DateTime) {
        int64_t ms;
        if (parse_datetime(str_view(v), &ms)) return take(json_integer(ms));
    }
    return borrow(const_cast<json_t*>(v));
}

// <0, 0, >0; a missing value sorts after every present one.
int compare_values(const json_t* a, const json_t* b) {
    if (!a || !b) return a ? -1 : b ? 1 : 0;
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (json_is_boolean(a) && json_is_boolean(b)) return json_is_true(a) - json_is_true(b);
    if (json_is_string(a) && json_is_string(b)) return str_view(a).compare(str_view(b));
    return 0;
}

struct Match {
    const ResourceKind* kind;
    std::string id;
    std::string_view record;
    Json sort_key;
};

struct BoundKind {
    const ResourceKind* kind;
    std::unique_ptr<Filter> filter;
    Projection projection;
    std::optional<SortSpec> sort;
};

// Calls visit(id, record) for each resource of `k` that matches the filter,
// in a stable order: index results sorted by id, or the records in key
// (id) order.
template <typename Visit>
void each_match(Context& ctx, Txn& txn, const BoundKind& b, Visit visit) {
    const ResourceKind& k = *b.kind;
    bool exact = true;
    std::optional<std::vector<std::string>> ids;
    if (b.filter) ids = index_candidates(*b.filter, k, ctx.dir, txn, ctx.store, &exact);
    const bool check = b.filter && !(ids && exact);
    auto consider = [&](std::string_view id, std::string_view record) {
        if (check) {
            MembershipView view(txn, ctx.store, ctx.dir, id, ctx.base_url);
            if (!filter_matches(*b.filter, decode_record(record).get(), &view)) return;
        }
        visit(id, record);
    };
    if (ids) {
        std::sort(ids->begin(), ids->end());
        for (const std::string& id : *ids) {
            std::string_view record;
            if (load(txn, ctx.store, ctx.dir, k, id, &record)) consider(id, record);
        }
    } else {
        std::string prefix = resource_prefix(ctx.dir.name, k.type.name);
        PrefixCursor cursor(txn, ctx.store.resources, prefix);
        while (cursor.next()) consider(cursor.key().substr(prefix.size()), cursor.value());
    }
}

}  // namespace

std::string new_version(const Txn& txn) {
    // The id of the transaction that writes a version is unique and grows,
    // which is all a weak entity tag needs.
    return "W/\"" + std::to_string(txn.id()) + "\"";
}

NewRecord insert_record(Txn& txn, const Store& store, const Directory& dir, const ResourceKind& k,
                        const json_t* attrs) {
    NewRecord out;
    // Ids that sort by creation time make a resource created during a paged
    // import land after the pages already read, not inside them.
    out.id = new_time_ordered_uuid();
    out.record = write_record(txn, store, dir, k, out.id, attrs, nullptr);
    return out;
}

bool touch_record(Txn& txn, const Store& store, const Directory& dir, const ResourceKind& k,
                  std::string_view id) {
    std::string_view record;
    if (!load(txn, store, dir, k, id, &record)) return false;
    Json doc = decode_record(record);
    json_t* meta = json_object_get(doc.get(), "meta");
    json_object_set_new(meta, "lastModified", json_string(now_rfc3339().c_str()));
    json_object_set_new(meta, "version", json_string(new_version(txn).c_str()));
    txn.put(store.resources, resource_key(dir.name, k.type.name, id), encode_record(doc.get()));
    return true;
}

namespace {

// A PATCH's member changes, made in its transaction as they come.
struct GroupMembers : MemberSink {
    GroupMembers(Txn& txn, const Store& store, const Directory& dir, std::string_view id)
        : txn(txn), store(store), dir(dir), id(id) {}
    void add(const std::vector<std::string>& ids) override {
        for (const std::string& m : ids) changed |= add_member(txn, store, dir, id, m);
    }
    void remove(const std::vector<std::string>& ids) override {
        for (const std::string& m : ids) changed |= remove_member(txn, store, dir, id, m);
    }
    void clear() override { remove(member_ids(txn, store, dir, id)); }
    Txn& txn;
    const Store& store;
    const Directory& dir;
    std::string_view id;
    bool changed = false;
};

// A POST or PUT body: the attributes to store and, for a group, its members.
struct Incoming {
    Json attrs;
    std::vector<std::string> members;
};

Incoming incoming(const Context& ctx, const ResourceKind& k) {
    Json body = parse_body(ctx);
    Incoming in{normalize_resource(body.get(), k.type), {}};
    if (is_group(k)) in.members = take_members(in.attrs.get());
    return in;
}

}  // namespace

void resource_create(Context& ctx, const ResourceKind& k) {
    ListQuery q = parse_list_query(ctx.query());
    Incoming in = incoming(ctx, k);
    Txn txn = Txn::write(ctx.store);
    NewRecord created = insert_record(txn, ctx.store, ctx.dir, k, in.attrs.get());
    for (const std::string& m : in.members) add_member(txn, ctx.store, ctx.dir, created.id, m);
    respond_resource(ctx, k, txn, created.id, created.record, projection_of(q, k), 201);
    ctx.resp->location = dup_field(location_of(ctx.base_url, k, created.id));
    bump_generation(txn, ctx.store);
    txn.commit();
    ctx.resp->changed = 1;
}

void resource_get(Context& ctx, const ResourceKind& k, std::string_view id) {
    ListQuery q = parse_list_query(ctx.query());
    Projection proj = projection_of(q, k);
    Txn txn = Txn::read(ctx.store);
    std::string_view record;
    if (!load(txn, ctx.store, ctx.dir, k, id, &record)) not_found(k, id);
    if (ctx.req.if_none_match.len &&
        etag_matches({ctx.req.if_none_match.data, ctx.req.if_none_match.len}, record_version(record))) {
        ctx.resp->status = 304;
        ctx.resp->etag = dup_field(record_version(record));
        return;
    }
    respond_resource(ctx, k, txn, id, record, proj, 200);
}

void resource_replace(Context& ctx, const ResourceKind& k, std::string_view id) {
    ListQuery q = parse_list_query(ctx.query());
    Incoming in = incoming(ctx, k);
    std::vector<std::string>& members = in.members;
    Txn txn = Txn::write(ctx.store);
    std::string_view old;
    if (!load(txn, ctx.store, ctx.dir, k, id, &old)) not_found(k, id);
    check_if_match(ctx, old);
    Json old_doc = decode_record(old);
    std::string record = write_record(txn, ctx.store, ctx.dir, k, id, in.attrs.get(), old_doc.get());
    if (is_group(k)) {
        // PUT replaces: the members it lists are all the members.
        std::sort(members.begin(), members.end());
        for (const std::string& m : member_ids(txn, ctx.store, ctx.dir, id))
            if (!std::binary_search(members.begin(), members.end(), m))
                remove_member(txn, ctx.store, ctx.dir, id, m);
        for (const std::string& m : members) add_member(txn, ctx.store, ctx.dir, id, m);
    }
    respond_resource(ctx, k, txn, id, record, projection_of(q, k), 200);
    bump_generation(txn, ctx.store);
    txn.commit();
    ctx.resp->changed = 1;
}

void resource_patch(Context& ctx, const ResourceKind& k, std::string_view id) {
    ListQuery q = parse_list_query(ctx.query());
    Json body = parse_body(ctx);

    Txn txn = Txn::write(ctx.store);
    std::string_view old;
    if (!load(txn, ctx.store, ctx.dir, k, id, &old)) not_found(k, id);
    check_if_match(ctx, old);
    Json old_doc = decode_record(old);
    Json doc = decode_record(old);
    MembershipView view(txn, ctx.store, ctx.dir, id, ctx.base_url);
    GroupMembers members(txn, ctx.store, ctx.dir, id);
    Json attrs = apply_patch(body.get(), doc.get(), k.type, is_group(k) ? &members : nullptr, &view);
    bool members_changed = members.changed;

    // An operation that changes nothing writes nothing (and keeps the version).
    Json old_attrs = normalize_resource(old_doc.get(), k.type);
    bool changed = members_changed || !json_equal(attrs.get(), old_attrs.get());
    std::string record = changed ? write_record(txn, ctx.store, ctx.dir, k, id, attrs.get(), old_doc.get())
                                 : std::string(old);
    // A group answers 204: rendering its members would cost the group's
    // size, and a member change must cost only the change. "attributes"
    // asks for a body (without members unless they are named).
    if (is_group(k) && q.attributes.empty()) {
        ctx.resp->status = 204;
        ctx.resp->etag = dup_field(record_version(record));
    } else {
        respond_resource(ctx, k, txn, id, record, projection_of(q, k), 200);
    }
    if (changed) {
        bump_generation(txn, ctx.store);
        txn.commit();
        ctx.resp->changed = 1;
    }
}

void resource_delete(Context& ctx, const ResourceKind& k, std::string_view id) {
    Txn txn = Txn::write(ctx.store);
    std::string_view record;
    if (!load(txn, ctx.store, ctx.dir, k, id, &record)) not_found(k, id);
    check_if_match(ctx, record);
    Json doc = decode_record(record);
    for (const UniqueEntry& e : k.unique_entries(ctx.dir, doc.get()))
        txn.del_if(ctx.store.unique, e.key, id);
    for (const std::string& key : k.index_entries(ctx.dir, doc.get())) txn.del_dup(ctx.store.index, key, id);
    if (is_group(k))
        for (const std::string& m : member_ids(txn, ctx.store, ctx.dir, id))
            remove_member(txn, ctx.store, ctx.dir, id, m);
    // It leaves the groups it was a member of, which changes them.
    for (const std::string& g : group_ids_of(txn, ctx.store, ctx.dir, id)) {
        remove_member(txn, ctx.store, ctx.dir, g, id);
        touch_record(txn, ctx.store, ctx.dir, kGroupKind, g);
    }
    txn.del(ctx.store.resources, resource_key(ctx.dir.name, k.type.name, id));
    add_to_count(txn, ctx.store, ctx.dir.name, k.type.name, -1);
    bump_generation(txn, ctx.store);
    txn.commit();
    ctx.resp->changed = 1;
    ctx.resp->status = 204;
}

void resource_list(Context& ctx, const std::vector<const ResourceKind*>& kinds, const ListQuery& q) {
    // Across several kinds (/.search), an attribute one kind lacks is
    // unassigned there (RFC 7644 §3.4.2: the root searches all resources);
    // only an attribute no kind defines is an error.
    std::vector<BoundKind> bound;
    std::optional<ScimError> strict_error;
    size_t strict_ok = 0;
    for (const ResourceKind* k : kinds) {
        BoundKind b{k, nullptr, projection_of(q, *k), std::nullopt};
        if (q.has_filter) {
            b.filter = parse_filter(q.filter);
            try {
                std::unique_ptr<Filter> probe = parse_filter(q.filter);
                bind_filter(*probe, k->type);
                strict_ok++;
            } catch (const ScimError& e) {
                if (kinds.size() == 1) throw;
                if (!strict_error) strict_error = e;
            }
            bind_filter_lenient(*b.filter, k->type);
        }
        if (!q.sort_by.empty()) {
            SortSpec s;
            s.path = parse_attr_path(q.sort_by, "invalidValue");
            try {
                bind_attr_path(s.path, k->type, "invalidValue");
            } catch (const ScimError&) {
                if (kinds.size() == 1) throw;
                s.path.unknown = true;
            }
            if (!s.path.unknown && !s.path.extension && strcmp(s.path.attribute->name, k->derived) == 0)
                fail(400, "invalidValue", format("cannot sort by \"%s\"", k->derived));
            s.descending = q.descending;
            b.sort = std::move(s);
        }
        bound.push_back(std::move(b));
    }
    if (q.has_filter && strict_ok == 0 && strict_error) throw *strict_error;

    Txn txn = Txn::read(ctx.store);
    std::string resources;
    size_t total = 0, returned = 0;
    const size_t first = static_cast<size_t>(q.start_index);
    const size_t last = first + static_cast<size_t>(q.count);  // exclusive
    auto emit = [&](const BoundKind& b, std::string_view id, std::string_view record) {
        total++;
        if (total < first || total >= last) return;
        if (returned++) resources.push_back(',');
        render_resource(ctx, *b.kind, txn, id, record, b.projection, &resources);
    };

    if (!q.sort_by.empty()) {
        std::vector<std::pair<Match, const BoundKind*>> all;
        for (const BoundKind& b : bound)
            each_match(ctx, txn, b, [&](std::string_view id, std::string_view record) {
                Json key = sort_value(*b.sort, decode_record(record).get());
                all.push_back({Match{b.kind, std::string(id), record, std::move(key)}, &b});
            });
        std::stable_sort(all.begin(), all.end(), [&](const auto& x, const auto& y) {
            // Ascending puts missing values last; descending reverses the
            // whole order (RFC 7644 §3.4.2.3), missing values first.
            int c = compare_values(x.first.sort_key.get(), y.first.sort_key.get());
            if (q.descending) c = -c;
            if (c == 0) return x.first.id < y.first.id;
            return c < 0;
        });
        for (const auto& m : all) emit(*m.second, m.first.id, m.first.record);
    } else {
        for (const BoundKind& b : bound) {
            if (b.filter) {
                each_match(ctx, txn, b, [&](std::string_view id, std::string_view record) {
                    emit(b, id, record);
                });
                continue;
            }
            // Unfiltered: the counter gives the total, and the walk stops
            // at the end of the page instead of counting every record.
            size_t before = total;
            size_t n = read_count(txn, ctx.store, ctx.dir.name, b.kind->type.name);
            if (first <= before + n && last > before + 1 && returned < static_cast<size_t>(q.count)) {
                std::string prefix = resource_prefix(ctx.dir.name, b.kind->type.name);
                PrefixCursor cursor(txn, ctx.store.resources, prefix);
                while (total < before + n && total + 1 < last && cursor.next())
                    emit(b, cursor.key().substr(prefix.size()), cursor.value());
            }
            total = before + n;
        }
    }

    std::string body;
    body.reserve(resources.size() + 160);
    body.append("{\"schemas\":[\"").append(kListResponseUrn).append("\"],\"totalResults\":");
    body.append(std::to_string(total)).append(",\"startIndex\":");
    body.append(std::to_string(q.start_index)).append(",\"itemsPerPage\":");
    body.append(std::to_string(returned));
    // Always present, empty for count=0: RFC 7644 §3.4.2 requires Resources
    // whenever totalResults is non-zero, and strict list parsers do too.
    body.append(",\"Resources\":[").append(resources).append("]");
    body.push_back('}');
    respond_text(ctx.resp, 200, body);
}

void reindex_all(Txn& txn, Store& store) {
    struct Entry {
        std::string dir, id;
        const ResourceKind* kind;
        std::string record;
    };
    std::vector<Entry> entries;
    {
        PrefixCursor c(txn, store.resources, std::string());
        while (c.next()) {
            std::string_view key = c.key();
            size_t a = key.find('\0'), b = key.find('\0', a + 1);
            if (a == std::string_view::npos || b == std::string_view::npos) continue;
            std::string_view type = key.substr(a + 1, b - a - 1);
            const ResourceKind* k = type == "User" ? &kUserKind : type == "Group" ? &kGroupKind : nullptr;
            if (k) entries.push_back({std::string(key.substr(0, a)), std::string(key.substr(b + 1)), k,
                                      std::string(c.value())});
        }
    }
    std::map<std::pair<std::string, std::string>, int64_t> counts;
    for (const Entry& e : entries) {
        Directory dir;
        dir.name = e.dir;
        counts[{e.dir, e.kind->type.name}]++;
        Json doc = decode_record(e.record);
        // Entries two old records both claim stay with the first one.
        for (const UniqueEntry& u : e.kind->unique_entries(dir, doc.get()))
            txn.put(store.unique, u.key, e.id, MDB_NOOVERWRITE);
        for (const std::string& key : e.kind->index_entries(dir, doc.get()))
            txn.put_dup(store.index, key, e.id);
    }
    for (const auto& c : counts)
        txn.put(store.meta, count_key(c.first.first, c.first.second), std::to_string(c.second));
}

}  // namespace scim
