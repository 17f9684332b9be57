#include "json.hpp"

#include <new>

#include "util.hpp"

namespace scim {

json_t* object_get_ci(const json_t* obj, std::string_view name, const char** key) {
    const char* k;
    json_t* v;
    // json_object_foreach needs a non-const object; iteration does not modify it.
    json_t* o = const_cast<json_t*>(obj);
    json_object_foreach(o, k, v) {
        if (iequals(k, name)) {
            if (key) *key = k;
            return v;
        }
    }
    return nullptr;
}

std::string dump(const json_t* j) {
    size_t n = json_dumpb(j, nullptr, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    std::string out(n, '\0');
    if (n == 0 || json_dumpb(j, &out[0], n, JSON_COMPACT | JSON_ENCODE_ANY) != n)
        throw std::bad_alloc();
    return out;
}

}  // namespace scim
