// Building responses: JSON bodies into malloc()ed buffers the glue can send
// without copying, and RFC 7644 §3.12 error bodies.
#include <cstdlib>
#include <cstring>
#include <new>

#include "api.hpp"
#include "schema.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {

char* dup_field(std::string_view s) {
    char* p = static_cast<char*>(malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

void respond_json(scim_response_t* resp, int status, const json_t* body) {
    size_t n = json_dumpb(body, nullptr, 0, JSON_COMPACT);
    char* buf = static_cast<char*>(malloc(n ? n : 1));
    if (!buf) throw std::bad_alloc();
    if (json_dumpb(body, buf, n, JSON_COMPACT) != n) {
        free(buf);
        throw std::bad_alloc();
    }
    free(resp->body);
    resp->body = buf;
    resp->body_len = n;
    resp->status = status;
    resp->content_type = kScimContentType;
}

void respond_text(scim_response_t* resp, int status, std::string_view body) {
    char* buf = static_cast<char*>(malloc(body.size() ? body.size() : 1));
    if (!buf) throw std::bad_alloc();
    memcpy(buf, body.data(), body.size());
    free(resp->body);
    resp->body = buf;
    resp->body_len = body.size();
    resp->status = status;
    resp->content_type = kScimContentType;
}

void respond_error(scim_response_t* resp, int status, const char* scim_type,
                   const std::string& detail) {
    Json err = take(json_object());
    json_t* schemas = json_array();
    json_array_append_new(schemas, json_string(kErrorUrn));
    json_object_set_new(err.get(), "schemas", schemas);
    // RFC 7644 §3.12: "status" is a string.
    json_object_set_new(err.get(), "status", json_string(std::to_string(status).c_str()));
    if (scim_type) json_object_set_new(err.get(), "scimType", json_string(scim_type));
    // json_stringn_nocheck is not used: detail may quote client input, and
    // json_string() refuses invalid UTF-8, so fall back to a generic text.
    json_t* d = json_stringn(detail.data(), detail.size());
    json_object_set_new(err.get(), "detail", d ? d : json_string("invalid request"));
    free(resp->location);
    resp->location = nullptr;
    free(resp->etag);
    resp->etag = nullptr;
    if (status != 405) {
        free(resp->allow);
        resp->allow = nullptr;
    }
    respond_json(resp, status, err.get());
    snprintf(resp->reason, sizeof(resp->reason), "%d%s%s: %s", status, scim_type ? " " : "",
             scim_type ? scim_type : "", detail.c_str());
}

Json parse_body(const Context& ctx) {
    std::string_view body = ctx.body();
    if (body.empty()) fail(400, "invalidSyntax", "the request has no body");
    json_error_t jerr;
    json_t* j = json_loadb(body.data(), body.size(), JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fail(400, "invalidSyntax",
             format("the body is not valid JSON: %s at line %d column %d", jerr.text, jerr.line,
                    jerr.column));
    return take(j);
}

}  // namespace scim
