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

// A group's members as a PATCH changes them: applied as each operation
// runs (inside the caller's transaction, so a later failure undoes them),
// so that later operations, and their member filters, see earlier ones.
struct MemberSink {
    virtual ~MemberSink() = default;
    virtual void add(const std::vector<std::string>& ids) = 0;
    virtual void remove(const std::vector<std::string>& ids) = 0;
    virtual void clear() = 0;
};

// At most this many operations in one PATCH (400 invalidValue).
constexpr size_t kMaxPatchOperations = 1000;

// Applies a PatchOp request to `doc` (a decoded record) and returns the
// resource's attributes as normalize_resource() would for a PUT. Values
// are validated (and "True"-style strings coerced) as each operation
// applies them. Operations on "members" go to *members (nullptr for users:
// then "members" is an unknown attribute); `derived` lists the members for
// member filters. A path in a schema this server does not know (an IdP's
// custom extension) changes nothing, as unknown attributes in a POST do.
// Throws ScimError 400 (invalidSyntax, invalidPath, invalidValue, noTarget,
// mutability, invalidFilter) naming the failing operation.
Json apply_patch(const json_t* body, json_t* doc, const ResourceType& rt, MemberSink* members,
                 const DerivedAttributes* derived);

}  // namespace scim
