// Group membership, kept in the members database in both directions, so a
// change costs the change and a user's groups are one prefix scan away.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "directory.hpp"
#include "filter.hpp"
#include "json.hpp"
#include "store_lmdb.hpp"

namespace scim {

// "User" or "Group" for an existing resource id of the directory, else "".
std::string kind_of(Txn& txn, const Store& store, const Directory& dir, std::string_view id);

// Adds a member (a user or a group of the directory); false when it already
// was one. Throws ScimError 400 for an id that is neither, or the group itself.
bool add_member(Txn& txn, const Store& store, const Directory& dir, std::string_view group,
                std::string_view member);
// Removes a member; false when it was not one.
bool remove_member(Txn& txn, const Store& store, const Directory& dir, std::string_view group,
                   std::string_view member);
std::vector<std::string> member_ids(Txn& txn, const Store& store, const Directory& dir,
                                    std::string_view group);
std::vector<std::string> group_ids_of(Txn& txn, const Store& store, const Directory& dir,
                                      std::string_view member);

// A group's members or a user's groups as the client sees them, appended
// as a JSON array to *out (the read path splices it into the record);
// returns the number of values.
size_t append_members(Txn& txn, const Store& store, const Directory& dir, std::string_view group,
                      std::string_view base_url, std::string* out);
size_t append_groups(Txn& txn, const Store& store, const Directory& dir, std::string_view member,
                     std::string_view base_url, std::string* out);

// The derived attributes of one resource, for filter evaluation.
class MembershipView : public DerivedAttributes {
public:
    MembershipView(Txn& txn, const Store& store, const Directory& dir, std::string_view id,
                   std::string_view base_url)
        : txn_(txn), store_(store), dir_(dir), id_(id), base_url_(base_url) {}
    Json values(const char* attribute) const override;
    bool has_value(const char* attribute, std::string_view id) const override;

private:
    Txn& txn_;
    const Store& store_;
    const Directory& dir_;
    std::string id_;
    std::string_view base_url_;
};

}  // namespace scim
