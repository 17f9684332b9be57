#include "query.hpp"

#include <cerrno>
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

ListQuery parse_list_query(std::string_view raw) {
    ListQuery q;
    bool seen_filter = false, seen_start = false, seen_count = false;
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
            q.count = parse_long(name, value);
            if (q.count < 0) q.count = 0;
            if (q.count > kMaxCount) q.count = kMaxCount;
        }
    }
    return q;
}

}  // namespace scim
