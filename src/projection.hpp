// "attributes" and "excludedAttributes" (RFC 7644 §3.4.2.5, §3.9).
#pragma once

#include <string_view>
#include <vector>

#include "filter.hpp"
#include "json.hpp"
#include "schema.hpp"

namespace scim {

class Projection {
public:
    // Comma-separated attribute paths, each optionally schema-qualified; a
    // bare extension URN names the whole extension. Names no schema of the
    // type defines are ignored (they could not be returned anyway).
    Projection(std::string_view attributes, std::string_view excluded, const ResourceType& rt);
    Projection() = default;

    bool empty() const { return !has_attributes_ && excluded_.empty(); }
    // Whether a top-level attribute of the core schema is returned.
    bool includes(const char* attribute) const;
    // Removes what is not to be returned; "schemas", "id" (returned
    // "always") survive every projection.
    void apply(json_t* doc) const;

private:
    struct Item {
        const Schema* extension = nullptr;     // inside this extension object
        const Attribute* attribute = nullptr;  // nullptr: the whole extension
        const Attribute* sub = nullptr;
    };
    static void parse(std::string_view list, const ResourceType& rt, std::vector<Item>* out);
    bool has_attributes_ = false;
    std::vector<Item> attributes_, excluded_;
};

}  // namespace scim
