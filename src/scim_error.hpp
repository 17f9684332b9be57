// SCIM-level failures: thrown inside the core, caught at the API border and
// turned into an RFC 7644 §3.12 error response.
#pragma once

#include <string>

namespace scim {

struct ScimError {
    int status;
    const char* scim_type;  // nullptr when the status has no scimType
    std::string detail;
};

[[noreturn]] inline void fail(int status, const char* scim_type, std::string detail) {
    throw ScimError{status, scim_type, std::move(detail)};
}

}  // namespace scim
