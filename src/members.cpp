#include "members.hpp"

#include <cstring>

#include "record.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {

std::string kind_of(Txn& txn, const Store& store, const Directory& dir, std::string_view id) {
    std::string_view record;
    if (id.empty() || id.size() > 128) return "";
    for (const char* kind : {"User", "Group"})
        if (txn.get(store.resources, resource_key(dir.name, kind, id), &record)) return kind;
    return "";
}

bool add_member(Txn& txn, const Store& store, const Directory& dir, std::string_view group,
                std::string_view member) {
    if (member == group)
        fail(400, "invalidValue", format("a group cannot be a member of itself (%.*s)",
                                         static_cast<int>(group.size()), group.data()));
    std::string kind = kind_of(txn, store, dir, member);
    if (kind.empty())
        fail(400, "invalidValue",
             format("member \"%.*s\" is neither a user nor a group of this directory",
                    static_cast<int>(std::min<size_t>(member.size(), 128)), member.data()));
    if (!txn.put(store.members, member_key(dir.name, group, member), kind, MDB_NOOVERWRITE))
        return false;
    txn.put(store.members, member_of_key(dir.name, member, group), "");
    return true;
}

bool remove_member(Txn& txn, const Store& store, const Directory& dir, std::string_view group,
                   std::string_view member) {
    if (!txn.del(store.members, member_key(dir.name, group, member))) return false;
    txn.del(store.members, member_of_key(dir.name, member, group));
    return true;
}

static std::vector<std::string> suffixes(Txn& txn, MDB_dbi dbi, const std::string& prefix) {
    std::vector<std::string> out;
    PrefixCursor c(txn, dbi, prefix);
    while (c.next()) out.emplace_back(c.key().substr(prefix.size()));
    return out;
}

std::vector<std::string> member_ids(Txn& txn, const Store& store, const Directory& dir,
                                    std::string_view group) {
    return suffixes(txn, store.members, members_prefix(dir.name, group));
}

std::vector<std::string> group_ids_of(Txn& txn, const Store& store, const Directory& dir,
                                      std::string_view member) {
    return suffixes(txn, store.members, member_of_prefix(dir.name, member));
}

static json_t* reference(std::string_view base_url, std::string_view kind, std::string_view id,
                         const char* type) {
    json_t* m = json_object();
    json_object_set_new(m, "value", json_stringn(id.data(), id.size()));
    std::string ref = std::string(base_url) + (kind == "Group" ? "/Groups/" : "/Users/");
    ref.append(id);
    json_object_set_new(m, "$ref", json_string(ref.c_str()));
    json_object_set_new(m, "type", json_string(type));
    return m;
}

Json members_json(Txn& txn, const Store& store, const Directory& dir, std::string_view group,
                  std::string_view base_url) {
    Json out = take(json_array());
    std::string prefix = members_prefix(dir.name, group);
    PrefixCursor c(txn, store.members, prefix);
    while (c.next()) {
        std::string kind(c.value());
        json_array_append_new(out.get(), reference(base_url, kind, c.key().substr(prefix.size()),
                                                   kind.c_str()));
    }
    return out;
}

Json groups_json(Txn& txn, const Store& store, const Directory& dir, std::string_view member,
                 std::string_view base_url) {
    Json out = take(json_array());
    for (const std::string& gid : group_ids_of(txn, store, dir, member)) {
        json_t* g = reference(base_url, "Group", gid, "direct");
        std::string_view record;
        if (txn.get(store.resources, resource_key(dir.name, "Group", gid), &record)) {
            Json doc = decode_record(record);
            if (json_t* name = json_object_get(doc.get(), "displayName"))
                json_object_set(g, "display", name);
        }
        json_array_append_new(out.get(), g);
    }
    return out;
}

Json MembershipView::values(const char* attribute) const {
    if (strcmp(attribute, "members") == 0)
        return members_json(txn_, store_, dir_, id_, base_url_);
    if (strcmp(attribute, "groups") == 0) return groups_json(txn_, store_, dir_, id_, base_url_);
    return nullptr;
}

bool MembershipView::has_value(const char* attribute, std::string_view id) const {
    std::string_view v;
    if (strcmp(attribute, "members") == 0)
        return txn_.get(store_.members, member_key(dir_.name, id_, id), &v);
    if (strcmp(attribute, "groups") == 0)
        return txn_.get(store_.members, member_of_key(dir_.name, id_, id), &v);
    return false;
}

}  // namespace scim
