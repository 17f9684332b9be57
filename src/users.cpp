// What is particular to Users: their unique and indexed attributes, and the
// primary e-mail that links a SAML login to a user.
#include "users.hpp"

#include "resources.hpp"
#include "util.hpp"

#include <algorithm>

namespace scim {
namespace {

const char* const kUser = "User";

std::string email_key(const Directory& dir, std::string_view email) {
    return unique_key(dir.name, kUser, "primaryEmail", ascii_lower(email));
}

// userName (case-insensitively, RFC 7643 §4.1.1), externalId (the IdP's
// stable key: one user per externalId) and the primary e-mail
// (case-insensitively: it links a SAML login to the user, so two users
// sharing one would make a login ambiguous).
std::vector<UniqueEntry> user_unique_entries(const Directory& dir, const json_t* user) {
    std::vector<UniqueEntry> out;
    if (const json_t* un = json_object_get(user, "userName"))
        out.push_back({unique_key(dir.name, kUser, "userName", ascii_lower(str_view(un))),
                       format("userName \"%s\" is already taken", json_string_value(un))});
    if (const json_t* ext = json_object_get(user, "externalId"))
        out.push_back({unique_key(dir.name, kUser, "externalId", str_view(ext)),
                       format("externalId \"%s\" already belongs to another user",
                              json_string_value(ext))});
    std::string email = primary_email(user);
    if (!email.empty())
        out.push_back({email_key(dir, email),
                       format("primary e-mail \"%s\" already belongs to another user",
                              email.c_str())});
    return out;
}

// Every e-mail address, folded, so emails.value eq "..." is a lookup.
std::vector<std::string> user_index_entries(const Directory& dir, const json_t* user) {
    std::vector<std::string> out;
    size_t i;
    json_t* e;
    json_array_foreach(json_object_get(user, "emails"), i, e) {
        const json_t* v = json_object_get(e, "value");
        if (!json_is_string(v)) continue;
        std::string key = unique_key(dir.name, kUser, "emails.value", ascii_lower(str_view(v)));
        if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
    }
    return out;
}

const IndexedAttribute kUserIndexed[] = {
    {"userName", nullptr, false, true},
    {"externalId", nullptr, false, false},
    {"emails", "value", true, true},
};

}  // namespace

const ResourceKind kUserKind = {kUserResource, user_unique_entries, user_index_entries,
                                kUserIndexed, sizeof(kUserIndexed) / sizeof(kUserIndexed[0]),
                                "groups"};

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
    return id.size() <= 128 && txn.get(store.resources, resource_key(dir.name, kUser, id), record);
}

NewUser insert_user(Txn& txn, const Store& store, const Directory& dir, const json_t* user) {
    NewRecord r = insert_record(txn, store, dir, kUserKind, user);
    return NewUser{std::move(r.id), std::move(r.record)};
}

}  // namespace scim
