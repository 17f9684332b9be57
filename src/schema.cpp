#include "schema.hpp"

#include "util.hpp"

namespace scim {

const char kListResponseUrn[] = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const char kErrorUrn[] = "urn:ietf:params:scim:api:messages:2.0:Error";
const char kServiceProviderConfigUrn[] =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

namespace {

constexpr Mutability RW = Mutability::ReadWrite;
constexpr Mutability RO = Mutability::ReadOnly;
constexpr Mutability IM = Mutability::Immutable;
constexpr Mutability WO = Mutability::WriteOnly;

// Helpers that keep the tables one line per attribute.
constexpr Attribute str(const char* n, const char* d, Mutability m = RW, bool req = false) {
    return {n, Type::String, false, req, false, m, Returned::Default, Uniqueness::None, nullptr,
            0, d};
}
constexpr Attribute ref(const char* n, const char* d, Mutability m = RW,
                        const char* refs = "external") {
    return {n, Type::Reference, false, false, false, m, Returned::Default, Uniqueness::None,
            nullptr, 0, d, refs};
}
constexpr Attribute boolean(const char* n, const char* d, Mutability m = RW) {
    return {n, Type::Boolean, false, false, false, m, Returned::Default, Uniqueness::None, nullptr,
            0, d};
}
template <size_t N>
constexpr Attribute complex(const char* n, const Attribute (&subs)[N], const char* d,
                            bool multi = false, Mutability m = RW) {
    return {n, Type::Complex, multi, false, false, m, Returned::Default, Uniqueness::None, subs, N,
            d};
}

const Attribute kNameSubs[] = {
    str("formatted", "The full name, formatted for display."),
    str("familyName", "The family name."),
    str("givenName", "The given name."),
    str("middleName", "The middle name(s)."),
    str("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
    str("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
};

// The value/display/type/primary shape of most multi-valued attributes.
const Attribute kPluralSubs[] = {
    str("value", "The value."),
    str("display", "A human-readable name, primarily used for display purposes."),
    str("type", "A label indicating the attribute's function, e.g. 'work' or 'home'."),
    boolean("primary", "Whether this is the preferred value; at most one value is primary."),
};

// Emails: the primary one is what links a SAML sign-in to the user, so it
// is unique; the schema's uniqueness field cannot say "only the primary",
// the description does.
const Attribute kEmailSubs[] = {
    str("value",
        "The e-mail address. The user's primary e-mail (the value marked primary, else the "
        "first of type 'work', else the first) is unique within the directory, "
        "case-insensitively (409 uniqueness); other e-mails need not be."),
    str("display", "A human-readable name, primarily used for display purposes."),
    str("type", "A label indicating the attribute's function, e.g. 'work' or 'home'."),
    boolean("primary", "Whether this is the preferred value; at most one value is primary."),
};

const Attribute kPhotoSubs[] = {
    ref("value", "URL of a photo of the user."),
    str("display", "A human-readable name, primarily used for display purposes."),
    str("type", "'photo' or 'thumbnail'."),
    boolean("primary", "Whether this is the preferred photo."),
};

const Attribute kCertificateSubs[] = {
    {"value", Type::Binary, false, false, true, RW, Returned::Default, Uniqueness::None, nullptr,
     0, "The DER-encoded X.509 certificate, base64."},
    str("display", "A human-readable name, primarily used for display purposes."),
    str("type", "A label indicating the attribute's function."),
    boolean("primary", "Whether this is the preferred certificate."),
};

const Attribute kAddressSubs[] = {
    str("formatted", "The full mailing address, formatted for display."),
    str("streetAddress", "The full street address component."),
    str("locality", "The city or locality component."),
    str("region", "The state or region component."),
    str("postalCode", "The zip code or postal code component."),
    str("country", "The country name component (ISO 3166-1 alpha-2)."),
    str("type", "'work', 'home' or 'other'."),
    boolean("primary", "Whether this is the preferred address."),
};

const Attribute kUserGroupSubs[] = {
    str("value", "The identifier of the user's group.", RO),
    ref("$ref", "The URI of the corresponding Group resource.", RO, "Group"),
    str("display", "The group's displayName.", RO),
    str("type", "'direct' or 'indirect'.", RO),
};

const Attribute kUserAttributes[] = {
    {"userName", Type::String, false, true, false, RW, Returned::Default, Uniqueness::Server,
     nullptr, 0,
     "Unique identifier for the User, typically used to sign in; unique case-insensitively."},
    complex("name", kNameSubs, "The components of the user's real name."),
    str("displayName", "The name of the User, suitable for display to end-users."),
    str("nickName", "The casual way to address the user."),
    ref("profileUrl", "A fully qualified URL pointing to the user's online profile."),
    str("title", "The user's title, such as 'Vice President'."),
    str("userType", "The relationship between the organization and the user."),
    str("preferredLanguage", "The user's preferred written or spoken language."),
    str("locale", "The user's default location for localization."),
    str("timezone", "The user's time zone in the 'Olson' time zone database format."),
    boolean("active", "The user's administrative status; an inactive user is granted nothing."),
    {"password", Type::String, false, false, false, WO, Returned::Never, Uniqueness::None, nullptr,
     0, "Accepted and discarded: authentication is the identity provider's job."},
    complex("emails", kEmailSubs,
            "Email addresses for the user; the primary one is unique within the directory.", true),
    complex("phoneNumbers", kPluralSubs, "Phone numbers for the user.", true),
    complex("ims", kPluralSubs, "Instant messaging addresses for the user.", true),
    complex("photos", kPhotoSubs, "URLs of photos of the user.", true),
    complex("addresses", kAddressSubs, "A physical mailing address for this user.", true),
    complex("groups", kUserGroupSubs, "The groups the user belongs to, from the membership index.",
            true, RO),
    complex("entitlements", kPluralSubs, "A list of entitlements for the user.", true),
    complex("roles", kPluralSubs, "A list of roles for the user.", true),
    complex("x509Certificates", kCertificateSubs, "A list of certificates issued to the user.",
            true),
};

const Attribute kManagerSubs[] = {
    str("value", "The id of the SCIM resource representing the user's manager."),
    ref("$ref", "The URI of the SCIM resource representing the user's manager.", RW, "User"),
    str("displayName", "The displayName of the user's manager.", RO),
};

const Attribute kEnterpriseAttributes[] = {
    str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
    str("costCenter", "Identifies the name of a cost center."),
    str("organization", "Identifies the name of an organization."),
    str("division", "Identifies the name of a division."),
    str("department", "Identifies the name of a department."),
    complex("manager", kManagerSubs, "The user's manager."),
};

const Attribute kMemberSubs[] = {
    str("value", "Identifier of the member of this Group.", IM),
    ref("$ref", "The URI of the member resource.", IM, "User,Group"),
    str("type", "'User' or 'Group'.", IM),
    str("display", "A human-readable name of the member.", RO),
};

const Attribute kGroupAttributes[] = {
    {"displayName", Type::String, false, true, false, RW, Returned::Default, Uniqueness::Server,
     nullptr, 0, "A human-readable name for the Group; unique case-insensitively."},
    complex("members", kMemberSubs, "A list of members of the Group.", true),
};

const Attribute kMetaSubs[] = {
    str("resourceType", "The name of the resource type of the resource.", RO),
    {"created", Type::DateTime, false, false, false, RO, Returned::Default, Uniqueness::None,
     nullptr, 0, "When the resource was added to the service provider."},
    {"lastModified", Type::DateTime, false, false, false, RO, Returned::Default, Uniqueness::None,
     nullptr, 0, "When the resource was last modified."},
    ref("location", "The URI of the resource.", RO, "uri"),
    str("version", "The version (weak entity tag) of the resource.", RO),
};

const Attribute kCommon[] = {
    {"id", Type::String, false, false, true, RO, Returned::Always, Uniqueness::Server, nullptr, 0,
     "Unique identifier for the resource, assigned by the service provider."},
    {"externalId", Type::String, false, false, true, RW, Returned::Default, Uniqueness::None,
     nullptr, 0, "Identifier of the resource as defined by the provisioning client."},
    complex("meta", kMetaSubs, "Resource metadata.", false, RO),
};

const Schema* const kUserExtensions[] = {&kEnterpriseUserSchema};

}  // namespace

const Schema kUserSchema = {"urn:ietf:params:scim:schemas:core:2.0:User", "User", "User Account",
                            kUserAttributes, sizeof(kUserAttributes) / sizeof(Attribute)};
const Schema kEnterpriseUserSchema = {
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "EnterpriseUser",
    "Enterprise User", kEnterpriseAttributes, sizeof(kEnterpriseAttributes) / sizeof(Attribute)};
const Schema kGroupSchema = {"urn:ietf:params:scim:schemas:core:2.0:Group", "Group", "Group",
                             kGroupAttributes, sizeof(kGroupAttributes) / sizeof(Attribute)};

const ResourceType kUserResource = {"User", "/Users", "User Account", &kUserSchema,
                                    kUserExtensions, 1};
const ResourceType kGroupResource = {"Group", "/Groups", "Group", &kGroupSchema, nullptr, 0};

const Attribute* const kCommonAttributes = kCommon;
const size_t kCommonAttributeCount = sizeof(kCommon) / sizeof(Attribute);

static const Attribute* find_in(const Attribute* attrs, size_t n, std::string_view name) {
    for (size_t i = 0; i < n; i++)
        if (iequals(attrs[i].name, name)) return &attrs[i];
    return nullptr;
}

const Attribute* find_attribute(const Schema& schema, std::string_view name) {
    return find_in(schema.attributes, schema.count, name);
}

const Attribute* find_sub_attribute(const Attribute& attr, std::string_view name) {
    return find_in(attr.sub_attributes, attr.sub_count, name);
}

const Attribute* find_common_attribute(std::string_view name) {
    return find_in(kCommon, kCommonAttributeCount, name);
}

const Schema* find_extension(const ResourceType& rt, std::string_view urn) {
    for (size_t i = 0; i < rt.extension_count; i++)
        if (iequals(rt.extensions[i]->id, urn)) return rt.extensions[i];
    return nullptr;
}

}  // namespace scim
