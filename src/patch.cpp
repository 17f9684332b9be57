#include "patch.hpp"

#include <cstring>
#include <memory>
#include <optional>

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

// A resolved PATCH path: attr[filter].sub, each part optional but attr;
// or a whole extension ("urn:...:enterprise:2.0:User").
struct Target {
    AttrPath path;                   // attribute (and sub-attribute when no filter)
    std::unique_ptr<Filter> filter;  // value selection, bound to the attribute
    const Attribute* sub = nullptr;  // the sub-attribute addressed (with or without filter)
    const Schema* whole_extension = nullptr;
};

// nullopt when the path is in a schema this server does not know.
std::optional<Target> parse_target(std::string_view text, const ResourceType& rt) {
    Target t;
    if (const Schema* ext = find_extension(rt, text)) {
        t.whole_extension = ext;
        t.path.urn = ext->id;
        return t;
    }
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
    if (!parsed.urn.empty() && !iequals(parsed.urn, rt.schema->id) && !find_extension(rt, parsed.urn))
        return std::nullopt;
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
    if (t.whole_extension) return t.whole_extension->id;
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

// Whether two values of a multi-valued attribute are the same value:
// complex ones by their "value" (compared as its sub-attribute says).
bool same_value(const Attribute& a, const json_t* x, const json_t* y) {
    if (a.type != Type::Complex) return json_equal(const_cast<json_t*>(x), const_cast<json_t*>(y));
    const Attribute* sub = find_sub_attribute(a, "value");
    const json_t* vx = json_object_get(x, "value");
    const json_t* vy = json_object_get(y, "value");
    if (!vx || !vy) return json_equal(const_cast<json_t*>(x), const_cast<json_t*>(y));
    if (json_is_string(vx) && json_is_string(vy) && sub && !sub->case_exact)
        return iequals(str_view(vx), str_view(vy));
    return json_equal(const_cast<json_t*>(vx), const_cast<json_t*>(vy));
}

// Whether two complex values carry the same "type" (case-insensitively;
// two values without one count as the same).
bool same_type(const json_t* x, const json_t* y) {
    const json_t* tx = json_is_object(x) ? json_object_get(x, "type") : nullptr;
    const json_t* ty = json_is_object(y) ? json_object_get(y, "type") : nullptr;
    if (!tx || !ty) return !tx && !ty;
    if (json_is_string(tx) && json_is_string(ty)) return iequals(str_view(tx), str_view(ty));
    return json_equal(const_cast<json_t*>(tx), const_cast<json_t*>(ty));
}

void check_size(const Attribute& a, const json_t* array) {
    if (json_array_size(array) > kMaxValues)
        fail(400, "invalidValue", format("attribute \"%s\" has more than %zu values", a.name, kMaxValues));
}

class Engine {
public:
    Engine(json_t* doc, const ResourceType& rt, MemberSink* members, const DerivedAttributes* derived)
        : doc_(doc), rt_(rt), members_(members), derived_(derived) {}

    void run(Op op, const json_t* path, const json_t* value) {
        if (!path) return no_path(op, value);
        std::optional<Target> t = parse_target(str_view(path), rt_);
        if (!t) return;  // an IdP's own extension: nothing here to change
        apply(op, std::move(*t), value);
    }

    // RFC 7644: an operation that would leave a required attribute
    // unassigned fails (and names itself).
    void check_required() const {
        for (size_t i = 0; i < rt_.schema->count; i++) {
            const Attribute& a = rt_.schema->attributes[i];
            if (a.required && !json_object_get(doc_, a.name))
                fail(400, "invalidValue", format("attribute \"%s\" is required", a.name));
        }
    }

private:
    json_t* doc_;
    const ResourceType& rt_;
    MemberSink* members_;
    const DerivedAttributes* derived_;

    bool is_members(const Target& t) const {
        return members_ && !t.whole_extension && !t.path.extension &&
               strcmp(t.path.attribute->name, "members") == 0;
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
            if (iequals(key, "schemas")) continue;
            std::optional<Target> t;
            try {
                t = parse_target(key, rt_);
            } catch (const ScimError&) {
                continue;  // as in POST and PUT, attributes no schema defines are ignored
            }
            if (t) apply(op, std::move(*t), v, true);
        }
    }

    void apply(Op op, Target t, const json_t* value, bool lenient_read_only = false) {
        if (op != Op::Remove && !value)
            fail(400, "invalidSyntax", format("%s needs a \"value\"", op_name(op)));
        if (t.whole_extension) return extension(op, t, value);
        const Attribute& a = *t.path.attribute;
        if (a.mutability == Mutability::ReadOnly ||
            (t.sub && t.sub->mutability == Mutability::ReadOnly)) {
            // PUT ignores read-only attributes; a no-path PATCH value that
            // carries them (Okta's id) is treated the same. A path aimed at
            // one is an error.
            if (lenient_read_only) return;
            fail(400, "mutability", format("\"%s\" is read-only", written(t).c_str()));
        }
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
        if (!a.multi_valued) return write_single(container, a, t, current, value);
        if (!t.filter && !t.sub) return write_multi(op, container, a, t, current, value);
        if (!t.filter)
            fail(400, "invalidPath",
                 format("\"%s\" names a sub-attribute of every value; select values with a filter "
                        "such as %s[type eq \"work\"].%s",
                        written(t).c_str(), a.name, t.sub->name));
        write_selected(op, container, a, t, current, value);
    }

    // A whole extension is written like a complex attribute (RFC 7644
    // §3.5.2.3): the attributes the value names are added or replaced, the
    // others are left unchanged; remove removes the extension. IdPs send
    // only what changed (Entra's department), and a replace that dropped
    // the rest would erase the manager and cost center.
    void extension(Op op, const Target& t, const json_t* value) {
        const Schema& ext = *t.whole_extension;
        if (op == Op::Remove) {
            json_object_del(doc_, ext.id);
            return;
        }
        if (!json_is_object(value)) fail(400, "invalidValue", format("\"%s\" must be an object", ext.id));
        const char* key;
        json_t* v;
        json_object_foreach(const_cast<json_t*>(value), key, v) {
            std::optional<Target> sub;
            try {
                sub = parse_target(std::string(ext.id) + ":" + key, rt_);
            } catch (const ScimError&) {
                continue;
            }
            if (sub) apply(op, std::move(*sub), v, true);
        }
    }

    void write_single(json_t* container, const Attribute& a, const Target& t, json_t* current,
                      const json_t* value) {
        if (t.sub) {
            Json v = normalize_value(value, *t.sub, written(t));
            if (!json_is_object(current)) {
                if (!v) return;
                current = json_object();
                json_object_set_new(container, a.name, current);
            }
            if (v)
                json_object_set(current, t.sub->name, v.get());
            else
                json_object_del(current, t.sub->name);
            return;
        }
        Json v = normalize_value(as_element(a, value).get(), a, written(t));
        if (a.mutability == Mutability::Immutable && current && (!v || !json_equal(current, v.get())))
            fail(400, "mutability", format("\"%s\" is immutable", written(t).c_str()));
        if (!v) {
            json_object_del(container, a.name);
            return;
        }
        // A complex value merges: sub-attributes it does not mention stay.
        if (a.type == Type::Complex && json_is_object(current)) {
            json_object_update(current, v.get());
            return;
        }
        json_object_set(container, a.name, v.get());
    }

    void write_multi(Op op, json_t* container, const Attribute& a, const Target& t, json_t* current,
                     const json_t* value) {
        std::vector<Json> values;
        for (const Json& e : as_elements(a, value)) {
            Json n = normalize_element(e.get(), a, written(t));
            if (n) values.push_back(std::move(n));
        }
        if (op == Op::Replace || !json_is_array(current)) {
            current = json_array();
            json_object_set_new(container, a.name, current);
        }
        // A value already there (the same value under the attribute's case
        // rules, and the same type) is not added twice (RFC 7644 §3.5.2.1,
        // RFC 7643 §2.4): what the new copy adds (primary, display) is
        // merged into it.
        for (Json& v : values) {
            json_t* present = nullptr;
            size_t i;
            json_t* e;
            json_array_foreach(current, i, e) {
                if (!present && same_value(a, e, v.get()) && same_type(e, v.get())) present = e;
            }
            if (present) {
                if (json_is_object(present) && json_is_object(v.get())) {
                    json_object_update(present, v.get());
                    keep_one_primary(current, present);
                }
                continue;
            }
            json_array_append(current, v.get());
            keep_one_primary(current, v.get());
            check_size(a, current);
        }
        if (json_array_size(current) == 0) json_object_del(container, a.name);
    }

    void write_selected(Op op, json_t* container, const Attribute& a, const Target& t,
                        json_t* current, const json_t* value) {
        Json v = t.sub ? normalize_value(value, *t.sub, written(t))
                       : normalize_element(as_element(a, value).get(), a, written(t));
        if (!t.sub && !json_is_object(v.get()))
            fail(400, "invalidValue",
                 format("the value for \"%s\" must be an object", written(t).c_str()));
        size_t matched = 0, i;
        json_t* e;
        json_array_foreach(current, i, e) {
            if (!filter_matches(*t.filter, e)) continue;
            matched++;
            if (t.sub) {
                if (v)
                    json_object_set(e, t.sub->name, v.get());
                else
                    json_object_del(e, t.sub->name);
            } else {
                if (op != Op::Add) json_object_clear(e);
                json_object_update(e, v.get());
            }
            keep_one_primary(current, e);
        }
        if (matched || !v) return;
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
            json_object_update(element.get(), v.get());
        // A value that would not match its own filter is not what the
        // filter describes, and a retried PATCH would add it again.
        if (!filter_matches(*t.filter, element.get()))
            fail(400, "noTarget",
                 format("no value of \"%s\" matches the filter, and the value written would "
                        "not match it either",
                        written(t).c_str()));
        if (!json_is_array(current)) {
            current = json_array();
            json_object_set_new(container, a.name, current);
        }
        json_array_append(current, element.get());
        keep_one_primary(current, element.get());
        check_size(a, current);
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
            // those values.
            for (const Json& v : as_elements(a, value)) {
                size_t i = json_array_size(current);
                while (i-- > 0)
                    if (same_value(a, json_array_get(current, i), v.get())) json_array_remove(current, i);
            }
        } else {
            size_t i = json_array_size(current);
            while (i-- > 0) {
                json_t* e = json_array_get(current, i);
                if (t.filter && !filter_matches(*t.filter, e)) continue;
                if (t.sub)
                    json_object_del(e, t.sub->name);
                else
                    json_array_remove(current, i);
            }
        }
        if ((!t.filter && !t.sub && !value) || json_array_size(current) == 0)
            json_object_del(container, a.name);
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
        if (t.sub)
            fail(400, "invalidPath",
                 "members are added or removed whole; a sub-attribute cannot be changed");
        if (op == Op::Add) {
            if (t.filter) fail(400, "invalidPath", "add to \"members\" takes no filter");
            members_->add(member_ids_of(value));
            return;
        }
        if (op == Op::Replace) {
            if (t.filter) fail(400, "invalidPath", "replace of \"members\" takes no filter");
            std::vector<std::string> ids = member_ids_of(value);
            members_->clear();
            members_->add(ids);
            return;
        }
        if (!t.filter) {
            if (value && !json_is_null(value))
                members_->remove(member_ids_of(value));
            else
                members_->clear();
            return;
        }
        members_->remove(selected_members(*t.filter));
    }

    // The members a filter selects: value eq "..." (or several, or'ed) is
    // answered from the filter itself; anything else lists the members as
    // they are now, after the operations before this one.
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

Json apply_patch(const json_t* body, json_t* doc, const ResourceType& rt, MemberSink* members,
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
    if (json_array_size(ops) > kMaxPatchOperations)
        fail(400, "invalidValue", format("a PATCH has at most %zu operations, this one has %zu",
                                         kMaxPatchOperations, json_array_size(ops)));

    Engine engine(doc, rt, members, derived);
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
            engine.check_required();
        } catch (const ScimError& e) {
            std::string where = format("operation %zu (%s%s%s): ", n, op_name(kind),
                                       path ? " " : "", path ? json_string_value(path) : "");
            throw ScimError{e.status, e.scim_type, where + e.detail};
        }
    }
    // Each value was validated as it was applied; this pass builds the
    // resource's attributes once, whatever the number of operations.
    try {
        return normalize_resource(doc, rt);
    } catch (const ScimError& e) {
        throw ScimError{e.status, e.scim_type, "after the operations: " + e.detail};
    }
}

}  // namespace scim
