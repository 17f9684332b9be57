// Product access: the policy (products and the groups that grant them) and
// a user's access, computed from the store as a flat blob the glue caches
// in shared memory and reads back without the core.
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "directory.hpp"
#include "members.hpp"
#include "record.hpp"
#include "scim.h"
#include "scim_error.hpp"
#include "store_lmdb.hpp"
#include "users.hpp"
#include "util.hpp"

struct scim_policy_s {
    struct Product {
        std::string name;
        std::vector<std::string> groups;  // folded
        std::string default_group;        // as configured
    };
    std::vector<Product> products;
    std::string default_groups;  // comma-separated, as configured
};

namespace scim {
namespace {

constexpr char kMagic[8] = {'S', 'C', 'I', 'M', 'A', 'C', 'C', '1'};
constexpr uint32_t kFound = 1, kActive = 2;

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    return true;
}

// Header values must not carry control characters (a userName with a line
// break would forge request headers upstream); inside lists, the separator
// and the escape character are encoded too.
void append_header_safe(std::string* out, std::string_view s, bool list_item) {
    static const char hexdigits[] = "0123456789ABCDEF";
    // Spaces at either end are encoded too: a field value (and what an
    // app trims out of a comma-separated list) loses them, and
    // " alice@example.com" would reach the app as another user's name.
    size_t first = s.find_first_not_of(' '), last = s.find_last_not_of(' ');
    for (size_t i = 0; i < s.size(); i++) {
        char ch = s[i];
        unsigned char c = static_cast<unsigned char>(ch);
        bool edge_space = c == ' ' && (first == std::string_view::npos || i < first || i > last);
        if (c < 0x20 || c == 0x7f || edge_space || (list_item && (c == ',' || c == '%'))) {
            out->push_back('%');
            out->push_back(hexdigits[c >> 4]);
            out->push_back(hexdigits[c & 0xf]);
        } else {
            out->push_back(ch);
        }
    }
}

std::string display_name_of(const json_t* user) {
    if (const json_t* d = json_object_get(user, "displayName")) return std::string(str_view(d));
    const json_t* name = json_object_get(user, "name");
    if (const json_t* f = json_object_get(name, "formatted")) return std::string(str_view(f));
    const json_t* given = json_object_get(name, "givenName");
    const json_t* family = json_object_get(name, "familyName");
    if (given || family) {
        std::string s = given ? std::string(str_view(given)) : std::string();
        if (given && family) s.push_back(' ');
        if (family) s.append(str_view(family));
        return s;
    }
    const json_t* u = json_object_get(user, "userName");
    return u ? std::string(str_view(u)) : std::string();
}

void put_u32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }
void put_str(std::string* out, std::string_view s) {
    put_u32(out, static_cast<uint32_t>(s.size()));
    out->append(s);
}

}  // namespace
}  // namespace scim

using namespace scim;

extern "C" int scim_policy_new(scim_policy_t** policy) noexcept {
    try {
        *policy = new scim_policy_s();
        return SCIM_OK;
    } catch (...) {
        return ENOMEM;
    }
}

extern "C" void scim_policy_free(scim_policy_t* policy) noexcept { delete policy; }

extern "C" int scim_policy_add_product(scim_policy_t* policy, const char* name, size_t name_len,
                                       const char* groups, size_t groups_len,
                                       const char* default_group, size_t default_len, char* err,
                                       size_t errlen) noexcept {
    try {
        std::string_view n(name, name_len);
        if (!valid_name(n)) {
            set_error(err, errlen,
                      "invalid product name \"%.*s\": use 1 to 64 letters, digits, \"_\", \"-\" "
                      "and \".\"",
                      static_cast<int>(name_len), name);
            return SCIM_EINVAL;
        }
        for (const auto& p : policy->products)
            if (iequals(p.name, n)) {
                set_error(err, errlen, "duplicate product \"%.*s\"", static_cast<int>(name_len), name);
                return SCIM_EINVAL;
            }
        if (policy->products.size() >= SCIM_MAX_PRODUCTS) {
            set_error(err, errlen, "more than %d products", SCIM_MAX_PRODUCTS);
            return SCIM_EINVAL;
        }
        scim_policy_s::Product p;
        p.name.assign(n);
        std::string_view list(groups ? groups : "", groups ? groups_len : 0);
        while (!list.empty()) {
            size_t comma = list.find(',');
            std::string_view g = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            if (g.empty()) {
                set_error(err, errlen, "product \"%.*s\": an empty group name in \"groups\"",
                          static_cast<int>(name_len), name);
                return SCIM_EINVAL;
            }
            p.groups.push_back(ascii_lower(g));
        }
        if (default_group && default_len) p.default_group.assign(default_group, default_len);
        if (p.groups.empty() && p.default_group.empty()) {
            set_error(err, errlen, "product \"%.*s\" names no group that grants it",
                      static_cast<int>(name_len), name);
            return SCIM_EINVAL;
        }
        if (!p.default_group.empty()) {
            if (!policy->default_groups.empty()) policy->default_groups.push_back(',');
            policy->default_groups.append(p.default_group);
        }
        policy->products.push_back(std::move(p));
        return SCIM_OK;
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" int scim_policy_product(const scim_policy_t* policy, const char* name,
                                   size_t len) noexcept {
    if (!policy) return -1;
    for (size_t i = 0; i < policy->products.size(); i++)
        if (iequals(policy->products[i].name, std::string_view(name, len))) return static_cast<int>(i);
    return -1;
}

extern "C" const char* scim_policy_default_groups(const scim_policy_t* policy) noexcept {
    return policy ? policy->default_groups.c_str() : "";
}

extern "C" int scim_policy_check_store(const scim_policy_t* policy, scim_store_t* store,
                                       const scim_directory_t* dir, char* err,
                                       size_t errlen) noexcept {
    if (!policy) return SCIM_OK;
    try {
        Txn txn = Txn::read(*store);
        for (const auto& p : policy->products) {
            if (p.default_group.empty()) continue;
            std::string_view id;
            if (txn.get(store->unique,
                        unique_key(dir->name, "Group", "displayName", ascii_lower(p.default_group)),
                        &id)) {
                set_error(err, errlen,
                          "the default group \"%s\" of product \"%s\" is a group synced from the "
                          "identity provider into directory \"%s\"; a synced group cannot be a "
                          "default group: rename one of them",
                          p.default_group.c_str(), p.name.c_str(), dir->name.c_str());
                return SCIM_EINVAL;
            }
        }
        return SCIM_OK;
    } catch (const StoreError& e) {
        set_error(err, errlen, "%s", e.what());
        return e.code;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" int scim_directory_reserve_groups(scim_directory_t* dir,
                                             const scim_policy_t* policy) noexcept {
    if (!policy) return SCIM_OK;
    try {
        for (const auto& p : policy->products)
            if (!p.default_group.empty())
                dir->reserved_groups.push_back({ascii_lower(p.default_group), p.name});
        return SCIM_OK;
    } catch (...) {
        return ENOMEM;
    }
}

extern "C" int scim_access_compute(scim_store_t* store, const scim_directory_t* dir,
                                   const scim_policy_t* policy, const char* user_id, size_t len,
                                   char** blob, size_t* blob_len) noexcept {
    try {
        *blob = nullptr;
        std::string_view id(user_id, len);
        Txn txn = Txn::read(*store);
        std::string_view record;
        uint32_t flags = 0, group_count = 0;
        uint64_t products = 0;
        // No scim_product at all: the glue passes no policy, which grants
        // nothing and adds no default group.
        const size_t nproducts = policy ? policy->products.size() : 0;
        std::string name, email, display, groups, product_names;
        if (get_user_record(txn, *store, *dir, id, &record)) {
            Json user = decode_record(record);
            flags |= kFound;
            // SCIM's active is optional; only an explicit false deactivates.
            if (!json_is_false(json_object_get(user.get(), "active"))) flags |= kActive;
            if (const json_t* u = json_object_get(user.get(), "userName"))
                append_header_safe(&name, str_view(u), false);
            append_header_safe(&email, primary_email(user.get()), false);
            append_header_safe(&display, display_name_of(user.get()), false);

            std::vector<std::string> folded;
            auto add_group = [&](std::string_view g) {
                if (group_count++) groups.push_back(',');
                append_header_safe(&groups, g, true);
                folded.push_back(ascii_lower(g));
            };
            for (const std::string& gid : group_ids_of(txn, *store, *dir, id)) {
                std::string_view grecord;
                if (txn.get(store->resources, resource_key(dir->name, "Group", gid), &grecord))
                    add_group(record_string(grecord, "displayName"));
            }
            for (size_t i = 0; i < nproducts; i++)
                if (!policy->products[i].default_group.empty())
                    add_group(policy->products[i].default_group);

            // An inactive user keeps its groups but is granted nothing.
            for (size_t i = 0; (flags & kActive) && i < nproducts; i++) {
                const auto& p = policy->products[i];
                bool granted = !p.default_group.empty();
                for (const std::string& g : p.groups)
                    for (const std::string& mine : folded) granted = granted || g == mine;
                if (!granted) continue;
                products |= uint64_t(1) << i;
                if (!product_names.empty()) product_names.push_back(',');
                append_header_safe(&product_names, p.name, true);
            }
        }
        std::string out(kMagic, sizeof(kMagic));
        put_u32(&out, flags);
        put_u32(&out, group_count);
        put_u64(&out, products);
        std::string safe_id;
        append_header_safe(&safe_id, id, false);
        for (std::string_view s : {std::string_view(safe_id), std::string_view(name),
                                   std::string_view(email), std::string_view(display),
                                   std::string_view(groups), std::string_view(product_names)})
            put_str(&out, s);
        char* b = static_cast<char*>(malloc(out.size()));
        if (!b) return ENOMEM;
        memcpy(b, out.data(), out.size());
        *blob = b;
        *blob_len = out.size();
        return SCIM_OK;
    } catch (const StoreError& e) {
        return e.code;
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" int scim_access_read(const char* blob, size_t len, scim_access_t* a) noexcept {
    const size_t head = sizeof(kMagic) + 4 + 4 + 8;
    if (len < head || memcmp(blob, kMagic, sizeof(kMagic)) != 0) return SCIM_EINVAL;
    uint32_t flags, groups;
    memcpy(&flags, blob + 8, 4);
    memcpy(&groups, blob + 12, 4);
    memcpy(&a->products, blob + 16, 8);
    a->found = (flags & kFound) != 0;
    a->active = (flags & kActive) != 0;
    a->group_count = groups;
    scim_str_t* fields[] = {&a->user_id, &a->user_name, &a->email, &a->display_name, &a->groups,
                            &a->product_names};
    size_t pos = head;
    for (scim_str_t* f : fields) {
        uint32_t n;
        if (pos + 4 > len) return SCIM_EINVAL;
        memcpy(&n, blob + pos, 4);
        pos += 4;
        if (pos + n > len) return SCIM_EINVAL;
        f->data = blob + pos;
        f->len = n;
        pos += n;
    }
    return pos == len ? SCIM_OK : SCIM_EINVAL;
}
