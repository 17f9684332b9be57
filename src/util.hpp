// Small helpers shared by the core: ids, times, case folding, error text.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scim {

// A random RFC 4122 version 4 UUID in lower case. Throws on RNG failure.
std::string new_uuid();
// An RFC 9562 version 7 UUID: 48 bits of Unix milliseconds, 12 bits of
// sub-millisecond fraction, then random bits, so ids sort by creation time
// (strictly within a process). Throws on RNG failure.
std::string new_time_ordered_uuid();

// Current UTC time as RFC 3339 with milliseconds: 2026-11-25T13:23:29.123Z.
std::string now_rfc3339();

// Parse an RFC 3339 / xsd:dateTime into milliseconds since the epoch.
// Accepts fractional seconds and "Z" or a numeric offset.
bool parse_datetime(std::string_view s, int64_t* ms);

// SCIM compares case-insensitively with ASCII folding: attribute names and
// caseExact=false values. Non-ASCII bytes are compared as they are.
char ascii_lower(char c);
std::string ascii_lower(std::string_view s);
// Without spaces, tabs, CRs and LFs (HTTP's OWS, XML's whitespace) at either end.
std::string_view trim(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

std::string hex(const unsigned char* p, size_t n);

// printf into a caller's error buffer; NULL buffers are allowed.
void set_error(char* err, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace scim
