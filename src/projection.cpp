#include "projection.hpp"

#include <cstring>

#include "scim_error.hpp"
#include "util.hpp"

namespace scim {

void Projection::parse(std::string_view list, const ResourceType& rt, std::vector<Item>* out) {
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view one = trim(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (one.empty()) continue;
        Item item;
        if (const Schema* ext = find_extension(rt, one)) {
            item.extension = ext;
            out->push_back(item);
            continue;
        }
        AttrPath p = parse_attr_path(one, "invalidValue");
        try {
            bind_attr_path(p, rt, "invalidValue");
        } catch (const ScimError&) {
            continue;
        }
        item.extension = p.extension;
        item.attribute = p.attribute;
        item.sub = p.sub_attribute;
        out->push_back(item);
    }
}

Projection::Projection(std::string_view attributes, std::string_view excluded,
                       const ResourceType& rt) {
    parse(attributes, rt, &attributes_);
    // A list of only unknown names still asks for "only these".
    has_attributes_ = !attributes.empty();
    parse(excluded, rt, &excluded_);
}

bool Projection::includes(const char* attribute) const {
    if (has_attributes_) {
        for (const Item& i : attributes_)
            if (!i.extension && i.attribute && strcmp(i.attribute->name, attribute) == 0) return true;
        return false;
    }
    for (const Item& i : excluded_)
        if (!i.extension && i.attribute && !i.sub && strcmp(i.attribute->name, attribute) == 0)
            return false;
    return true;
}

static json_t* container_of(json_t* doc, const Schema* extension) {
    return extension ? json_object_get(doc, extension->id) : doc;
}

// Copies one requested item from `from` into `to`.
static void copy_item(json_t* to, json_t* from, const Schema* extension, const Attribute* a,
                      const Attribute* sub) {
    json_t* src = container_of(from, extension);
    if (!src) return;
    json_t* dst = to;
    if (extension) {
        dst = json_object_get(to, extension->id);
        if (!dst) {
            dst = json_object();
            json_object_set_new(to, extension->id, dst);
        }
        if (!a) {
            json_object_update(dst, src);
            return;
        }
    }
    json_t* v = json_object_get(src, a->name);
    if (!v) return;
    if (!sub) {
        json_object_set(dst, a->name, v);
        return;
    }
    if (json_is_array(v)) {
        json_t* have = json_object_get(dst, a->name);
        if (!json_is_array(have)) {
            // Several sub-attributes of one multi-valued attribute: start
            // from elements holding nothing and fill them in order.
            have = json_array();
            for (size_t i = 0; i < json_array_size(v); i++) json_array_append_new(have, json_object());
            json_object_set_new(dst, a->name, have);
        }
        size_t i;
        json_t* e;
        json_array_foreach(v, i, e) {
            json_t* sv = json_object_get(e, sub->name);
            json_t* target = json_array_get(have, i);
            if (sv && json_is_object(target)) json_object_set(target, sub->name, sv);
        }
    } else if (json_is_object(v)) {
        json_t* have = json_object_get(dst, a->name);
        if (!json_is_object(have)) {
            have = json_object();
            json_object_set_new(dst, a->name, have);
        }
        if (json_t* sv = json_object_get(v, sub->name)) json_object_set(have, sub->name, sv);
    }
}

static void drop_empty(json_t* doc) {
    const char* key;
    json_t* v;
    void* tmp;
    json_object_foreach_safe(doc, tmp, key, v) {
        if (json_is_object(v)) drop_empty(v);
        if (json_is_array(v)) {
            size_t i = json_array_size(v);
            while (i-- > 0) {
                json_t* e = json_array_get(v, i);
                if (json_is_object(e) && json_object_size(e) == 0) json_array_remove(v, i);
            }
        }
        if ((json_is_object(v) && json_object_size(v) == 0) ||
            (json_is_array(v) && json_array_size(v) == 0))
            json_object_del(doc, key);
    }
}

void Projection::apply(json_t* doc) const {
    if (has_attributes_) {
        Json kept = take(json_object());
        for (const char* always : {"schemas", "id"})
            if (json_t* v = json_object_get(doc, always)) json_object_set(kept.get(), always, v);
        for (const Item& i : attributes_) {
            if (i.attribute && (i.attribute->returned == Returned::Never)) continue;
            copy_item(kept.get(), doc, i.extension, i.attribute, i.sub);
        }
        json_object_clear(doc);
        json_object_update(doc, kept.get());
    }
    for (const Item& i : excluded_) {
        json_t* c = container_of(doc, i.extension);
        if (!c) continue;
        if (!i.attribute) {
            json_object_del(doc, i.extension->id);
            continue;
        }
        if (i.attribute->returned == Returned::Always) continue;
        if (!i.sub) {
            json_object_del(c, i.attribute->name);
            continue;
        }
        json_t* v = json_object_get(c, i.attribute->name);
        if (json_is_array(v)) {
            size_t n;
            json_t* e;
            json_array_foreach(v, n, e) json_object_del(e, i.sub->name);
        } else if (json_is_object(v)) {
            json_object_del(v, i.sub->name);
        }
    }
    drop_empty(doc);
}

}  // namespace scim
