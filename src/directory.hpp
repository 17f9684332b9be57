// A directory (one IdP tenant): its name and the hashes of its bearer tokens.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

struct scim_directory_s {
    std::string name;
    std::vector<std::array<unsigned char, 32>> token_hashes;
    // The last token this process verified: the next request with the same
    // token is compared with it (in constant time) instead of hashed. Each
    // worker has its own copy after fork; a reload builds new directories.
    mutable std::string verified_token;
    // Default groups of products (folded name, product): the IdP may not
    // push a group by that name (scim_directory_reserve_groups()).
    struct Reserved {
        std::string group;
        std::string product;
    };
    std::vector<Reserved> reserved_groups;
};

namespace scim {
using Directory = scim_directory_s;

// Checks "Authorization: Bearer <token>" against the directory's hashes.
bool authorized(const Directory& dir, std::string_view authorization);
}  // namespace scim
