/*
 * Tests for the PATCH engine, from RFC 7644 §3.5.2's own examples and the
 * requests Okta and Entra ID send. Each row: a user, a PatchOp body, and
 * either the user's attributes afterwards (everything but id, schemas and
 * meta) or the error and its detail, with the user left unchanged.
 */

#include "unit.h"

#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"
#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define OPS(...) "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]," \
                 "\"Operations\":[" __VA_ARGS__ "]}"

/* The user every row starts from (RFC 7643 §8.2, trimmed). */
static const char base_user[] =
    "{\"schemas\":[\"" CORE "\"],\"userName\":\"bjensen@example.com\",\"externalId\":\"bjensen\","
    "\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},\"displayName\":\"Babs Jensen\","
    "\"active\":true,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"100 Universal City Plaza\","
    "\"locality\":\"Hollywood\",\"primary\":true}]}";

#define BASE_REST \
    "\"userName\":\"bjensen@example.com\",\"externalId\":\"bjensen\"," \
    "\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},\"displayName\":\"Babs Jensen\""
#define BASE_EMAILS \
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true}," \
    "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}]"
#define BASE_ADDRESSES \
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"100 Universal City Plaza\"," \
    "\"locality\":\"Hollywood\",\"primary\":true}]"

static const struct {
    const char *name;
    const char *patch;
    const char *expected;   /* attributes afterwards, or NULL for an error */
    int status;
    const char *scim_type;
    const char *detail;
} rows[] = {
    { "RFC: add without path (nickname lower-case, an e-mail appended)",
      OPS("{\"op\":\"add\",\"value\":{\"emails\":[{\"value\":\"babs@jensen.org\",\"type\":\"home\"},"
          "{\"value\":\"b@x.org\",\"type\":\"other\"}],\"nickname\":\"Babs\"}}"),
      "{" BASE_REST ",\"nickName\":\"Babs\",\"active\":true,"
      "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
      "{\"value\":\"babs@jensen.org\",\"type\":\"home\"},{\"value\":\"b@x.org\",\"type\":\"other\"}],"
      BASE_ADDRESSES "}", 200, NULL, NULL },
    { "RFC: remove a value selected by a filter",
      OPS("{\"op\":\"remove\",\"path\":\"emails[type eq \\\"work\\\" and value ew \\\"example.com\\\"]\"}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
      BASE_ADDRESSES "}", 200, NULL, NULL },
    { "RFC: replace a selected complex value",
      OPS("{\"op\":\"replace\",\"path\":\"addresses[type eq \\\"work\\\"]\",\"value\":{\"type\":\"work\","
          "\"streetAddress\":\"911 Universal City Plaza\",\"locality\":\"Hollywood\",\"region\":\"CA\","
          "\"postalCode\":\"91608\",\"country\":\"US\",\"formatted\":\"911 Universal City Plaza\","
          "\"primary\":true}}"),
      "{" BASE_REST ",\"active\":true," BASE_EMAILS ",\"addresses\":[{\"type\":\"work\","
      "\"streetAddress\":\"911 Universal City Plaza\",\"locality\":\"Hollywood\",\"region\":\"CA\","
      "\"postalCode\":\"91608\",\"country\":\"US\",\"formatted\":\"911 Universal City Plaza\","
      "\"primary\":true}]}", 200, NULL, NULL },
    { "RFC: replace a sub-attribute of selected values",
      OPS("{\"op\":\"replace\",\"path\":\"addresses[type eq \\\"work\\\"].streetAddress\",\"value\":\"1010 Broadway Ave\"}"),
      "{" BASE_REST ",\"active\":true," BASE_EMAILS ",\"addresses\":[{\"type\":\"work\","
      "\"streetAddress\":\"1010 Broadway Ave\",\"locality\":\"Hollywood\",\"primary\":true}]}",
      200, NULL, NULL },
    { "RFC: replace without path replaces a multi-valued attribute whole",
      OPS("{\"op\":\"replace\",\"value\":{\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
          "\"primary\":true}],\"nickname\":\"Babs\"}}"),
      "{" BASE_REST ",\"nickName\":\"Babs\",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\","
      "\"type\":\"work\",\"primary\":true}]," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "Okta: deactivate",
      OPS("{\"op\":\"replace\",\"value\":{\"active\":false}}"),
      "{" BASE_REST ",\"active\":false," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "Okta: no-path replace carrying read-only id and meta",
      OPS("{\"op\":\"replace\",\"value\":{\"id\":\"whatever\",\"meta\":{},\"displayName\":\"Babs\"}}"),
      "{\"userName\":\"bjensen@example.com\",\"externalId\":\"bjensen\","
      "\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},\"displayName\":\"Babs\","
      "\"active\":true," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "Entra: capitalised op and \"False\" as a string",
      OPS("{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}"),
      "{" BASE_REST ",\"active\":false," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "Entra: no-path value with dotted keys",
      OPS("{\"op\":\"Add\",\"value\":{\"name.givenName\":\"Barb\",\"name.middleName\":\"Jane\","
          "\"" ENT ":department\":\"Tours\"}}"),
      "{\"userName\":\"bjensen@example.com\",\"externalId\":\"bjensen\","
      "\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"Barb\",\"middleName\":\"Jane\"},"
      "\"displayName\":\"Babs Jensen\",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES ","
      "\"" ENT "\":{\"department\":\"Tours\"}}", 200, NULL, NULL },
    { "Entra: replace the work e-mail through a filter path",
      OPS("{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"barbara@example.com\"}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"barbara@example.com\",\"type\":\"work\","
      "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}]," BASE_ADDRESSES "}",
      200, NULL, NULL },
    { "Entra: a filter path that matches nothing yet adds the value it describes",
      OPS("{\"op\":\"Add\",\"path\":\"phoneNumbers[type eq \\\"mobile\\\"].value\",\"value\":\"+1 555 0100\"}"),
      "{" BASE_REST ",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES ","
      "\"phoneNumbers\":[{\"type\":\"mobile\",\"value\":\"+1 555 0100\"}]}", 200, NULL, NULL },
    { "Entra: manager given as a bare id",
      OPS("{\"op\":\"Add\",\"path\":\"" ENT ":manager\",\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}"),
      "{" BASE_REST ",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES ","
      "\"" ENT "\":{\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}}}", 200, NULL, NULL },
    { "Entra: remove values given in \"value\"",
      OPS("{\"op\":\"Remove\",\"path\":\"emails\",\"value\":[{\"value\":\"babs@jensen.org\"}]}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
      "\"primary\":true}]," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "a new primary value takes primary from the others",
      OPS("{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":\"new@example.com\",\"type\":\"work\","
          "\"primary\":true}]}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\"},"
      "{\"value\":\"babs@jensen.org\",\"type\":\"home\"},{\"value\":\"new@example.com\",\"type\":\"work\","
      "\"primary\":true}]," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "remove a single-valued attribute and a sub-attribute",
      OPS("{\"op\":\"remove\",\"path\":\"displayName\"},{\"op\":\"remove\",\"path\":\"name.givenName\"}"),
      "{\"userName\":\"bjensen@example.com\",\"externalId\":\"bjensen\",\"name\":{\"familyName\":\"Jensen\"},"
      "\"active\":true," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "removing what is not there changes nothing",
      OPS("{\"op\":\"remove\",\"path\":\"title\"},{\"op\":\"remove\",\"path\":\"emails[type eq \\\"other\\\"]\"}"),
      "{" BASE_REST ",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "add to a filter path without sub-attribute appends the described value",
      OPS("{\"op\":\"add\",\"path\":\"emails[type eq \\\"other\\\"]\",\"value\":{\"value\":\"o@x.org\"}}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
      "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"},{\"type\":\"other\","
      "\"value\":\"o@x.org\"}]," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "an extension attribute through its full path, then the whole extension removed",
      OPS("{\"op\":\"replace\",\"path\":\"" ENT ":costCenter\",\"value\":\"4130\"},"
          "{\"op\":\"remove\",\"path\":\"" ENT ":costCenter\"}"),
      "{" BASE_REST ",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },

    { "Entra: \"True\" as a string for primary",
      OPS("{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"home\\\"].primary\",\"value\":\"True\"}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\"},"
      "{\"value\":\"babs@jensen.org\",\"type\":\"home\",\"primary\":true}]," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "Entra: a custom extension this server does not know changes nothing",
      OPS("{\"op\":\"Add\",\"path\":\"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:costCenter\","
          "\"value\":\"x\"},{\"op\":\"Replace\",\"path\":\"title\",\"value\":\"Guide\"}"),
      "{" BASE_REST ",\"title\":\"Guide\",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "a whole extension as the path: replace leaves what it does not name",
      OPS("{\"op\":\"add\",\"path\":\"" ENT "\",\"value\":{\"department\":\"Ops\",\"DIVISION\":\"EU\"}},"
          "{\"op\":\"replace\",\"path\":\"" ENT "\",\"value\":{\"division\":\"US\"}}"),
      "{" BASE_REST ",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES ",\"" ENT "\":{\"department\":\"Ops\",\"division\":\"US\"}}",
      200, NULL, NULL },
    { "no-path replace of an extension merges it like a complex attribute",
      OPS("{\"op\":\"add\",\"value\":{\"" ENT "\":{\"department\":\"D1\",\"costCenter\":\"C1\",\"employeeNumber\":\"42\"}}},"
          "{\"op\":\"replace\",\"value\":{\"" ENT "\":{\"department\":\"D2\"},\"name\":{\"givenName\":\"G2\"}}}"),
      "{\"userName\":\"bjensen@example.com\",\"externalId\":\"bjensen\",\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"G2\"},"
      "\"displayName\":\"Babs Jensen\",\"active\":true," BASE_EMAILS "," BASE_ADDRESSES ","
      "\"" ENT "\":{\"department\":\"D2\",\"costCenter\":\"C1\",\"employeeNumber\":\"42\"}}",
      200, NULL, NULL },
    { "a value without primary is the one primary eq false selects",
      OPS("{\"op\":\"replace\",\"path\":\"emails[primary eq false].value\",\"value\":\"new@x.org\"}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
      "{\"value\":\"new@x.org\",\"type\":\"home\"}]," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "a filter write whose value contradicts the filter adds nothing",
      OPS("{\"op\":\"replace\",\"path\":\"addresses[type eq \\\"home\\\"]\",\"value\":{\"type\":\"other\",\"locality\":\"M\"}}"),
      NULL, 400, "noTarget", "the value written would not match it either" },
    { "a filter write of the filtered sub-attribute itself adds nothing",
      OPS("{\"op\":\"replace\",\"path\":\"emails[type eq \\\"x\\\"].type\",\"value\":\"y\"}"),
      NULL, 400, "noTarget", "no value of \"emails[...].type\" matches the filter" },
    { "adding a value already there (other case) adds no copy, and merges primary",
      OPS("{\"op\":\"add\",\"value\":{\"emails\":[{\"value\":\"BABS@Jensen.org\",\"type\":\"Home\",\"primary\":true}]}}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\"},"
      "{\"value\":\"BABS@Jensen.org\",\"type\":\"Home\",\"primary\":true}]," BASE_ADDRESSES "}",
      200, NULL, NULL },
    { "an empty string unassigns",
      OPS("{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"\"},"
          "{\"op\":\"replace\",\"path\":\"name.givenName\",\"value\":\"\"}"),
      "{\"userName\":\"bjensen@example.com\",\"externalId\":\"bjensen\",\"name\":{\"familyName\":\"Jensen\"},"
      "\"active\":true," BASE_EMAILS "," BASE_ADDRESSES "}", 200, NULL, NULL },
    { "removing an e-mail by value compares it case-insensitively",
      OPS("{\"op\":\"remove\",\"path\":\"emails\",\"value\":[{\"value\":\"BABS@JENSEN.ORG\"}]}"),
      "{" BASE_REST ",\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
      "\"primary\":true}]," BASE_ADDRESSES "}", 200, NULL, NULL },

    /* errors: 400 with the operation named, the user unchanged */
    { "unknown op", OPS("{\"op\":\"delete\",\"path\":\"title\"}"), NULL, 400, "invalidSyntax",
      "operation 1: \"op\" must be add, replace or remove, not \"delete\"" },
    { "a path aimed at a read-only attribute", OPS("{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}"),
      NULL, 400, "mutability", "operation 1 (replace id): \"id\" is read-only" },
    { "groups is read-only", OPS("{\"op\":\"add\",\"path\":\"groups\",\"value\":[{\"value\":\"g\"}]}"),
      NULL, 400, "mutability", "\"groups\" is read-only" },
    { "remove without path", OPS("{\"op\":\"remove\"}"), NULL, 400, "noTarget",
      "operation 1 (remove): remove needs a \"path\"" },
    { "a filter that matches nothing and describes no value",
      OPS("{\"op\":\"replace\",\"path\":\"emails[value co \\\"nobody\\\"].type\",\"value\":\"x\"}"),
      NULL, 400, "noTarget", "no value of \"emails[...].type\" matches the filter" },
    { "unbalanced bracket", OPS("{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"\",\"value\":\"x\"}"),
      NULL, 400, "invalidPath", "has no \"]\" for its \"[\"" },
    { "unknown attribute", OPS("{\"op\":\"replace\",\"path\":\"shoeSize\",\"value\":44}"), NULL, 400,
      "invalidPath", "unknown attribute \"shoeSize\"" },
    { "a sub-attribute of every value", OPS("{\"op\":\"replace\",\"path\":\"emails.value\",\"value\":\"x\"}"),
      NULL, 400, "invalidPath", "select values with a filter" },
    { "a wrong type names the operation",
      OPS("{\"op\":\"replace\",\"path\":\"title\",\"value\":\"ok\"},{\"op\":\"replace\",\"path\":\"active\",\"value\":\"maybe\"}"),
      NULL, 400, "invalidValue", "operation 2 (replace active): attribute \"active\" must be a boolean" },
    { "removing a required attribute", OPS("{\"op\":\"remove\",\"path\":\"userName\"}"), NULL, 400,
      "invalidValue", "operation 1 (remove userName): attribute \"userName\" is required" },
    { "add without value", OPS("{\"op\":\"add\",\"path\":\"title\"}"), NULL, 400, "invalidSyntax",
      "add needs a \"value\"" },
    { "no operations", "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[]}",
      NULL, 400, "invalidSyntax", "\"Operations\" must be a non-empty array" },
    { "wrong message schema", "{\"schemas\":[\"" CORE "\"],\"Operations\":[{\"op\":\"add\",\"value\":{}}]}",
      NULL, 400, "invalidSyntax", "\"schemas\" must list" },
    { "a primary e-mail that another user holds",
      OPS("{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"taken@example.com\"}"),
      NULL, 409, "uniqueness", "primary e-mail \"taken@example.com\" already belongs to another user" },
};

static unit_env_t env;
static void setup(void) { unit_env_open(&env); }
static void teardown(void) { unit_env_close(&env); }

START_TEST(patch_table)
{
    char path[80], etag_before[64], etag_after[64];
    json_decref(unit_do(&env, SCIM_METHOD_POST, "/Users", NULL,
                        "{\"schemas\":[\"" CORE "\"],\"userName\":\"other\","
                        "\"emails\":[{\"value\":\"taken@example.com\",\"primary\":true}]}", 201, NULL));
    json_t *user = unit_do(&env, SCIM_METHOD_POST, "/Users", NULL, base_user, 201, etag_before);
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(user, "id")));
    json_t *before = unit_do(&env, SCIM_METHOD_GET, path, NULL, NULL, 200, NULL);

    scim_response_t resp;
    scim_request_t req = unit_request(SCIM_METHOD_PATCH, path, NULL, rows[_i].patch, env.auth);
    json_t *out = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_msg(resp.status == rows[_i].status, "%s: expected %d, got %d: %.*s", rows[_i].name,
                  rows[_i].status, resp.status, (int) resp.body_len, resp.body);
    scim_response_free(&resp);

    json_t *after = unit_do(&env, SCIM_METHOD_GET, path, NULL, NULL, 200, etag_after);
    if (rows[_i].expected) {
        ck_assert_msg(json_equal(out, after), "%s: the PATCH response differs from a GET", rows[_i].name);
        json_object_del(after, "id");
        json_object_del(after, "meta");
        json_object_del(after, "schemas");
        unit_json_eq(after, rows[_i].expected, rows[_i].name);
    } else {
        ck_assert_str_eq(json_string_value(json_object_get(out, "scimType")), rows[_i].scim_type);
        const char *detail = json_string_value(json_object_get(out, "detail"));
        ck_assert_msg(strstr(detail, rows[_i].detail) != NULL, "%s: expected \"%s\" in \"%s\"",
                      rows[_i].name, rows[_i].detail, detail);
        /* all or nothing */
        ck_assert_msg(json_equal(before, after), "%s: a failed PATCH changed the user", rows[_i].name);
        ck_assert_str_eq(etag_before, etag_after);
    }
    json_decref(out);
    json_decref(after);
    json_decref(before);
    json_decref(user);
}
END_TEST

START_TEST(patch_changes_version_only_when_something_changes)
{
    char path[80], e1[64], e2[64], e3[64];
    json_t *user = unit_do(&env, SCIM_METHOD_POST, "/Users", NULL, base_user, 201, e1);
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(user, "id")));
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL,
                        OPS("{\"op\":\"replace\",\"path\":\"active\",\"value\":true}"), 200, e2));
    ck_assert_str_eq(e1, e2);
    json_t *j = unit_do(&env, SCIM_METHOD_PATCH, path, NULL,
                        OPS("{\"op\":\"replace\",\"path\":\"active\",\"value\":false}"), 200, e3);
    ck_assert_str_ne(e2, e3);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "meta"), "version")), e3);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "meta"), "created")),
                     json_string_value(json_object_get(json_object_get(user, "meta"), "created")));
    json_decref(j);
    json_decref(user);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("patch");
    TCase *tc = tcase_create("patch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, patch_table, 0, sizeof(rows) / sizeof(rows[0]));
    tcase_add_test(tc, patch_changes_version_only_when_something_changes);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
