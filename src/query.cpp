#include "query.hpp"

#include <cerrno>
#include <algorithm>
#include <cstdlib>

#include "scim_error.hpp"
#include "util.hpp"

namespace scim {

static int hexdigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < s.size() && hexdigit(s[i + 1]) >= 0 && hexdigit(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hexdigit(s[i + 1]) << 4 | hexdigit(s[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

static long parse_long(const std::string& name, const std::string& v) {
    errno = 0;
    char* end = nullptr;
    long n = strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE)
        fail(400, "invalidValue",
             format("query parameter \"%s\" must be an integer, not \"%s\"", name.c_str(),
                    v.c_str()));
    return n;
}

static void set_count(ListQuery* q, long count) {
    q->count = count < 0 ? 0 : count > kMaxCount ? kMaxCount : count;
}

static void set_sort_order(ListQuery* q, std::string_view order) {
    if (iequals(order, "descending"))
        q->descending = true;
    else if (iequals(order, "ascending") || order.empty())
        q->descending = false;
    else
        fail(400, "invalidValue",
             format("sortOrder must be \"ascending\" or \"descending\", not \"%.*s\"",
                    static_cast<int>(std::min<size_t>(order.size(), 64)), order.data()));
}

ListQuery parse_list_query(std::string_view raw) {
    ListQuery q;
    bool seen_filter = false, seen_start = false, seen_count = false, seen_attrs = false,
         seen_excluded = false, seen_sort_by = false, seen_order = false;
    while (!raw.empty()) {
        size_t amp = raw.find('&');
        std::string_view pair = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
        if (pair.empty()) continue;
        size_t eq = pair.find('=');
        std::string name = percent_decode(pair.substr(0, eq));
        std::string value =
            eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
        // The first occurrence wins, so a parameter appended later cannot
        // change what an earlier one asked for.
        if (iequals(name, "filter") && !seen_filter) {
            seen_filter = true;
            q.has_filter = true;
            q.filter = value;
        } else if (iequals(name, "startIndex") && !seen_start) {
            seen_start = true;
            q.start_index = parse_long(name, value);
            if (q.start_index < 1) q.start_index = 1;
        } else if (iequals(name, "count") && !seen_count) {
            seen_count = true;
            set_count(&q, parse_long(name, value));
        } else if (iequals(name, "attributes") && !seen_attrs) {
            seen_attrs = true;
            q.attributes = value;
        } else if (iequals(name, "excludedAttributes") && !seen_excluded) {
            seen_excluded = true;
            q.excluded_attributes = value;
        } else if (iequals(name, "sortBy") && !seen_sort_by) {
            seen_sort_by = true;
            q.sort_by = value;
        } else if (iequals(name, "sortOrder") && !seen_order) {
            seen_order = true;
            set_sort_order(&q, value);
        }
    }
    return q;
}

static std::string joined(const json_t* v, const char* name) {
    if (!v || json_is_null(v)) return std::string();
    if (json_is_string(v)) return std::string(str_view(v));
    if (!json_is_array(v))
        fail(400, "invalidValue", format("\"%s\" must be an array of attribute names", name));
    std::string out;
    size_t i;
    json_t* e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            fail(400, "invalidValue", format("\"%s\" must be an array of attribute names", name));
        if (!out.empty()) out.push_back(',');
        out.append(str_view(e));
    }
    return out;
}

ListQuery parse_search_request(const json_t* body) {
    if (!json_is_object(body)) fail(400, "invalidSyntax", "the request body must be a JSON object");
    ListQuery q;
    if (const json_t* f = object_get_ci(body, "filter")) {
        if (!json_is_string(f)) fail(400, "invalidValue", "\"filter\" must be a string");
        q.has_filter = true;
        q.filter = std::string(str_view(f));
    }
    if (const json_t* s = object_get_ci(body, "startIndex")) {
        if (!json_is_integer(s)) fail(400, "invalidValue", "\"startIndex\" must be an integer");
        q.start_index = json_integer_value(s) < 1 ? 1 : static_cast<long>(json_integer_value(s));
    }
    if (const json_t* c = object_get_ci(body, "count")) {
        if (!json_is_integer(c)) fail(400, "invalidValue", "\"count\" must be an integer");
        set_count(&q, static_cast<long>(json_integer_value(c)));
    }
    q.attributes = joined(object_get_ci(body, "attributes"), "attributes");
    q.excluded_attributes = joined(object_get_ci(body, "excludedAttributes"), "excludedAttributes");
    if (const json_t* s = object_get_ci(body, "sortBy")) {
        if (!json_is_string(s)) fail(400, "invalidValue", "\"sortBy\" must be a string");
        q.sort_by = std::string(str_view(s));
    }
    if (const json_t* o = object_get_ci(body, "sortOrder")) {
        if (!json_is_string(o)) fail(400, "invalidValue", "\"sortOrder\" must be a string");
        set_sort_order(&q, str_view(o));
    }
    return q;
}

}  // namespace scim
