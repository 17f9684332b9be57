// Ownership of jansson values: a Json owns one reference.
#pragma once

#include <jansson.h>

#include <memory>
#include <string>
#include <string_view>

namespace scim {

struct JsonDecref {
    void operator()(json_t* j) const { json_decref(j); }
};
using Json = std::unique_ptr<json_t, JsonDecref>;

// Wrap a new reference (json_object(), json_loadb(), ...).
inline Json take(json_t* j) { return Json(j); }
// Wrap a borrowed reference, taking one of our own.
inline Json borrow(json_t* j) { return Json(json_incref(j)); }

// Member of an object by a case-insensitive key (RFC 7643 §2.1): borrowed,
// or nullptr. The stored key is written to *key when found.
json_t* object_get_ci(const json_t* obj, std::string_view name, const char** key = nullptr);

// Serialise compactly; throws std::bad_alloc on failure.
std::string dump(const json_t* j);

inline std::string_view str_view(const json_t* s) {
    return std::string_view(json_string_value(s), json_string_length(s));
}

}  // namespace scim
