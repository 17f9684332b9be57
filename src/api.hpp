// What a SCIM endpoint handler gets and how it answers.
#pragma once

#include <string>
#include <string_view>

#include "directory.hpp"
#include "json.hpp"
#include "scim.h"
#include "store_lmdb.hpp"

namespace scim {

struct Context {
    Store& store;
    const Directory& dir;
    const scim_request_t& req;
    scim_response_t* resp;
    std::string_view base_url;

    std::string_view body() const { return {req.body.data, req.body.len}; }
    std::string_view query() const { return {req.query.data, req.query.len}; }
};

constexpr const char kScimContentType[] = "application/scim+json";
constexpr const char kJsonContentType[] = "application/json";

void respond_json(scim_response_t* resp, int status, const json_t* body);
// A body that is already serialised SCIM JSON.
void respond_text(scim_response_t* resp, int status, std::string_view body);
void respond_error(scim_response_t* resp, int status, const char* scim_type,
                   const std::string& detail);
// Copies a NUL-terminated string into a malloc()ed response field.
char* dup_field(std::string_view s);

// Parses a request body as JSON; 400 invalidSyntax with jansson's reason.
Json parse_body(const Context& ctx);

// Routes an authenticated request (router.cpp); Bulk sends each of its
// operations through it.
void dispatch(Context& ctx);

// Endpoint handlers (discovery.cpp, bulk.cpp; resources in resources.hpp).
void service_provider_config(Context& ctx);
void schemas_list(Context& ctx);
void schemas_get(Context& ctx, std::string_view id);
void resource_types_list(Context& ctx);
void resource_types_get(Context& ctx, std::string_view id);
void bulk(Context& ctx);

// Limits advertised in /ServiceProviderConfig and enforced.
constexpr size_t kBulkMaxOperations = 1000;
constexpr size_t kBulkMaxPayloadSize = 1048576;

}  // namespace scim
