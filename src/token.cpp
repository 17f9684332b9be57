// Bearer tokens: generation, hashing, token files and the constant-time check.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>

#include "directory.hpp"
#include "scim.h"
#include "util.hpp"

using namespace scim;

static const char kTokenPrefix[] = "scim_";
static const char kHashPrefix[] = "sha256:";

// SHA256() looks the algorithm up on every call (EVP_MD_fetch), which was
// a sixth of an authenticated read; the method is fetched once per process
// instead and deliberately never freed (it lives as long as the process).
static void sha256(std::string_view s, unsigned char out[SHA256_DIGEST_LENGTH]) {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    static EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    if (!md || !ctx || EVP_DigestInit_ex(ctx, md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx, s.data(), s.size()) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1)
        SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
}

extern "C" int scim_token_hash(const char* token, size_t len, char* hash,
                               size_t hash_size) noexcept {
    if (hash_size < SCIM_TOKEN_HASH_SIZE) return SCIM_EINVAL;
    unsigned char md[SHA256_DIGEST_LENGTH];
    sha256(std::string_view(token, len), md);
    std::string line = kHashPrefix + hex(md, sizeof(md));
    memcpy(hash, line.c_str(), line.size() + 1);
    return SCIM_OK;
}

extern "C" int scim_token_generate(char* token, size_t token_size, char* hash,
                                   size_t hash_size) noexcept {
    if (token_size < SCIM_TOKEN_SIZE || hash_size < SCIM_TOKEN_HASH_SIZE) return SCIM_EINVAL;
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1) return SCIM_EINTERNAL;
    unsigned char b64[48];
    int n = EVP_EncodeBlock(b64, raw, sizeof(raw));  // 44 chars with one '='
    std::string t = kTokenPrefix;
    for (int i = 0; i < n && b64[i] != '='; i++) {
        char c = static_cast<char>(b64[i]);
        t.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    memcpy(token, t.c_str(), t.size() + 1);
    return scim_token_hash(token, t.size(), hash, hash_size);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

extern "C" int scim_directory_load_tokens(scim_directory_t* dir, const char* path, char* err,
                                          size_t errlen) noexcept {
    try {
        std::ifstream in(path);
        if (!in) {
            int e = errno ? errno : EACCES;
            set_error(err, errlen, "cannot read token file \"%s\": %s", path, strerror(e));
            return e;
        }
        std::string line;
        size_t lineno = 0, loaded = 0;
        while (std::getline(in, line)) {
            lineno++;
            size_t b = line.find_first_not_of(" \t\r");
            if (b == std::string::npos || line[b] == '#') continue;
            std::string_view l = std::string_view(line).substr(b);
            if (l.compare(0, strlen(kTokenPrefix), kTokenPrefix) == 0) {
                set_error(err, errlen,
                          "token file \"%s\" line %zu holds a token, not its hash: replace the "
                          "line with the \"sha256:<hex>\" line that \"scim-admin hash\" prints "
                          "for it (the token on its stdin)",
                          path, lineno);
                return SCIM_ENOTOKENS;
            }
            std::array<unsigned char, 32> h;
            bool ok = istarts_with(l, kHashPrefix) && l.size() >= 7 + 64 &&
                      (l.size() == 7 + 64 || l[7 + 64] == ' ' || l[7 + 64] == '\t' ||
                       l[7 + 64] == '\r');
            for (size_t i = 0; ok && i < 32; i++) {
                int hi = hexval(l[7 + 2 * i]), lo = hexval(l[8 + 2 * i]);
                if (hi < 0 || lo < 0) ok = false;
                h[i] = static_cast<unsigned char>(hi << 4 | lo);
            }
            if (!ok) {
                set_error(err, errlen,
                          "token file \"%s\" line %zu: expected \"sha256:\" followed by 64 hex "
                          "digits",
                          path, lineno);
                return SCIM_ENOTOKENS;
            }
            dir->token_hashes.push_back(h);
            loaded++;
        }
        if (in.bad()) {
            set_error(err, errlen, "cannot read token file \"%s\"", path);
            return EIO;
        }
        if (loaded == 0) {
            set_error(err, errlen,
                      "token file \"%s\" holds no token hash; create one with \"scim-admin "
                      "token\"",
                      path);
            return SCIM_ENOTOKENS;
        }
        return SCIM_OK;
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

namespace scim {

bool authorized(const Directory& dir, std::string_view authorization) {
    static const std::string_view scheme = "Bearer ";
    if (!istarts_with(authorization, scheme)) return false;
    std::string_view token = trim(authorization.substr(scheme.size()));
    if (token.empty()) return false;
    // Tokens are of one length, so comparing only equal lengths tells an
    // attacker nothing the token format does not.
    const std::string& last = dir.verified_token;
    if (!last.empty() && last.size() == token.size() &&
        CRYPTO_memcmp(last.data(), token.data(), token.size()) == 0)
        return true;
    unsigned char md[SHA256_DIGEST_LENGTH];
    sha256(token, md);
    // Compare against every hash without stopping early, so the time taken
    // says nothing about which (or whether a) hash matched.
    int match = 0;
    for (const auto& h : dir.token_hashes) match |= CRYPTO_memcmp(md, h.data(), h.size()) == 0;
    if (match) dir.verified_token.assign(token);
    return match != 0;
}

}  // namespace scim

extern "C" int scim_directory_check_token(const scim_directory_t* dir, const char* token,
                                          size_t len) noexcept {
    try {
        return authorized(*dir, std::string("Bearer ") + std::string(token, len)) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int scim_directory_new(const char* name, size_t len, scim_directory_t** out, char* err,
                                  size_t errlen) noexcept {
    try {
        *out = nullptr;
        if (len == 0 || len > 64) {
            set_error(err, errlen, "a directory name has 1 to 64 characters");
            return SCIM_EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
            char c = name[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
            if (!ok) {
                set_error(err, errlen,
                          "invalid directory name \"%.*s\": use letters, digits, \"_\", \"-\" "
                          "and \".\"",
                          static_cast<int>(len), name);
                return SCIM_EINVAL;
            }
        }
        auto dir = std::make_unique<Directory>();
        dir->name.assign(name, len);
        *out = dir.release();
        return SCIM_OK;
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" void scim_directory_free(scim_directory_t* dir) noexcept { delete dir; }

extern "C" const char* scim_directory_name(const scim_directory_t* dir) noexcept {
    return dir->name.c_str();
}
