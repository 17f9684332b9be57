// The stored form of a resource, and rendering it without a JSON round trip.
//
// A record is the resource's compact JSON text, except meta.location (it
// depends on the URL a request came through). Its last member is "meta" and
// meta's last member is "version", so a response is the record with
// ,"location":"..." spliced in before the final "}}" — the read path never
// parses and re-serialises what it only passes through.
#pragma once

#include <string>
#include <string_view>

#include "json.hpp"

namespace scim {

// Serialises a resource for storage, moving meta (and meta.version) to the
// end first so the layout above holds whoever built the object. The object
// must not hold meta.location.
std::string encode_record(json_t* resource);

// Parses a record (for filters, updates and projections).
Json decode_record(std::string_view record);

// Appends the record as the client sees it: with meta.location, and with
// `inserted` (a member such as "groups":[...], or empty) before meta.
void render_record(std::string_view record, std::string_view location, std::string_view inserted,
                   std::string* out);

// The record's meta.version (the weak ETag), unescaped.
std::string record_version(std::string_view record);

// A top-level string member of a record, unescaped, without parsing the
// whole record ("" when absent or not a string).
std::string record_string(std::string_view record, std::string_view key);

// Appends s as a JSON string literal, quotes included.
void append_json_string(std::string* out, std::string_view s);

}  // namespace scim
