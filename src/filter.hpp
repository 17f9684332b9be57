// SCIM filters (RFC 7644 §3.4.2.2): the parsed tree, the parser and the evaluator.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "json.hpp"
#include "schema.hpp"

namespace scim {

enum class FilterOp { Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le, Pr };

// An attribute path as written: [urn ":"] attr ["." sub].
struct AttrPath {
    std::string urn;
    std::string attr;
    std::string sub;
    size_t position = 0;  // 1-based, for error messages
    // Bound leniently to a type that lacks the attribute (a search across
    // resource types): the attribute is unassigned for that type.
    bool unknown = false;
    // Filled by bind_filter():
    const Schema* extension = nullptr;  // the attribute lives in an extension object
    const Attribute* attribute = nullptr;
    const Attribute* sub_attribute = nullptr;
};

struct Filter {
    enum class Kind { Compare, And, Or, Not, ValuePath };
    Kind kind;
    AttrPath path;           // Compare, ValuePath
    FilterOp op = FilterOp::Eq;
    Json value;              // Compare (not Pr): string, number, true, false or null
    std::unique_ptr<Filter> left, right;  // And/Or: both; Not, ValuePath: left
};

// Parses a filter; throws ScimError 400 invalidFilter naming the position.
std::unique_ptr<Filter> parse_filter(std::string_view text);

// Parses one attribute path ([urn ":"] attr ["." sub]) as it appears in
// "attributes", "sortBy" and PATCH paths; throws ScimError 400 with
// `scim_type` (invalidPath, invalidValue, ...).
AttrPath parse_attr_path(std::string_view text, const char* scim_type);

// Resolves every attribute path against a resource type and checks that each
// comparison makes sense for the attribute's type (RFC 7644: gt/lt on a
// boolean or binary attribute is invalidFilter). Throws ScimError.
void bind_filter(Filter& filter, const ResourceType& rt);
// The same, but an attribute the type does not define binds as unknown
// (always unassigned) instead of failing; for /.search across types.
void bind_filter_lenient(Filter& filter, const ResourceType& rt);
// The same for the filter inside "attr[...]", relative to `parent`.
void bind_value_filter(Filter& filter, const ResourceType& rt, const Attribute& parent);
// Resolves an attribute path alone; throws ScimError 400 `scim_type`
// naming the unknown attribute.
void bind_attr_path(AttrPath& path, const ResourceType& rt, const char* scim_type);

// Attributes a record does not hold but a filter may name: a group's
// "members" and a user's "groups" live in the membership index. The
// evaluator asks for them only when a filter names them.
struct DerivedAttributes {
    virtual ~DerivedAttributes() = default;
    // The attribute's values as the client would see them (a JSON array).
    virtual Json values(const char* attribute) const = 0;
    // Whether `id` is among the "value"s of the attribute: the common
    // members[value eq "..."] test, without listing a large group.
    virtual bool has_value(const char* attribute, std::string_view id) const = 0;
};

// Evaluates a bound filter against a stored resource (canonical names).
bool filter_matches(const Filter& filter, const json_t* resource,
                    const DerivedAttributes* derived = nullptr);

}  // namespace scim
