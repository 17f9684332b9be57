// Client-supplied resources: validation and normalisation against a schema.
#pragma once

#include "json.hpp"
#include "schema.hpp"

namespace scim {

// Validates a POST/PUT body against a resource type and returns a new object
// holding only what the client may write, under canonical attribute names:
//   - attribute names match case-insensitively (RFC 7643 §2.1); the same
//     attribute twice under two spellings is invalidSyntax;
//   - readOnly attributes (id, meta, groups, ...) are ignored, as are
//     attributes that no schema of the resource type defines;
//   - password (writeOnly) is accepted and discarded;
//   - null, "" and empty values mean "unassigned" and are dropped;
//   - booleans also accept the strings "true"/"false" in any case (Entra ID);
//   - a multi-valued attribute may mark at most one value primary;
//   - required attributes must be present.
// Extension attributes are kept under their schema URN. "schemas" is not
// copied: the caller sets it from what the result holds.
// Throws ScimError 400 (invalidSyntax / invalidValue) naming the attribute.
Json normalize_resource(const json_t* body, const ResourceType& rt);

// No multi-valued attribute holds more values than this (400 invalidValue).
constexpr size_t kMaxValues = 1000;

// The same rules for one attribute's value (an array for a multi-valued
// one), and for one element of a multi-valued attribute; `path` names it
// in errors. nullptr means unassigned.
Json normalize_value(const json_t* v, const Attribute& a, const std::string& path);
Json normalize_element(const json_t* v, const Attribute& a, const std::string& path);

// The "schemas" array of a normalised resource: the core schema first, then
// each extension the resource holds attributes of.
Json schemas_of(const json_t* resource, const ResourceType& rt);

}  // namespace scim
