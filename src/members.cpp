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

// One {"value","$ref",("display"),"type"} element.
static void append_reference(std::string* out, std::string_view base_url, std::string_view kind,
                             std::string_view id, std::string_view display, std::string_view type) {
    out->append("{\"value\":");
    append_json_string(out, id);
    out->append(",\"$ref\":");
    append_json_string(out, std::string(base_url) + (kind == "Group" ? "/Groups/" : "/Users/") +
                                std::string(id));
    if (!display.empty()) {
        out->append(",\"display\":");
        append_json_string(out, display);
    }
    out->append(",\"type\":");
    append_json_string(out, type);
    out->push_back('}');
}

size_t append_members(Txn& txn, const Store& store, const Directory& dir, std::string_view group,
                      std::string_view base_url, std::string* out) {
    size_t n = 0;
    out->push_back('[');
    std::string prefix = members_prefix(dir.name, group);
    PrefixCursor c(txn, store.members, prefix);
    while (c.next()) {
        std::string_view kind = c.value(), id = c.key().substr(prefix.size());
        // display: a group's displayName, a user's displayName or userName.
        std::string_view record;
        std::string display;
        if (txn.get(store.resources, resource_key(dir.name, kind, id), &record)) {
            display = record_string(record, "displayName");
            if (display.empty() && kind == "User") display = record_string(record, "userName");
        }
        if (n++) out->push_back(',');
        append_reference(out, base_url, kind, id, display, kind);
    }
    out->push_back(']');
    return n;
}

size_t append_groups(Txn& txn, const Store& store, const Directory& dir, std::string_view member,
                     std::string_view base_url, std::string* out) {
    size_t n = 0;
    out->push_back('[');
    std::string prefix = member_of_prefix(dir.name, member);
    PrefixCursor c(txn, store.members, prefix);
    while (c.next()) {
        std::string_view gid = c.key().substr(prefix.size());
        std::string_view record;
        std::string name;
        if (txn.get(store.resources, resource_key(dir.name, "Group", gid), &record))
            name = record_string(record, "displayName");
        if (n++) out->push_back(',');
        append_reference(out, base_url, "Group", gid, name, "direct");
    }
    out->push_back(']');
    return n;
}

Json MembershipView::values(const char* attribute) const {
    std::string text;
    if (strcmp(attribute, "members") == 0)
        append_members(txn_, store_, dir_, id_, base_url_, &text);
    else if (strcmp(attribute, "groups") == 0)
        append_groups(txn_, store_, dir_, id_, base_url_, &text);
    else
        return nullptr;
    return decode_record(text);
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
