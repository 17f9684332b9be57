// The PATCH engine (RFC 7644 §3.5.2) with the quirks real identity
// providers send: capitalised op names, "True"/"False" strings, no-path
// values whose keys are paths ("name.givenName"), a bare id for a complex
// attribute (Entra's manager), value-filter paths that match nothing yet.
#pragma once

#include <string>
#include <vector>

#include "filter.hpp"
#include "json.hpp"
#include "schema.hpp"

namespace scim {

// Changes to a group's members, in the order the operations asked for
// them; applied to the membership index, never to the record.
struct MemberOps {
    enum class Kind { Add, Remove, Clear };
    struct Step {
        Kind kind;
        std::vector<std::string> ids;
    };
    std::vector<Step> steps;
};

// Applies a PatchOp request to `doc` (a decoded record) and returns the
// resource's attributes as normalize_resource() would for a PUT. All
// operations apply or none: the caller writes only what this returns.
// Operations on "members" go to *members (nullptr for users: then "members"
// is an unknown attribute); `derived` resolves member filters. Throws
// ScimError 400 (invalidSyntax, invalidPath, invalidValue, noTarget,
// mutability, invalidFilter) naming the failing operation.
Json apply_patch(const json_t* body, json_t* doc, const ResourceType& rt, MemberOps* members,
                 const DerivedAttributes* derived);

}  // namespace scim
