// What is particular to Groups: displayName is unique, members live in the
// membership index (members.hpp).
#include "resources.hpp"
#include "util.hpp"

namespace scim {
namespace {

const char* const kGroup = "Group";

std::vector<UniqueEntry> group_unique_entries(const Directory& dir, const json_t* group) {
    std::vector<UniqueEntry> out;
    if (const json_t* name = json_object_get(group, "displayName"))
        out.push_back({unique_key(dir.name, kGroup, "displayName", ascii_lower(str_view(name))),
                       format("displayName \"%s\" is already taken", json_string_value(name))});
    if (const json_t* ext = json_object_get(group, "externalId"))
        out.push_back({unique_key(dir.name, kGroup, "externalId", str_view(ext)),
                       format("externalId \"%s\" already belongs to another group",
                              json_string_value(ext))});
    return out;
}

std::vector<std::string> no_index_entries(const Directory&, const json_t*) { return {}; }

const IndexedAttribute kGroupIndexed[] = {
    {"displayName", nullptr, false, true},
    {"externalId", nullptr, false, false},
};

}  // namespace

const ResourceKind kGroupKind = {kGroupResource, group_unique_entries, no_index_entries,
                                 kGroupIndexed, sizeof(kGroupIndexed) / sizeof(kGroupIndexed[0]),
                                 "members"};

}  // namespace scim
