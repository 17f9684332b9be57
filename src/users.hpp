// Users as other parts of the core see them (the SAML login links to a user
// by e-mail; the gateway reads a user's state).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "directory.hpp"
#include "json.hpp"
#include "store_lmdb.hpp"

namespace scim {

// The e-mail that identifies a user at login: the value of the email marked
// primary, else of the first "work" email, else of the first email; empty
// when the user has none. Two users of a directory never share it
// (compared case-insensitively).
std::string primary_email(const json_t* user);

// The id of the user whose primary e-mail equals `email` case-insensitively.
std::optional<std::string> find_user_by_email(Txn& txn, const Store& store, const Directory& dir,
                                              std::string_view email);

// A user's stored record (valid until the transaction ends); false if absent.
bool get_user_record(Txn& txn, const Store& store, const Directory& dir, std::string_view id,
                     std::string_view* record);

struct NewUser {
    std::string id;
    std::string record;
};

// Adds a user in an open write transaction (the caller commits): assigns
// the id and meta, claims the unique index entries. `user` is what
// normalize_resource() returned. Throws ScimError 409 (uniqueness) or
// StoreError.
NewUser insert_user(Txn& txn, const Store& store, const Directory& dir, const json_t* user);

}  // namespace scim
