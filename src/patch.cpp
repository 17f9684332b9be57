#include "patch.hpp"

#include <cstring>
#include <memory>

#include "resource.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

constexpr char kPatchOpUrn[] = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

enum class Op { Add, Replace, Remove };

const char* op_name(Op op) {
    return op == Op::Add ? "add" : op == Op::Replace ? "replace" : "remove";
}

// A resolved PATCH path: attr[filter].sub, each part optional but attr.
struct Target {
    AttrPath path;                   // attribute (and sub-attribute when no filter)
    std::unique_ptr<Filter> filter;  // value selection, bound to the attribute
    const Attribute* sub = nullptr;  // the sub-attribute addressed (with or without filter)
};

Target parse_target(std::string_view text, const ResourceType& rt) {
    Target t;
    size_t open = text.find('[');
    std::string_view attr_text = text.substr(0, open);
    if (open != std::string_view::npos) {
        size_t close = std::string_view::npos;
        bool quoted = false;
        for (size_t i = open + 1; i < text.size(); i++) {
            if (text[i] == '\\' && quoted) {
                i++;
            } else if (text[i] == '"') {
                quoted = !quoted;
            } else if (text[i] == ']' && !quoted) {
                close = i;
                break;
            }
        }
        if (close == std::string_view::npos)
            fail(400, "invalidPath", format("path \"%.*s\" has no \"]\" for its \"[\"",
                                            static_cast<int>(text.size()), text.data()));
        std::string_view rest = text.substr(close + 1);
        t.filter = parse_filter(text.substr(open + 1, close - open - 1));
        if (!rest.empty()) {
            if (rest.front() != '.' || rest.size() == 1)
                fail(400, "invalidPath",
                     format("path \"%.*s\": expected \".subAttribute\" after \"]\"",
                            static_cast<int>(text.size()), text.data()));
            t.path.sub = std::string(rest.substr(1));
        }
    }
    AttrPath parsed = parse_attr_path(attr_text, "invalidPath");
    if (t.filter && !parsed.sub.empty())
        fail(400, "invalidPath", format("path \"%.*s\": a filter follows the attribute, not a sub-attribute",
                                        static_cast<int>(text.size()), text.data()));
    if (!t.path.sub.empty()) parsed.sub = t.path.sub;
    t.path = std::move(parsed);
    bind_attr_path(t.path, rt, "invalidPath");
    t.sub = t.path.sub_attribute;
    if (t.filter) {
        if (t.path.attribute->type != Type::Complex || !t.path.attribute->multi_valued)
            fail(400, "invalidPath",
                 format("\"%s\" is not a multi-valued complex attribute: it takes no filter",
                        t.path.attribute->name));
        bind_value_filter(*t.filter, rt, *t.path.attribute);
    }
    return t;
}

std::string written(const Target& t) {
    std::string s = t.path.urn.empty() ? t.path.attr : t.path.urn + ":" + t.path.attr;
    if (t.filter) s += "[...]";
    if (t.sub) s += std::string(".") + t.sub->name;
    return s;
}

// Entra sends a bare id for a complex attribute that has a "value"
// sub-attribute (enterprise manager); treat it as {"value": ...}.
Json as_element(const Attribute& a, const json_t* v) {
    if (a.type == Type::Complex && !json_is_object(v) && !json_is_array(v) && !json_is_null(v) &&
        find_sub_attribute(a, "value")) {
        Json o = take(json_object());
        json_object_set(o.get(), "value", const_cast<json_t*>(v));
        return o;
    }
    return borrow(const_cast<json_t*>(v));
}

// The values of a multi-valued attribute given as an array or a single value.
std::vector<Json> as_elements(const Attribute& a, const json_t* v) {
    std::vector<Json> out;
    if (json_is_array(v)) {
        size_t i;
        json_t* e;
        json_array_foreach(v, i, e) out.push_back(as_element(a, e));
    } else if (!json_is_null(v)) {
        out.push_back(as_element(a, v));
    }
    return out;
}

// Keys of `value` match sub-attributes case-insensitively; canonical names
// are what the record holds.
void merge_object(json_t* into, const json_t* value, const Attribute& a) {
    const char* key;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(value), key, v) {
        const Attribute* sub = find_sub_attribute(a, key);
        json_object_set(into, sub ? sub->name : key, v);
    }
}

// RFC 7644 §3.5.2: a value written with primary=true takes "primary" from
// every other value.
void keep_one_primary(json_t* array, const json_t* winner) {
    if (!json_is_true(json_object_get(winner, "primary"))) return;
    size_t i;
    json_t* e;
    json_array_foreach(array, i, e) if (e != winner) json_object_del(e, "primary");
}

// The element a value filter of only "eq" comparisons joined by "and"
// describes, for a write that matched nothing (the IdP sets the work e-mail
// of a user who has none): false when the filter says more than that.
bool element_from_filter(const Filter& f, json_t* element) {
    switch (f.kind) {
        case Filter::Kind::And:
            return element_from_filter(*f.left, element) && element_from_filter(*f.right, element);
        case Filter::Kind::Compare:
            if (f.op != FilterOp::Eq || json_is_null(f.value.get())) return false;
            json_object_set(element, f.path.sub_attribute->name, f.value.get());
            return true;
        default:
            return false;
    }
}

class Engine {
public:
    Engine(json_t* doc, const ResourceType& rt, MemberOps* members, const DerivedAttributes* derived)
        : doc_(doc), rt_(rt), members_(members), derived_(derived) {}

    void run(Op op, const json_t* path, const json_t* value) {
        if (!path) return no_path(op, value);
        apply(op, parse_target(str_view(path), rt_), value);
    }

private:
    json_t* doc_;
    const ResourceType& rt_;
    MemberOps* members_;
    const DerivedAttributes* derived_;

    bool is_members(const Target& t) const {
        return members_ && !t.path.extension && strcmp(t.path.attribute->name, "members") == 0;
    }

    // No path: the value is an object whose keys are attribute paths (or
    // an extension URN holding more of them).
    void no_path(Op op, const json_t* value) {
        if (op == Op::Remove) fail(400, "noTarget", "remove needs a \"path\"");
        if (!json_is_object(value))
            fail(400, "invalidValue", "without \"path\", \"value\" must be an object of attributes");
        const char* key;
        json_t* v;
        json_object_foreach(const_cast<json_t*>(value), key, v) {
            if (const Schema* ext = find_extension(rt_, key)) {
                if (!json_is_object(v))
                    fail(400, "invalidValue", format("\"%s\" must be an object", ext->id));
                const char* k2;
                json_t* v2;
                json_object_foreach(v, k2, v2) {
                    apply(op, parse_target(std::string(ext->id) + ":" + k2, rt_), v2, true);
                }
                continue;
            }
            if (iequals(key, "schemas")) continue;
            Target t;
            try {
                t = parse_target(key, rt_);
            } catch (const ScimError&) {
                continue;  // as in POST and PUT, attributes no schema defines are ignored
            }
            apply(op, std::move(t), v, true);
        }
    }

    void apply(Op op, Target t, const json_t* value, bool lenient_read_only = false) {
        const Attribute& a = *t.path.attribute;
        if (a.mutability == Mutability::ReadOnly ||
            (t.sub && t.sub->mutability == Mutability::ReadOnly)) {
            // PUT ignores read-only attributes; a no-path PATCH value that
            // carries them (Okta's id) is treated the same. A path aimed at
            // one is an error.
            if (lenient_read_only) return;
            fail(400, "mutability", format("\"%s\" is read-only", written(t).c_str()));
        }
        if (op != Op::Remove && !value)
            fail(400, "invalidSyntax", format("%s needs a \"value\"", op_name(op)));
        if (is_members(t)) return members(op, t, value);

        json_t* container = doc_;
        if (t.path.extension) {
            container = json_object_get(doc_, t.path.extension->id);
            if (!container) {
                if (op == Op::Remove) return;
                container = json_object();
                json_object_set_new(doc_, t.path.extension->id, container);
            }
        }
        json_t* current = json_object_get(container, a.name);

        if (op == Op::Remove) return remove(container, a, t, current, value);
        if (!a.multi_valued) return write_single(op, container, a, t, current, value);
        if (!t.filter && !t.sub) return write_multi(op, container, a, current, value);
        if (!t.filter)
            fail(400, "invalidPath",
                 format("\"%s\" names a sub-attribute of every value; select values with a filter "
                        "such as %s[type eq \"work\"].%s",
                        written(t).c_str(), a.name, t.sub->name));
        write_selected(op, container, a, t, current, value);
    }

    void write_single(Op op, json_t* container, const Attribute& a, const Target& t,
                      json_t* current, const json_t* value) {
        if (a.mutability == Mutability::Immutable && current && !json_equal(current, value))
            fail(400, "mutability", format("\"%s\" is immutable", written(t).c_str()));
        if (t.sub) {
            if (!json_is_object(current)) {
                current = json_object();
                json_object_set_new(container, a.name, current);
            }
            json_object_set(current, t.sub->name, const_cast<json_t*>(value));
            return;
        }
        Json v = as_element(a, value);
        // A complex value merges: sub-attributes it does not mention stay.
        if (a.type == Type::Complex && json_is_object(v.get()) && json_is_object(current)) {
            merge_object(current, v.get(), a);
            return;
        }
        (void) op;
        json_object_set(container, a.name, v.get());
    }

    void write_multi(Op op, json_t* container, const Attribute& a, json_t* current,
                     const json_t* value) {
        std::vector<Json> values = as_elements(a, value);
        if (op == Op::Replace || !json_is_array(current)) {
            current = json_array();
            json_object_set_new(container, a.name, current);
        }
        for (Json& v : values) {
            bool present = false;
            size_t i;
            json_t* e;
            json_array_foreach(current, i, e) present = present || json_equal(e, v.get());
            if (present) continue;
            json_array_append(current, v.get());
            keep_one_primary(current, v.get());
        }
    }

    void write_selected(Op op, json_t* container, const Attribute& a, const Target& t,
                        json_t* current, const json_t* value) {
        Json v = t.sub ? borrow(const_cast<json_t*>(value)) : as_element(a, value);
        if (!t.sub && !json_is_object(v.get()))
            fail(400, "invalidValue",
                 format("the value for \"%s\" must be an object", written(t).c_str()));
        size_t matched = 0, i;
        json_t* e;
        json_array_foreach(current, i, e) {
            if (!filter_matches(*t.filter, e)) continue;
            matched++;
            if (t.sub) {
                json_object_set(e, t.sub->name, v.get());
            } else if (op == Op::Add) {
                merge_object(e, v.get(), a);
            } else {
                json_object_clear(e);
                merge_object(e, v.get(), a);
            }
            keep_one_primary(current, e);
        }
        if (matched) return;
        // Nothing matched: when the filter only states what the new value
        // is (type eq "work"), add that value, which is what Entra ID and
        // Okta mean; otherwise there is nothing to write to.
        Json element = take(json_object());
        if (!element_from_filter(*t.filter, element.get()))
            fail(400, "noTarget",
                 format("no value of \"%s\" matches the filter", written(t).c_str()));
        if (t.sub)
            json_object_set(element.get(), t.sub->name, v.get());
        else
            merge_object(element.get(), v.get(), a);
        if (!json_is_array(current)) {
            current = json_array();
            json_object_set_new(container, a.name, current);
        }
        json_array_append(current, element.get());
        keep_one_primary(current, element.get());
    }

    void remove(json_t* container, const Attribute& a, const Target& t, json_t* current,
                const json_t* value) {
        if (!current) return;  // removing what is not there changes nothing
        if (a.mutability == Mutability::Immutable)
            fail(400, "mutability", format("\"%s\" is immutable", written(t).c_str()));
        if (!a.multi_valued) {
            if (t.sub)
                json_object_del(current, t.sub->name);
            else
                json_object_del(container, a.name);
            return;
        }
        if (!t.filter && !t.sub && value && !json_is_null(value)) {
            // Entra: {"op":"Remove","path":"emails","value":[{...}]} removes
            // those values (compared by "value" for complex attributes).
            for (const Json& v : as_elements(a, value)) remove_equal(current, v.get());
            return;
        }
        size_t i = json_array_size(current);
        while (i-- > 0) {
            json_t* e = json_array_get(current, i);
            if (t.filter && !filter_matches(*t.filter, e)) continue;
            if (t.sub)
                json_object_del(e, t.sub->name);
            else
                json_array_remove(current, i);
        }
        if (!t.filter && !t.sub) json_object_del(container, a.name);
    }

    static void remove_equal(json_t* array, const json_t* v) {
        const json_t* key = json_is_object(v) ? json_object_get(v, "value") : nullptr;
        size_t i = json_array_size(array);
        while (i-- > 0) {
            json_t* e = json_array_get(array, i);
            bool same = key ? json_equal(json_object_get(e, "value"), key) : json_equal(e, v);
            if (same) json_array_remove(array, i);
        }
    }

    // Members of a group: ids only, into the membership index.
    static std::vector<std::string> member_ids_of(const json_t* value) {
        std::vector<std::string> ids;
        auto one = [&](const json_t* m) {
            const json_t* id = json_is_object(m) ? object_get_ci(m, "value") : m;
            if (!json_is_string(id) || json_string_length(id) == 0)
                fail(400, "invalidValue", "each member needs a \"value\" holding its id");
            ids.emplace_back(str_view(id));
        };
        if (json_is_array(value)) {
            size_t i;
            json_t* m;
            json_array_foreach(value, i, m) one(m);
        } else if (value && !json_is_null(value)) {
            one(value);
        }
        return ids;
    }

    void members(Op op, const Target& t, const json_t* value) {
        using Kind = MemberOps::Kind;
        if (t.sub)
            fail(400, "invalidPath",
                 "members are added or removed whole; a sub-attribute cannot be changed");
        if (op == Op::Add) {
            if (t.filter) fail(400, "invalidPath", "add to \"members\" takes no filter");
            members_->steps.push_back({Kind::Add, member_ids_of(value)});
            return;
        }
        if (op == Op::Replace) {
            if (t.filter) fail(400, "invalidPath", "replace of \"members\" takes no filter");
            members_->steps.push_back({Kind::Clear, {}});
            members_->steps.push_back({Kind::Add, member_ids_of(value)});
            return;
        }
        if (!t.filter) {
            if (value && !json_is_null(value))
                members_->steps.push_back({Kind::Remove, member_ids_of(value)});
            else
                members_->steps.push_back({Kind::Clear, {}});
            return;
        }
        members_->steps.push_back({Kind::Remove, selected_members(*t.filter)});
    }

    // The members a filter selects: value eq "..." (or several, or'ed) is
    // answered from the filter itself; anything else lists the members.
    std::vector<std::string> selected_members(const Filter& f) const {
        std::vector<std::string> ids;
        if (value_ids(f, &ids)) return ids;
        ids.clear();
        Json all = derived_ ? derived_->values("members") : nullptr;
        size_t i;
        json_t* m;
        json_array_foreach(all.get(), i, m) {
            if (filter_matches(f, m)) ids.emplace_back(str_view(json_object_get(m, "value")));
        }
        return ids;
    }

    static bool value_ids(const Filter& f, std::vector<std::string>* ids) {
        if (f.kind == Filter::Kind::Or) return value_ids(*f.left, ids) && value_ids(*f.right, ids);
        if (f.kind != Filter::Kind::Compare || f.op != FilterOp::Eq ||
            strcmp(f.path.sub_attribute->name, "value") != 0 || !json_is_string(f.value.get()))
            return false;
        ids->emplace_back(str_view(f.value.get()));
        return true;
    }
};

Op parse_op(const json_t* op, size_t n) {
    if (!json_is_string(op))
        fail(400, "invalidSyntax", format("operation %zu has no \"op\"", n));
    std::string_view s = str_view(op);
    if (iequals(s, "add")) return Op::Add;
    if (iequals(s, "replace")) return Op::Replace;
    if (iequals(s, "remove")) return Op::Remove;
    fail(400, "invalidSyntax",
         format("operation %zu: \"op\" must be add, replace or remove, not \"%.*s\"", n,
                static_cast<int>(std::min<size_t>(s.size(), 64)), s.data()));
}

}  // namespace

Json apply_patch(const json_t* body, json_t* doc, const ResourceType& rt, MemberOps* members,
                 const DerivedAttributes* derived) {
    if (!json_is_object(body)) fail(400, "invalidSyntax", "the request body must be a JSON object");
    if (const json_t* schemas = object_get_ci(body, "schemas")) {
        bool ok = false;
        size_t i;
        json_t* s;
        json_array_foreach(schemas, i, s) ok = ok || (json_is_string(s) && iequals(str_view(s), kPatchOpUrn));
        if (!ok) fail(400, "invalidSyntax", format("\"schemas\" must list \"%s\"", kPatchOpUrn));
    }
    const json_t* ops = object_get_ci(body, "Operations");
    if (!json_is_array(ops) || json_array_size(ops) == 0)
        fail(400, "invalidSyntax", "\"Operations\" must be a non-empty array");

    Engine engine(doc, rt, members, derived);
    Json attrs;
    size_t i;
    json_t* op;
    json_array_foreach(ops, i, op) {
        size_t n = i + 1;
        if (!json_is_object(op)) fail(400, "invalidSyntax", format("operation %zu is not an object", n));
        Op kind = parse_op(object_get_ci(op, "op"), n);
        const json_t* path = object_get_ci(op, "path");
        if (path && json_is_null(path)) path = nullptr;
        if (path && (!json_is_string(path) || json_string_length(path) == 0))
            fail(400, "invalidPath", format("operation %zu: \"path\" must be a non-empty string", n));
        try {
            engine.run(kind, path, object_get_ci(op, "value"));
            // Validate after each operation so an error names the one that
            // made the resource invalid.
            attrs = normalize_resource(doc, rt);
        } catch (const ScimError& e) {
            std::string where = format("operation %zu (%s%s%s): ", n, op_name(kind),
                                       path ? " " : "", path ? json_string_value(path) : "");
            throw ScimError{e.status, e.scim_type, where + e.detail};
        }
    }
    return attrs;
}

}  // namespace scim
