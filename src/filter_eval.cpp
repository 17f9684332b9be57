// Binding filters to a schema and evaluating them against stored resources.
#include <cstring>
#include <vector>

#include "filter.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

[[noreturn]] void invalid(const AttrPath& p, const std::string& what,
                          const char* scim_type = "invalidFilter") {
    if (strcmp(scim_type, "invalidFilter") == 0)
        fail(400, scim_type, format("invalid filter: %s at position %zu", what.c_str(), p.position));
    fail(400, scim_type, what);
}

std::string written(const AttrPath& p) {
    std::string s = p.urn.empty() ? p.attr : p.urn + ":" + p.attr;
    if (!p.sub.empty()) s += "." + p.sub;
    return s;
}

// The attribute a comparison actually reads: the sub-attribute when one is
// named, the "value" sub-attribute of a multi-valued complex attribute
// (RFC 7644 §3.4.2.2: "emails co ..." compares the values), else the attribute.
const Attribute* target(const AttrPath& p) {
    if (p.sub_attribute || p.attribute == nullptr) return p.sub_attribute;
    if (p.attribute->type == Type::Complex) return find_sub_attribute(*p.attribute, "value");
    return p.attribute;
}

void check_comparison(const Filter& f) {
    if (f.path.unknown) return;
    const Attribute* t = target(f.path);
    // meta.location is not stored: it is written from the base URL of the
    // request, so a comparison would silently match nothing.
    if (t && f.path.attribute && iequals(f.path.attribute->name, "meta") && iequals(t->name, "location"))
        invalid(f.path, "\"meta.location\" cannot be filtered (it is built from the request's "
                        "base URL): filter on \"id\"");
    // "pr" applies to complex attributes too: present when not empty.
    if (f.op == FilterOp::Pr) return;
    if (t == nullptr || t->type == Type::Complex)
        invalid(f.path, "\"" + written(f.path) + "\" is complex: compare one of its sub-attributes");
    const json_t* v = f.value.get();
    bool ordering = f.op == FilterOp::Gt || f.op == FilterOp::Ge || f.op == FilterOp::Lt ||
                    f.op == FilterOp::Le;
    bool substring = f.op == FilterOp::Co || f.op == FilterOp::Sw || f.op == FilterOp::Ew;
    if (json_is_null(v)) {
        if (f.op != FilterOp::Eq && f.op != FilterOp::Ne)
            invalid(f.path, "null can only be compared with eq or ne");
        return;
    }
    switch (t->type) {
        case Type::Boolean:
            if (ordering || substring)
                invalid(f.path, "\"" + written(f.path) + "\" is a boolean: use eq, ne or pr");
            if (!json_is_boolean(v))
                invalid(f.path, "\"" + written(f.path) + "\" is a boolean: compare it with true or false");
            return;
        case Type::Binary:
            if (ordering) invalid(f.path, "\"" + written(f.path) + "\" is binary: it has no order");
            [[fallthrough]];
        case Type::String:
        case Type::Reference:
            if (!json_is_string(v))
                invalid(f.path, "\"" + written(f.path) + "\" is a string: compare it with a quoted value");
            return;
        case Type::DateTime: {
            int64_t ms;
            if (!json_is_string(v) || (!substring && !parse_datetime(str_view(v), &ms)))
                invalid(f.path, "\"" + written(f.path) +
                                    "\" is a dateTime: compare it with a quoted RFC 3339 time");
            return;
        }
        case Type::Integer:
        case Type::Decimal:
            if (!json_is_number(v) || substring)
                invalid(f.path, "\"" + written(f.path) + "\" is a number: compare it with a number");
            return;
        case Type::Complex:
            break;
    }
}

void bind_path(AttrPath& p, const ResourceType& rt, const Attribute* parent,
               const char* scim_type = "invalidFilter") {
    if (parent) {
        if (!p.urn.empty() || !p.sub.empty())
            invalid(p, "inside [...] name a sub-attribute of \"" + std::string(parent->name) + "\"",
                    scim_type);
        p.sub_attribute = find_sub_attribute(*parent, p.attr);
        if (!p.sub_attribute)
            invalid(p, "\"" + std::string(parent->name) + "\" has no sub-attribute \"" + p.attr + "\"",
                    scim_type);
        return;
    }
    const Schema* schema = rt.schema;
    if (!p.urn.empty() && !iequals(p.urn, rt.schema->id)) {
        p.extension = find_extension(rt, p.urn);
        if (!p.extension) invalid(p, "unknown schema \"" + p.urn + "\"", scim_type);
        schema = p.extension;
    }
    p.attribute = find_attribute(*schema, p.attr);
    if (!p.attribute && !p.extension) p.attribute = find_common_attribute(p.attr);
    if (!p.attribute) invalid(p, "unknown attribute \"" + written(p) + "\"", scim_type);
    if (!p.sub.empty()) {
        p.sub_attribute = find_sub_attribute(*p.attribute, p.sub);
        if (!p.sub_attribute) invalid(p, "unknown attribute \"" + written(p) + "\"", scim_type);
    }
}

// Binds a path; with `lenient`, an attribute the type does not define is
// marked unknown instead of failing.
bool bind_or_mark(AttrPath& p, const ResourceType& rt, const Attribute* parent, bool lenient) {
    if (!lenient) {
        bind_path(p, rt, parent);
        return true;
    }
    try {
        bind_path(p, rt, parent);
        return true;
    } catch (const ScimError&) {
        p.unknown = true;
        return false;
    }
}

void bind(Filter& f, const ResourceType& rt, const Attribute* parent, bool lenient) {
    switch (f.kind) {
        case Filter::Kind::And:
        case Filter::Kind::Or:
            bind(*f.left, rt, parent, lenient);
            bind(*f.right, rt, parent, lenient);
            return;
        case Filter::Kind::Not:
            bind(*f.left, rt, parent, lenient);
            return;
        case Filter::Kind::ValuePath:
            if (!bind_or_mark(f.path, rt, nullptr, lenient)) return;
            if (f.path.attribute->type != Type::Complex)
                invalid(f.path, "\"" + written(f.path) + "\" has no sub-attributes to filter on");
            bind(*f.left, rt, f.path.attribute, false);
            return;
        case Filter::Kind::Compare:
            if (bind_or_mark(f.path, rt, parent, lenient)) check_comparison(f);
            return;
    }
}

// The attribute a path names in a resource: stored, or derived when the
// record does not hold it. *holder keeps a derived value alive.
const json_t* attribute_value(const AttrPath& p, const json_t* scope, const DerivedAttributes* d,
                              Json* holder) {
    const json_t* container = p.extension ? json_object_get(scope, p.extension->id) : scope;
    if (!container) return nullptr;
    const json_t* v = json_object_get(container, p.attribute->name);
    if (!v && d && !p.extension) {
        *holder = d->values(p.attribute->name);
        v = holder->get();
    }
    return v;
}

// A derived attribute's "value" compared for equality with a string: asked
// of the index rather than listed.
bool derived_value_eq(const AttrPath& p, const json_t* scope, const DerivedAttributes* d,
                      const Filter& cmp) {
    return d && !p.extension && cmp.op == FilterOp::Eq && json_is_string(cmp.value.get()) &&
           !json_object_get(scope, p.attribute->name);
}

// RFC 7643 §2.4: a value without "primary" is not the primary one, so a
// comparison with true or false reads an absent "primary" as false.
const json_t* sub_value(const json_t* element, const char* sub, bool absent_primary_is_false) {
    const json_t* v = json_object_get(element, sub);
    if (!v && absent_primary_is_false && json_is_object(element) && strcmp(sub, "primary") == 0)
        return json_false();
    return v;
}

// The values a path selects in one scope (a resource, or one element inside [...]).
void collect(const AttrPath& p, const json_t* scope, const DerivedAttributes* d,
             std::vector<const json_t*>* out, Json* holder, bool absent_primary_is_false) {
    if (p.attribute == nullptr) {  // relative to an element inside [...]
        if (const json_t* v = sub_value(scope, p.sub_attribute->name, absent_primary_is_false))
            out->push_back(v);
        return;
    }
    const json_t* v = attribute_value(p, scope, d, holder);
    if (!v) return;
    const char* sub = p.sub_attribute ? p.sub_attribute->name
                      : p.attribute->type == Type::Complex ? "value"
                                                           : nullptr;
    auto add = [&](const json_t* e) {
        if (sub) {
            if (const json_t* s = sub_value(e, sub, absent_primary_is_false)) out->push_back(s);
        } else {
            out->push_back(e);
        }
    };
    if (json_is_array(v)) {
        size_t i;
        json_t* e;
        json_array_foreach(v, i, e) add(e);
    } else {
        add(v);
    }
}

bool present(const json_t* v) {
    if (json_is_null(v)) return false;
    if (json_is_string(v)) return json_string_length(v) > 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_object(v)) return json_object_size(v) > 0;
    return true;
}

template <typename T>
bool ordered(FilterOp op, const T& a, const T& b) {
    switch (op) {
        case FilterOp::Eq: return a == b;
        case FilterOp::Gt: return a > b;
        case FilterOp::Ge: return a >= b;
        case FilterOp::Lt: return a < b;
        case FilterOp::Le: return a <= b;
        default: return false;
    }
}

bool compare_one(const json_t* v, FilterOp op, const json_t* lit, const Attribute& t) {
    switch (t.type) {
        case Type::Boolean:
            return json_is_boolean(v) && json_is_true(v) == json_is_true(lit);
        case Type::Integer:
        case Type::Decimal:
            return json_is_number(v) && ordered(op, json_number_value(v), json_number_value(lit));
        case Type::DateTime:
            if (op != FilterOp::Co && op != FilterOp::Sw && op != FilterOp::Ew) {
                int64_t a, b;
                return json_is_string(v) && parse_datetime(str_view(v), &a) &&
                       parse_datetime(str_view(lit), &b) && ordered(op, a, b);
            }
            [[fallthrough]];
        default: {
            if (!json_is_string(v)) return false;
            std::string a(str_view(v)), b(str_view(lit));
            if (!t.case_exact) {
                a = ascii_lower(a);
                b = ascii_lower(b);
            }
            switch (op) {
                case FilterOp::Co: return a.find(b) != std::string::npos;
                case FilterOp::Sw: return a.compare(0, b.size(), b) == 0;
                case FilterOp::Ew:
                    return a.size() >= b.size() && a.compare(a.size() - b.size(), b.size(), b) == 0;
                default: return ordered(op, a, b);
            }
        }
    }
}

bool matches(const Filter& f, const json_t* scope, const DerivedAttributes* d) {
    switch (f.kind) {
        case Filter::Kind::And: return matches(*f.left, scope, d) && matches(*f.right, scope, d);
        case Filter::Kind::Or: return matches(*f.left, scope, d) || matches(*f.right, scope, d);
        case Filter::Kind::Not: return !matches(*f.left, scope, d);
        case Filter::Kind::ValuePath: {
            if (f.path.unknown) return false;
            const Filter& inner = *f.left;
            if (inner.kind == Filter::Kind::Compare &&
                strcmp(inner.path.sub_attribute->name, "value") == 0 &&
                derived_value_eq(f.path, scope, d, inner))
                return d->has_value(f.path.attribute->name, str_view(inner.value.get()));
            Json holder;
            const json_t* v = attribute_value(f.path, scope, d, &holder);
            if (!v) return false;
            // Elements are evaluated without derived attributes: they hold
            // their sub-attributes themselves.
            if (!json_is_array(v)) return matches(inner, v, nullptr);
            size_t i;
            json_t* e;
            json_array_foreach(v, i, e) if (matches(inner, e, nullptr)) return true;
            return false;
        }
        case Filter::Kind::Compare:
            break;
    }
    // An attribute the resource type does not have is unassigned.
    if (f.path.unknown) return f.op == FilterOp::Ne || (f.op == FilterOp::Eq && json_is_null(f.value.get()));
    if (f.op == FilterOp::Pr && f.path.attribute && f.path.attribute->type == Type::Complex &&
        !f.path.sub_attribute) {
        Json holder;
        const json_t* v = attribute_value(f.path, scope, d, &holder);
        return v && present(v);
    }
    if (f.path.attribute && f.path.attribute->type == Type::Complex &&
        strcmp(target(f.path)->name, "value") == 0 && derived_value_eq(f.path, scope, d, f))
        return d->has_value(f.path.attribute->name, str_view(f.value.get()));
    std::vector<const json_t*> values;
    Json holder;
    collect(f.path, scope, d, &values, &holder,
            f.op != FilterOp::Pr && json_is_boolean(f.value.get()));
    const Attribute& t = *target(f.path);
    if (f.op == FilterOp::Pr) {
        for (const json_t* v : values)
            if (present(v)) return true;
        return false;
    }
    const json_t* lit = f.value.get();
    if (json_is_null(lit)) {
        bool any = false;
        for (const json_t* v : values) any = any || present(v);
        return f.op == FilterOp::Eq ? !any : any;
    }
    // A multi-valued attribute matches when any of its values does
    // (RFC 7644 §3.4.2.2), "ne" included; an unassigned one is "ne" all.
    if (f.op == FilterOp::Ne) {
        if (values.empty()) return true;
        for (const json_t* v : values)
            if (!compare_one(v, FilterOp::Eq, lit, t)) return true;
        return false;
    }
    bool any = false;
    for (const json_t* v : values) any = any || compare_one(v, f.op, lit, t);
    return any;
}

}  // namespace

void bind_filter(Filter& filter, const ResourceType& rt) { bind(filter, rt, nullptr, false); }

void bind_filter_lenient(Filter& filter, const ResourceType& rt) { bind(filter, rt, nullptr, true); }

void bind_value_filter(Filter& filter, const ResourceType& rt, const Attribute& parent) {
    bind(filter, rt, &parent, false);
}

void bind_attr_path(AttrPath& path, const ResourceType& rt, const char* scim_type) {
    bind_path(path, rt, nullptr, scim_type);
}

bool filter_matches(const Filter& filter, const json_t* resource, const DerivedAttributes* derived) {
    return matches(filter, resource, derived);
}

}  // namespace scim
