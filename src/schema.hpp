// SCIM schemas as static tables (RFC 7643 §4, §7, §8.7): the single
// description of every attribute that input validation, filters, responses
// and the /Schemas endpoint read.
#pragma once

#include <cstddef>
#include <string_view>

namespace scim {

enum class Type { String, Boolean, Decimal, Integer, DateTime, Binary, Reference, Complex };
enum class Mutability { ReadWrite, ReadOnly, Immutable, WriteOnly };
enum class Returned { Default, Always, Never, Request };
enum class Uniqueness { None, Server, Global };

struct Attribute {
    const char* name;
    Type type;
    bool multi_valued;
    bool required;
    bool case_exact;
    Mutability mutability;
    Returned returned;
    Uniqueness uniqueness;
    const Attribute* sub_attributes;
    size_t sub_count;
    const char* description;
    // Reference attributes: what they may point at, comma-separated.
    const char* reference_types = nullptr;
};

struct Schema {
    const char* id;
    const char* name;
    const char* description;
    const Attribute* attributes;
    size_t count;
};

struct ResourceType {
    const char* name;      // "User"
    const char* endpoint;  // "/Users"
    const char* description;
    const Schema* schema;
    const Schema* const* extensions;
    size_t extension_count;
};

extern const Schema kUserSchema;
extern const Schema kEnterpriseUserSchema;
extern const Schema kGroupSchema;
extern const ResourceType kUserResource;
extern const ResourceType kGroupResource;

// id, externalId and meta: common to every resource (RFC 7643 §3.1).
extern const Attribute* const kCommonAttributes;
extern const size_t kCommonAttributeCount;

extern const char kListResponseUrn[];
extern const char kErrorUrn[];
extern const char kServiceProviderConfigUrn[];

// Case-insensitive lookups; nullptr when absent.
const Attribute* find_attribute(const Schema& schema, std::string_view name);
const Attribute* find_sub_attribute(const Attribute& attr, std::string_view name);
const Attribute* find_common_attribute(std::string_view name);
const Schema* find_extension(const ResourceType& rt, std::string_view urn);

}  // namespace scim
