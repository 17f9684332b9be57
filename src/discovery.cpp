// /ServiceProviderConfig (RFC 7643 §5): advertises exactly what this build
// implements, nothing more.
#include "api.hpp"
#include "query.hpp"
#include "schema.hpp"

namespace scim {

static json_t* supported(bool yes) {
    json_t* o = json_object();
    json_object_set_new(o, "supported", json_boolean(yes));
    return o;
}

void service_provider_config(Context& ctx) {
    Json spc = take(json_object());
    json_t* schemas = json_array();
    json_array_append_new(schemas, json_string(kServiceProviderConfigUrn));
    json_object_set_new(spc.get(), "schemas", schemas);
    json_object_set_new(spc.get(), "patch", supported(false));
    json_t* bulk = supported(false);
    json_object_set_new(bulk, "maxOperations", json_integer(0));
    json_object_set_new(bulk, "maxPayloadSize", json_integer(0));
    json_object_set_new(spc.get(), "bulk", bulk);
    json_t* filter = supported(true);
    json_object_set_new(filter, "maxResults", json_integer(kMaxCount));
    json_object_set_new(spc.get(), "filter", filter);
    json_object_set_new(spc.get(), "changePassword", supported(false));
    json_object_set_new(spc.get(), "sort", supported(false));
    json_object_set_new(spc.get(), "etag", supported(false));
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
    json_t* meta = json_object();
    json_object_set_new(meta, "resourceType", json_string("ServiceProviderConfig"));
    json_object_set_new(
        meta, "location",
        json_string((std::string(ctx.base_url) + "/ServiceProviderConfig").c_str()));
    json_object_set_new(spc.get(), "meta", meta);
    respond_json(ctx.resp, 200, spc.get());
}

}  // namespace scim
