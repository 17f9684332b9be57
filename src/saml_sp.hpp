// One directory's SAML Service Provider: what the configuration says and
// what was loaded from it (keys once, at configuration time).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "directory.hpp"
#include "saml_xml.hpp"
#include "scim_saml.h"

namespace scim::saml {

// A trusted IdP signing key: the public key alone, loaded once and lent to
// every verification context (never duplicated per verification).
struct IdpKey {
    SecKey key;
    std::string origin;   // "idp_cert /etc/..." or "idp_metadata ... certificate 2"
    std::string subject;  // for messages
};

}  // namespace scim::saml

struct scim_saml_sp_s {
    scim_saml_sp_s() = default;
    ~scim_saml_sp_s();
    scim_saml_sp_s(const scim_saml_sp_s&) = delete;
    scim_saml_sp_s& operator=(const scim_saml_sp_s&) = delete;

    bool holds_library = false;
    // A directory handle of our own (name only) for the users API.
    scim::Directory dir;
    std::array<std::string, SCIM_SAML_OPTION_COUNT> options;
    // Set explicitly by a directive: metadata does not override it.
    std::array<bool, SCIM_SAML_OPTION_COUNT> explicit_option{};
    scim_saml_policy_t policy{};
    std::vector<scim::saml::IdpKey> idp_keys;
    bool idp_wants_signed_requests = false;
    std::string metadata_file;

    scim::saml::Pkey sp_key;
    std::string sp_key_file;
    scim::saml::X509Ptr sp_cert;
    std::string sp_cert_file;
    std::string sp_cert_b64;  // DER, base64, for our metadata
    // Holds sp_key for decrypting EncryptedAssertion (xmlsec finds it there
    // when it unwraps an EncryptedKey).
    scim::saml::KeysMngr decrypt_keys;

    bool finished = false;
    std::string metadata;

    // The key that verified last is tried first (per worker process: the
    // handle is copied into each worker by fork()).
    mutable size_t preferred_key = 0;

    const std::string& opt(scim_saml_option_t o) const { return options[o]; }
};

namespace scim::saml {
using Sp = scim_saml_sp_s;
}
