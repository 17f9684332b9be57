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

// Resolves every attribute path against a resource type and checks that each
// comparison makes sense for the attribute's type (RFC 7644: gt/lt on a
// boolean or binary attribute is invalidFilter). Throws ScimError.
void bind_filter(Filter& filter, const ResourceType& rt);

// Evaluates a bound filter against a stored resource (canonical names).
bool filter_matches(const Filter& filter, const json_t* resource);

}  // namespace scim
