// Query parameters of list requests (RFC 7644 §3.4.2).
#pragma once

#include <string>
#include <string_view>

#include "json.hpp"

namespace scim {

constexpr long kDefaultCount = 100;
constexpr long kMaxCount = 1000;

struct ListQuery {
    bool has_filter = false;
    std::string filter;
    long start_index = 1;  // 1-based; values below 1 mean 1
    long count = kDefaultCount;
    std::string attributes;  // comma-separated, as in the query string
    std::string excluded_attributes;
    std::string sort_by;
    bool descending = false;
};

// Percent-decodes; '+' becomes a space as in form encoding, which IdPs use.
std::string percent_decode(std::string_view s);

// Parses the raw query string; parameter names match case-insensitively and
// unknown parameters are ignored. Throws ScimError 400 invalidValue for a
// non-numeric startIndex or count. count is clamped to [0, kMaxCount].
ListQuery parse_list_query(std::string_view raw);

// The same from a SearchRequest body (POST .search, RFC 7644 §3.4.3).
// Throws ScimError 400 invalidSyntax / invalidValue.
ListQuery parse_search_request(const json_t* body);

}  // namespace scim
