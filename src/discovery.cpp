// Discovery (RFC 7643 §5-7, RFC 7644 §4): /ServiceProviderConfig,
// /ResourceTypes and /Schemas, generated from the same schema tables and
// limits the server enforces, so nothing is advertised that does not work.
#include <cstring>

#include "api.hpp"
#include "query.hpp"
#include "schema.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

const char kSchemaUrn[] = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const char kResourceTypeUrn[] = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

const Schema* const kSchemas[] = {&kUserSchema, &kEnterpriseUserSchema, &kGroupSchema};
const ResourceType* const kResourceTypes[] = {&kUserResource, &kGroupResource};

json_t* supported(bool yes) {
    json_t* o = json_object();
    json_object_set_new(o, "supported", json_boolean(yes));
    return o;
}

json_t* schemas_array(const char* urn) {
    json_t* a = json_array();
    json_array_append_new(a, json_string(urn));
    return a;
}

json_t* meta(const char* resource_type, const std::string& location) {
    json_t* m = json_object();
    json_object_set_new(m, "resourceType", json_string(resource_type));
    json_object_set_new(m, "location", json_string(location.c_str()));
    return m;
}

const char* type_name(Type t) {
    switch (t) {
        case Type::String: return "string";
        case Type::Boolean: return "boolean";
        case Type::Decimal: return "decimal";
        case Type::Integer: return "integer";
        case Type::DateTime: return "dateTime";
        case Type::Binary: return "binary";
        case Type::Reference: return "reference";
        case Type::Complex: return "complex";
    }
    return "string";
}

const char* mutability_name(Mutability m) {
    switch (m) {
        case Mutability::ReadOnly: return "readOnly";
        case Mutability::Immutable: return "immutable";
        case Mutability::WriteOnly: return "writeOnly";
        case Mutability::ReadWrite: return "readWrite";
    }
    return "readWrite";
}

const char* returned_name(Returned r) {
    switch (r) {
        case Returned::Always: return "always";
        case Returned::Never: return "never";
        case Returned::Request: return "request";
        case Returned::Default: return "default";
    }
    return "default";
}

const char* uniqueness_name(Uniqueness u) {
    switch (u) {
        case Uniqueness::Server: return "server";
        case Uniqueness::Global: return "global";
        case Uniqueness::None: return "none";
    }
    return "none";
}

json_t* attribute_json(const Attribute& a) {
    json_t* o = json_object();
    json_object_set_new(o, "name", json_string(a.name));
    json_object_set_new(o, "type", json_string(type_name(a.type)));
    json_object_set_new(o, "multiValued", json_boolean(a.multi_valued));
    json_object_set_new(o, "description", json_string(a.description ? a.description : ""));
    json_object_set_new(o, "required", json_boolean(a.required));
    json_object_set_new(o, "caseExact", json_boolean(a.case_exact));
    json_object_set_new(o, "mutability", json_string(mutability_name(a.mutability)));
    json_object_set_new(o, "returned", json_string(returned_name(a.returned)));
    json_object_set_new(o, "uniqueness", json_string(uniqueness_name(a.uniqueness)));
    if (a.type == Type::Reference && a.reference_types) {
        json_t* refs = json_array();
        std::string_view list = a.reference_types;
        while (!list.empty()) {
            size_t comma = list.find(',');
            std::string_view one = list.substr(0, comma);
            json_array_append_new(refs, json_stringn(one.data(), one.size()));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
        json_object_set_new(o, "referenceTypes", refs);
    }
    if (a.type == Type::Complex) {
        json_t* subs = json_array();
        for (size_t i = 0; i < a.sub_count; i++)
            json_array_append_new(subs, attribute_json(a.sub_attributes[i]));
        json_object_set_new(o, "subAttributes", subs);
    }
    return o;
}

json_t* schema_json(const Schema& s, std::string_view base_url) {
    json_t* o = json_object();
    json_object_set_new(o, "schemas", schemas_array(kSchemaUrn));
    json_object_set_new(o, "id", json_string(s.id));
    json_object_set_new(o, "name", json_string(s.name));
    json_object_set_new(o, "description", json_string(s.description));
    json_t* attrs = json_array();
    for (size_t i = 0; i < s.count; i++) json_array_append_new(attrs, attribute_json(s.attributes[i]));
    json_object_set_new(o, "attributes", attrs);
    json_object_set_new(o, "meta", meta("Schema", std::string(base_url) + "/Schemas/" + s.id));
    return o;
}

json_t* resource_type_json(const ResourceType& rt, std::string_view base_url) {
    json_t* o = json_object();
    json_object_set_new(o, "schemas", schemas_array(kResourceTypeUrn));
    json_object_set_new(o, "id", json_string(rt.name));
    json_object_set_new(o, "name", json_string(rt.name));
    json_object_set_new(o, "endpoint", json_string(rt.endpoint));
    json_object_set_new(o, "description", json_string(rt.description));
    json_object_set_new(o, "schema", json_string(rt.schema->id));
    json_t* exts = json_array();
    for (size_t i = 0; i < rt.extension_count; i++) {
        json_t* e = json_object();
        json_object_set_new(e, "schema", json_string(rt.extensions[i]->id));
        json_object_set_new(e, "required", json_false());
        json_array_append_new(exts, e);
    }
    json_object_set_new(o, "schemaExtensions", exts);
    json_object_set_new(o, "meta", meta("ResourceType",
                                        std::string(base_url) + "/ResourceTypes/" + rt.name));
    return o;
}

// RFC 7644 §4: a filter on a discovery endpoint is answered 403, so that a
// client cannot believe its conditions were applied.
void refuse_filter(const Context& ctx) {
    if (parse_list_query(ctx.query()).has_filter)
        fail(403, nullptr, "discovery endpoints do not filter");
}

void respond_list(Context& ctx, json_t* resources) {
    Json list = take(json_object());
    json_object_set_new(list.get(), "schemas", schemas_array(kListResponseUrn));
    json_object_set_new(list.get(), "totalResults", json_integer(static_cast<json_int_t>(json_array_size(resources))));
    json_object_set_new(list.get(), "startIndex", json_integer(1));
    json_object_set_new(list.get(), "itemsPerPage", json_integer(static_cast<json_int_t>(json_array_size(resources))));
    json_object_set_new(list.get(), "Resources", resources);
    respond_json(ctx.resp, 200, list.get());
}

}  // namespace

void service_provider_config(Context& ctx) {
    refuse_filter(ctx);
    Json spc = take(json_object());
    json_object_set_new(spc.get(), "schemas", schemas_array(kServiceProviderConfigUrn));
    json_object_set_new(spc.get(), "patch", supported(true));
    json_t* bulk = supported(true);
    json_object_set_new(bulk, "maxOperations", json_integer(kBulkMaxOperations));
    json_object_set_new(bulk, "maxPayloadSize", json_integer(kBulkMaxPayloadSize));
    json_object_set_new(spc.get(), "bulk", bulk);
    json_t* filter = supported(true);
    json_object_set_new(filter, "maxResults", json_integer(kMaxCount));
    json_object_set_new(spc.get(), "filter", filter);
    json_object_set_new(spc.get(), "changePassword", supported(false));
    json_object_set_new(spc.get(), "sort", supported(true));
    json_object_set_new(spc.get(), "etag", supported(true));
    json_t* scheme = json_object();
    json_object_set_new(scheme, "type", json_string("oauthbearertoken"));
    json_object_set_new(scheme, "name", json_string("OAuth Bearer Token"));
    json_object_set_new(scheme, "description",
                        json_string("A bearer token whose SHA-256 hash is listed in the "
                                    "directory's token_file"));
    json_object_set_new(scheme, "primary", json_true());
    json_t* schemes = json_array();
    json_array_append_new(schemes, scheme);
    json_object_set_new(spc.get(), "authenticationSchemes", schemes);
    json_object_set_new(spc.get(), "meta", meta("ServiceProviderConfig",
                                                std::string(ctx.base_url) + "/ServiceProviderConfig"));
    respond_json(ctx.resp, 200, spc.get());
}

void schemas_list(Context& ctx) {
    refuse_filter(ctx);
    json_t* all = json_array();
    for (const Schema* s : kSchemas) json_array_append_new(all, schema_json(*s, ctx.base_url));
    respond_list(ctx, all);
}

void schemas_get(Context& ctx, std::string_view id) {
    for (const Schema* s : kSchemas) {
        if (!iequals(id, s->id)) continue;
        Json one = take(schema_json(*s, ctx.base_url));
        respond_json(ctx.resp, 200, one.get());
        return;
    }
    fail(404, nullptr, format("no schema \"%.*s\"", static_cast<int>(std::min<size_t>(id.size(), 128)),
                              id.data()));
}

void resource_types_list(Context& ctx) {
    refuse_filter(ctx);
    json_t* all = json_array();
    for (const ResourceType* rt : kResourceTypes)
        json_array_append_new(all, resource_type_json(*rt, ctx.base_url));
    respond_list(ctx, all);
}

void resource_types_get(Context& ctx, std::string_view id) {
    for (const ResourceType* rt : kResourceTypes) {
        if (!iequals(id, rt->name)) continue;
        Json one = take(resource_type_json(*rt, ctx.base_url));
        respond_json(ctx.resp, 200, one.get());
        return;
    }
    fail(404, nullptr, format("no resource type \"%.*s\"",
                              static_cast<int>(std::min<size_t>(id.size(), 128)), id.data()));
}

}  // namespace scim
