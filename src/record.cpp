#include "record.hpp"

#include <stdexcept>

namespace scim {

static void move_to_end(json_t* obj, const char* key) {
    json_t* v = json_object_get(obj, key);
    if (!v) return;
    json_incref(v);
    json_object_del(obj, key);
    json_object_set_new(obj, key, v);
}

std::string encode_record(json_t* resource) {
    json_t* meta = json_object_get(resource, "meta");
    if (!json_is_object(meta) || !json_is_string(json_object_get(meta, "version")))
        throw std::logic_error("a record needs meta.version");
    json_object_del(meta, "location");
    // jansson serialises members in insertion order.
    move_to_end(meta, "version");
    move_to_end(resource, "meta");
    return dump(resource);
}

Json decode_record(std::string_view record) {
    json_error_t jerr;
    json_t* j = json_loadb(record.data(), record.size(), 0, &jerr);
    if (!j) throw std::runtime_error(std::string("corrupt stored record: ") + jerr.text);
    return take(j);
}

// Records are our own compact serialisation, so a scan that tracks string
// and nesting state finds a top-level member for a fraction of a parse.
std::string record_string(std::string_view record, std::string_view key) {
    int depth = 0;
    for (size_t i = 0; i < record.size(); i++) {
        char c = record[i];
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == '"') {
            size_t start = i;
            for (i++; i < record.size() && record[i] != '"'; i++)
                if (record[i] == '\\') i++;
            // A top-level key is a string at depth 1 followed by ':'.
            if (depth == 1 && i + 1 < record.size() && record[i + 1] == ':' &&
                record.substr(start + 1, i - start - 1) == key) {
                size_t v = i + 2;
                if (v >= record.size() || record[v] != '"') return std::string();
                size_t end = v + 1;
                for (; end < record.size() && record[end] != '"'; end++)
                    if (record[end] == '\\') end++;
                json_error_t jerr;
                Json s = take(json_loadb(record.data() + v, end + 1 - v, JSON_DECODE_ANY, &jerr));
                return json_is_string(s.get()) ? std::string(str_view(s.get())) : std::string();
            }
        }
    }
    return std::string();
}

void append_json_string(std::string* out, std::string_view s) {
    static const char hexdigits[] = "0123456789abcdef";
    out->push_back('"');
    size_t run = 0;  // start of the pending run of bytes that need no escape
    for (size_t i = 0; i < s.size(); i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out->append(s.data() + run, i - run);
        run = i + 1;
        if (c < 0x20) {
            char esc[7] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 0xf], 0};
            out->append(esc, 6);
        } else {
            out->push_back('\\');
            out->push_back(static_cast<char>(c));
        }
    }
    out->append(s.data() + run, s.size() - run);
    out->push_back('"');
}

void render_record(std::string_view record, std::string_view location, std::string_view inserted,
                   std::string* out) {
    if (record.size() < 2 || record.substr(record.size() - 2) != "}}")
        throw std::runtime_error("corrupt stored record: it does not end with meta");
    if (!inserted.empty()) {
        // The last ,"meta":{ is the top-level one: inside strings quotes are
        // escaped, and no attribute of ours nests a member named meta.
        size_t meta = record.rfind(",\"meta\":{");
        if (meta == std::string_view::npos)
            throw std::runtime_error("corrupt stored record: no meta");
        out->append(record.data(), meta + 1);
        out->append(inserted).push_back(',');
        record.remove_prefix(meta + 1);
    }
    out->append(record.data(), record.size() - 2);
    out->append(",\"location\":");
    append_json_string(out, location);
    out->append("}}");
}

std::string record_version(std::string_view record) {
    static const std::string_view key = "\"version\":";
    size_t at = record.rfind(key);
    if (at == std::string_view::npos || record.size() < 2)
        throw std::runtime_error("corrupt stored record: no meta.version");
    std::string_view literal = record.substr(at + key.size());
    literal.remove_suffix(2);  // "}}"
    json_error_t jerr;
    Json v = take(json_loadb(literal.data(), literal.size(), JSON_DECODE_ANY, &jerr));
    if (!json_is_string(v.get())) throw std::runtime_error("corrupt stored record: bad meta.version");
    return std::string(str_view(v.get()));
}

}  // namespace scim
