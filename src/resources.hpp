// Users and Groups share one implementation of create, read, replace,
// patch, delete and list; a ResourceKind says what differs between them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "directory.hpp"
#include "json.hpp"
#include "query.hpp"
#include "schema.hpp"
#include "store_lmdb.hpp"

namespace scim {

struct Context;

struct UniqueEntry {
    std::string key;    // in the unique database
    std::string taken;  // the 409 detail when another resource holds it
};

// An attribute whose equality filter an index answers.
struct IndexedAttribute {
    const char* attribute;
    const char* sub;   // "value" of emails.value, or nullptr
    bool multi;        // the index database (several ids per value) or the unique one
    bool fold_case;    // values are indexed lower-cased (caseExact=false)
};

struct ResourceKind {
    const ResourceType& type;
    // Entries in the unique database a resource holds.
    std::vector<UniqueEntry> (*unique_entries)(const Directory& dir, const json_t* doc);
    // Keys in the index database a resource's id is stored under.
    std::vector<std::string> (*index_entries)(const Directory& dir, const json_t* doc);
    const IndexedAttribute* indexed;
    size_t indexed_count;
    // The attribute that lives in the membership index rather than in the
    // record: "groups" of a User, "members" of a Group.
    const char* derived;
};

extern const ResourceKind kUserKind;
extern const ResourceKind kGroupKind;

// Endpoint handlers; `q` carries filter, paging, sorting and projection.
void resource_create(Context& ctx, const ResourceKind& k);
void resource_get(Context& ctx, const ResourceKind& k, std::string_view id);
void resource_replace(Context& ctx, const ResourceKind& k, std::string_view id);
void resource_patch(Context& ctx, const ResourceKind& k, std::string_view id);
void resource_delete(Context& ctx, const ResourceKind& k, std::string_view id);
void resource_list(Context& ctx, const std::vector<const ResourceKind*>& kinds,
                   const ListQuery& q);

// Writes a new resource in an open write transaction (the caller commits):
// assigns id and meta, claims unique and index entries. `attrs` is what
// normalize_resource() returned, without members. Throws ScimError 409.
struct NewRecord {
    std::string id;
    std::string record;
};
NewRecord insert_record(Txn& txn, const Store& store, const Directory& dir, const ResourceKind& k,
                        const json_t* attrs);

// Rebuilds every unique and index entry from the records (store upgrades).
void reindex_all(Txn& txn, Store& store);

// The weak entity tag for a write made by `txn`.
std::string new_version(const Txn& txn);

// Rewrites a resource's meta.lastModified and meta.version (a group whose
// membership changed); false when it does not exist.
bool touch_record(Txn& txn, const Store& store, const Directory& dir, const ResourceKind& k,
                  std::string_view id);

}  // namespace scim
