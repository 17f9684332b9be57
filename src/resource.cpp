#include "resource.hpp"

#include <cstring>
#include <vector>

#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

const char* type_name(Type t) {
    switch (t) {
        case Type::String: return "a string";
        case Type::Boolean: return "a boolean";
        case Type::Decimal: return "a number";
        case Type::Integer: return "an integer";
        case Type::DateTime: return "an RFC 3339 dateTime string";
        case Type::Binary: return "a base64 string";
        case Type::Reference: return "a URI string";
        case Type::Complex: return "an object";
    }
    return "a value";
}

[[noreturn]] void wrong_type(const std::string& path, const Attribute& a,
                             bool want_array = false) {
    fail(400, "invalidValue",
         format("attribute \"%s\" must be %s%s", path.c_str(),
                want_array ? "an array of values, each " : "", type_name(a.type)));
}

bool is_base64(std::string_view s) {
    size_t n = 0, pad = 0;
    for (char c : s) {
        if (c == '\r' || c == '\n') continue;
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/';
        if (c == '=') {
            pad++;
        } else if (!alpha || pad) {
            return false;
        }
        n++;
    }
    return n % 4 == 0 && pad <= 2;
}

// The canonical attribute of `key` in `schema`, refusing a key that names
// an attribute already seen under another case (RFC 7643 §2.1 makes
// "userName" and "USERNAME" the same attribute).
const Attribute* attribute_once(const Schema& schema, const char* key,
                                std::vector<const Attribute*>* seen) {
    const Attribute* a = find_attribute(schema, key);
    if (!a) return nullptr;
    for (const Attribute* s : *seen)
        if (s == a)
            fail(400, "invalidSyntax",
                 format("attribute \"%s\" appears twice (names are case-insensitive)", a->name));
    seen->push_back(a);
    return a;
}

}  // namespace

Json normalize_element(const json_t* v, const Attribute& a, const std::string& path) {
    if (json_is_null(v)) return nullptr;
    switch (a.type) {
        case Type::String:
        case Type::Reference:
            if (!json_is_string(v)) wrong_type(path, a);
            // An empty string is no value: the attribute is unassigned.
            if (json_string_length(v) == 0) return nullptr;
            return borrow(const_cast<json_t*>(v));
        case Type::Binary:
            if (!json_is_string(v) || !is_base64(str_view(v))) wrong_type(path, a);
            if (json_string_length(v) == 0) return nullptr;
            return borrow(const_cast<json_t*>(v));
        case Type::DateTime: {
            int64_t ms;
            if (!json_is_string(v) || !parse_datetime(str_view(v), &ms)) wrong_type(path, a);
            return borrow(const_cast<json_t*>(v));
        }
        case Type::Boolean:
            if (json_is_boolean(v)) return borrow(const_cast<json_t*>(v));
            if (json_is_string(v) && iequals(str_view(v), "true")) return take(json_true());
            if (json_is_string(v) && iequals(str_view(v), "false")) return take(json_false());
            wrong_type(path, a);
        case Type::Integer:
            if (!json_is_integer(v)) wrong_type(path, a);
            return borrow(const_cast<json_t*>(v));
        case Type::Decimal:
            if (!json_is_number(v)) wrong_type(path, a);
            return borrow(const_cast<json_t*>(v));
        case Type::Complex: {
            if (!json_is_object(v)) wrong_type(path, a);
            Json out = take(json_object());
            const char* key;
            json_t* sv;
            json_object_foreach(const_cast<json_t*>(v), key, sv) {
                const Attribute* sub = find_sub_attribute(a, key);
                if (!sub || sub->mutability == Mutability::ReadOnly) continue;
                if (json_object_get(out.get(), sub->name))
                    fail(400, "invalidSyntax",
                         format("attribute \"%s.%s\" appears twice (names are case-insensitive)",
                                path.c_str(), sub->name));
                Json n = normalize_value(sv, *sub, path + "." + sub->name);
                if (n) json_object_set_new(out.get(), sub->name, n.release());
            }
            if (json_object_size(out.get()) == 0) return nullptr;
            return out;
        }
    }
    return nullptr;
}

Json normalize_value(const json_t* v, const Attribute& a, const std::string& path) {
    if (a.mutability == Mutability::ReadOnly || a.mutability == Mutability::WriteOnly)
        return nullptr;
    if (!a.multi_valued) return normalize_element(v, a, path);
    if (json_is_null(v)) return nullptr;
    if (!json_is_array(v)) wrong_type(path, a, true);
    Json out = take(json_array());
    size_t i, primaries = 0;
    json_t* e;
    json_array_foreach(const_cast<json_t*>(v), i, e) {
        Json n = normalize_element(e, a, path + "[" + std::to_string(i) + "]");
        if (!n) continue;
        if (json_is_object(n.get()) && json_is_true(json_object_get(n.get(), "primary")))
            primaries++;
        json_array_append_new(out.get(), n.release());
    }
    if (primaries > 1)
        fail(400, "invalidValue",
             format("attribute \"%s\" has %zu values marked primary; at most one may be",
                    path.c_str(), primaries));
    // A group's members live in the membership index, not in the record:
    // like a PATCH, a POST or PUT may carry as many as the body allows (a
    // client that reads a large group back and PUTs it must not fail).
    if (json_array_size(out.get()) > kMaxValues && strcmp(a.name, "members") != 0)
        fail(400, "invalidValue", format("attribute \"%s\" has more than %zu values", path.c_str(),
                                         kMaxValues));
    if (json_array_size(out.get()) == 0) return nullptr;
    return out;
}

namespace {

void normalize_schema_attrs(const json_t* in, const Schema& schema, json_t* out,
                            const std::string& prefix) {
    const char* key;
    json_t* v;
    std::vector<const Attribute*> seen;
    json_object_foreach(const_cast<json_t*>(in), key, v) {
        const Attribute* a = attribute_once(schema, key, &seen);
        if (!a) continue;
        Json n = normalize_value(v, *a, prefix + a->name);
        if (n) json_object_set_new(out, a->name, n.release());
    }
}

void check_required(const json_t* obj, const Schema& schema, const std::string& prefix) {
    for (size_t i = 0; i < schema.count; i++) {
        const Attribute& a = schema.attributes[i];
        if (!a.required) continue;
        const json_t* v = obj ? json_object_get(obj, a.name) : nullptr;
        // A blank userName or displayName names nobody (and would make
        // one blank name unique across the directory).
        bool blank = json_is_string(v) &&
                     str_view(v).find_first_not_of(" \t\r\n") == std::string_view::npos;
        if (!v || blank)
            fail(400, "invalidValue",
                 format("attribute \"%s%s\" is required%s", prefix.c_str(), a.name,
                        v ? " and cannot be blank" : ""));
    }
}

}  // namespace

Json normalize_resource(const json_t* body, const ResourceType& rt) {
    if (!json_is_object(body))
        fail(400, "invalidSyntax", "the request body must be a JSON object");
    const json_t* schemas = object_get_ci(body, "schemas");
    bool has_core = false;
    if (json_is_array(schemas)) {
        size_t i;
        json_t* s;
        json_array_foreach(const_cast<json_t*>(schemas), i, s) {
            if (!json_is_string(s))
                fail(400, "invalidSyntax", "\"schemas\" must be an array of schema URNs");
            if (iequals(str_view(s), rt.schema->id)) has_core = true;
        }
    }
    if (!has_core)
        fail(400, "invalidSyntax",
             format("\"schemas\" must list \"%s\"", rt.schema->id));

    Json out = take(json_object());
    if (const json_t* ext_id = object_get_ci(body, "externalId")) {
        if (!json_is_null(ext_id)) {
            if (!json_is_string(ext_id))
                fail(400, "invalidValue", "attribute \"externalId\" must be a string");
            if (json_string_length(ext_id) > 0)
                json_object_set(out.get(), "externalId", const_cast<json_t*>(ext_id));
        }
    }
    normalize_schema_attrs(body, *rt.schema, out.get(), "");
    for (size_t i = 0; i < rt.extension_count; i++) {
        const Schema& ext = *rt.extensions[i];
        const json_t* ev = object_get_ci(body, ext.id);
        if (!ev || json_is_null(ev)) continue;
        if (!json_is_object(ev))
            fail(400, "invalidValue", format("\"%s\" must be an object", ext.id));
        Json eo = take(json_object());
        normalize_schema_attrs(ev, ext, eo.get(), std::string(ext.id) + ":");
        if (json_object_size(eo.get()) > 0) json_object_set_new(out.get(), ext.id, eo.release());
    }
    check_required(out.get(), *rt.schema, "");
    return out;
}

Json schemas_of(const json_t* resource, const ResourceType& rt) {
    Json arr = take(json_array());
    json_array_append_new(arr.get(), json_string(rt.schema->id));
    for (size_t i = 0; i < rt.extension_count; i++)
        if (json_object_get(resource, rt.extensions[i]->id))
            json_array_append_new(arr.get(), json_string(rt.extensions[i]->id));
    return arr;
}

}  // namespace scim
