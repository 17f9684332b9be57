/*
 * Tests for versions (ETag, If-Match, If-None-Match), attributes and
 * excludedAttributes, sorting, POST .search, /Bulk and discovery.
 */

#include "unit.h"

#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"
#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define BULK "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkRequest\"],"

static unit_env_t env;
static void setup(void) { unit_env_open(&env); }
static void teardown(void) { unit_env_close(&env); }

static json_t *request(scim_method_t m, const char *path, const char *query, const char *body,
                       const char *if_match, const char *if_none_match, int status, char *etag)
{
    scim_response_t resp;
    scim_request_t req = unit_request(m, path, query, body, env.auth);
    req.if_match = unit_str(if_match);
    req.if_none_match = unit_str(if_none_match);
    json_t *j = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_msg(resp.status == status, "%s: expected %d, got %d: %.*s", path, status, resp.status,
                  (int) resp.body_len, resp.body ? resp.body : "");
    if (etag) snprintf(etag, 64, "%s", resp.etag ? resp.etag : "");
    scim_response_free(&resp);
    return j;
}

START_TEST(versions_and_preconditions)
{
    char path[80], v1[64], v2[64];
    json_t *u = unit_do(&env, SCIM_METHOD_POST, "/Users", NULL,
                        "{\"schemas\":[\"" CORE "\"],\"userName\":\"v\"}", 201, v1);
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(u, "id")));
    json_decref(u);

    /* If-None-Match with the current version: 304 and no body */
    ck_assert_ptr_null(request(SCIM_METHOD_GET, path, NULL, NULL, NULL, v1, 304, NULL));
    ck_assert_ptr_null(request(SCIM_METHOD_GET, path, NULL, NULL, NULL, "W/\"0\", *", 304, NULL));
    json_decref(request(SCIM_METHOD_GET, path, NULL, NULL, NULL, "W/\"0\"", 200, NULL));

    /* If-Match with another version: 412, nothing written */
    const char put[] = "{\"schemas\":[\"" CORE "\"],\"userName\":\"v\",\"title\":\"t\"}";
    json_t *e = request(SCIM_METHOD_PUT, path, NULL, put, "W/\"1\"", NULL, 412, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(e, "status")), "412");
    json_decref(e);
    json_decref(request(SCIM_METHOD_PUT, path, NULL, put, v1, NULL, 200, v2));
    ck_assert_str_ne(v1, v2);
    /* a strong form of the same tag matches weakly */
    char strong[64];
    snprintf(strong, sizeof(strong), "%s", v2 + 2);
    json_decref(request(SCIM_METHOD_PATCH, path, NULL,
                        "{\"Operations\":[{\"op\":\"remove\",\"path\":\"title\"}]}", strong, NULL, 200, NULL));
    json_decref(request(SCIM_METHOD_DELETE, path, NULL, NULL, v2, NULL, 412, NULL));
    json_decref(request(SCIM_METHOD_DELETE, path, NULL, NULL, "*", NULL, 204, NULL));
}
END_TEST

START_TEST(put_replaces_and_keeps_created)
{
    char path[80];
    json_t *u = unit_do(&env, SCIM_METHOD_POST, "/Users", NULL,
                        "{\"schemas\":[\"" CORE "\",\"" ENT "\"],\"userName\":\"p\",\"title\":\"Boss\","
                        "\"" ENT "\":{\"department\":\"Ops\"}}", 201, NULL);
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(u, "id")));
    /* Okta's PUT: read-only id, meta and groups are ignored; what it does not send is cleared */
    char body[512];
    snprintf(body, sizeof(body),
             "{\"schemas\":[\"" CORE "\"],\"id\":\"%s\",\"userName\":\"P\",\"displayName\":\"Pat\","
             "\"groups\":[{\"value\":\"g\"}],\"meta\":{\"created\":\"2000-01-01T00:00:00Z\"}}",
             json_string_value(json_object_get(u, "id")));
    json_t *r = unit_do(&env, SCIM_METHOD_PUT, path, NULL, body, 200, NULL);
    ck_assert_ptr_null(json_object_get(r, "title"));
    ck_assert_ptr_null(json_object_get(r, ENT));
    ck_assert_ptr_null(json_object_get(r, "groups"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "userName")), "P");
    ck_assert_uint_eq(json_array_size(json_object_get(r, "schemas")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "meta"), "created")),
                     json_string_value(json_object_get(json_object_get(u, "meta"), "created")));
    json_decref(r);
    json_decref(u);
    json_decref(unit_do(&env, SCIM_METHOD_PUT, "/Users/nope", NULL, body, 404, NULL));
}
END_TEST

START_TEST(attributes_and_excluded_attributes)
{
    char path[80];
    json_t *u = unit_do(&env, SCIM_METHOD_POST, "/Users", "attributes=userName",
                        "{\"schemas\":[\"" CORE "\",\"" ENT "\"],\"userName\":\"a\",\"title\":\"T\","
                        "\"name\":{\"givenName\":\"A\",\"familyName\":\"B\"},"
                        "\"emails\":[{\"value\":\"a@x.org\",\"type\":\"work\"},{\"value\":\"b@x.org\"}],"
                        "\"" ENT "\":{\"department\":\"Ops\",\"costCenter\":\"1\"}}", 201, NULL);
    /* write responses honour "attributes" too; id and schemas always come */
    json_t *stripped = json_deep_copy(u);
    json_object_del(stripped, "id");
    unit_json_eq(stripped, "{\"schemas\":[\"" CORE "\",\"" ENT "\"],\"userName\":\"a\"}", "POST with attributes");
    json_decref(stripped);
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(u, "id")));

    json_t *r = unit_do(&env, SCIM_METHOD_GET, path,
                        "attributes=name.givenName,emails.value," ENT ":department,meta.version", NULL, 200, NULL);
    json_object_del(r, "id");
    json_object_del(json_object_get(r, "meta"), "version");
    unit_json_eq(r, "{\"schemas\":[\"" CORE "\",\"" ENT "\"],\"name\":{\"givenName\":\"A\"},"
                    "\"emails\":[{\"value\":\"a@x.org\"},{\"value\":\"b@x.org\"}],"
                    "\"" ENT "\":{\"department\":\"Ops\"},\"meta\":{}}", "attributes");
    json_decref(r);

    r = unit_do(&env, SCIM_METHOD_GET, path, "excludedAttributes=emails,name.familyName," ENT ",id,meta", NULL, 200, NULL);
    ck_assert_ptr_nonnull(json_object_get(r, "id"));  /* returned "always" */
    ck_assert_ptr_null(json_object_get(r, "emails"));
    ck_assert_ptr_null(json_object_get(r, ENT));
    ck_assert_ptr_null(json_object_get(r, "meta"));
    unit_json_eq(json_object_get(r, "name"), "{\"givenName\":\"A\"}", "excluded sub-attribute");
    json_decref(r);

    /* lists too; unknown names are ignored */
    r = unit_do(&env, SCIM_METHOD_GET, "/Users", "attributes=userName,shoeSize", NULL, 200, NULL);
    json_t *first = json_array_get(json_object_get(r, "Resources"), 0);
    ck_assert_uint_eq(json_object_size(first), 3);
    json_decref(r);
    json_decref(u);
}
END_TEST

START_TEST(sorting)
{
    const char *users[] = {
        "{\"schemas\":[\"" CORE "\"],\"userName\":\"carol\",\"name\":{\"familyName\":\"b\"},"
        "\"emails\":[{\"value\":\"z@x.org\"},{\"value\":\"a@x.org\",\"primary\":true}]}",
        "{\"schemas\":[\"" CORE "\"],\"userName\":\"Alice\",\"name\":{\"familyName\":\"C\"},"
        "\"emails\":[{\"value\":\"m@x.org\"}]}",
        "{\"schemas\":[\"" CORE "\"],\"userName\":\"bob\"}",
    };
    for (size_t i = 0; i < 3; i++) json_decref(unit_do(&env, SCIM_METHOD_POST, "/Users", NULL, users[i], 201, NULL));
    static const struct {
        const char *query;
        const char *order[3];
    } cases[] = {
        { "sortBy=userName", { "Alice", "bob", "carol" } },
        { "sortBy=USERNAME&sortOrder=DESCENDING", { "carol", "bob", "Alice" } },
        { "sortBy=name.familyName", { "carol", "Alice", "bob" } },          /* missing last */
        { "sortBy=name.familyName&sortOrder=descending", { "bob", "Alice", "carol" } },  /* missing first */
        { "sortBy=emails", { "carol", "Alice", "bob" } },                   /* the primary value */
        { "sortBy=userName&startIndex=2&count=1", { "bob", NULL, NULL } },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        json_t *r = unit_do(&env, SCIM_METHOD_GET, "/Users", cases[c].query, NULL, 200, NULL);
        json_t *res = json_object_get(r, "Resources");
        for (size_t i = 0; i < 3 && cases[c].order[i]; i++) {
            const char *got = json_string_value(json_object_get(json_array_get(res, i), "userName"));
            ck_assert_msg(got && strcmp(got, cases[c].order[i]) == 0, "%s: position %zu: expected %s, got %s",
                          cases[c].query, i + 1, cases[c].order[i], got ? got : "(none)");
        }
        json_decref(r);
    }
    json_t *e = unit_do(&env, SCIM_METHOD_GET, "/Users", "sortBy=userName&sortOrder=up", NULL, 400, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(e, "scimType")), "invalidValue");
    json_decref(e);
    json_decref(unit_do(&env, SCIM_METHOD_GET, "/Users", "sortBy=nope", NULL, 400, NULL));
    json_decref(unit_do(&env, SCIM_METHOD_GET, "/Groups", "sortBy=members", NULL, 400, NULL));
}
END_TEST

START_TEST(search_by_post)
{
    json_decref(unit_do(&env, SCIM_METHOD_POST, "/Users", NULL,
                        "{\"schemas\":[\"" CORE "\"],\"userName\":\"s1\",\"displayName\":\"Sam\"}", 201, NULL));
    json_decref(unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL,
                        "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"Sam's group\"}", 201, NULL));
    json_t *r = unit_do(&env, SCIM_METHOD_POST, "/Users/.search", NULL,
                        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"],"
                        "\"attributes\":[\"displayName\"],\"filter\":\"userName sw \\\"s\\\"\","
                        "\"startIndex\":1,\"count\":10}", 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "totalResults")), 1);
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(r, "Resources"), 0), "userName"));
    json_decref(r);
    /* the root endpoint searches every type the filter makes sense for */
    r = unit_do(&env, SCIM_METHOD_POST, "/.search", NULL,
                "{\"filter\":\"displayName sw \\\"sam\\\"\",\"sortBy\":\"displayName\"}", 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "totalResults")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(
                         json_object_get(r, "Resources"), 1), "meta"), "resourceType")), "Group");
    json_decref(r);
    r = unit_do(&env, SCIM_METHOD_POST, "/.search", NULL, "{\"filter\":\"userName pr\"}", 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "totalResults")), 1);
    json_decref(r);
    /* an attribute one type lacks is unassigned there, not a reason to skip the type */
    r = unit_do(&env, SCIM_METHOD_POST, "/.search", NULL,
                "{\"filter\":\"userName eq \\\"s1\\\" or displayName eq \\\"Sam's group\\\"\"}", 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "totalResults")), 2);
    json_decref(r);
    r = unit_do(&env, SCIM_METHOD_POST, "/.search", NULL, "{\"filter\":\"not (userName eq \\\"s1\\\")\"}", 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "totalResults")), 1);
    json_decref(r);
    r = unit_do(&env, SCIM_METHOD_POST, "/.search", NULL, "{\"sortBy\":\"userName\"}", 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "totalResults")), 2);
    json_decref(r);
    json_decref(unit_do(&env, SCIM_METHOD_POST, "/.search", NULL, "{\"filter\":\"shoeSize pr\"}", 400, NULL));
    json_decref(unit_do(&env, SCIM_METHOD_POST, "/Users/.search", NULL, "{\"count\":\"ten\"}", 400, NULL));
    /* .search is an endpoint for POST only, not a resource named ".search" */
    json_decref(unit_do(&env, SCIM_METHOD_GET, "/Users/.search", NULL, NULL, 405, NULL));
    json_decref(unit_do(&env, SCIM_METHOD_DELETE, "/Groups/.search", NULL, NULL, 405, NULL));
}
END_TEST

START_TEST(bulk_with_references)
{
    /* the group refers forward to a user created later in the request */
    json_t *r = unit_do(&env, SCIM_METHOD_POST, "/Bulk", NULL, BULK "\"failOnErrors\":5,\"Operations\":["
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"g1\",\"data\":{\"schemas\":[\"" GROUP "\"],"
        "\"displayName\":\"Tour Guides\",\"members\":[{\"type\":\"User\",\"value\":\"bulkId:u1\"}]}},"
        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"u1\",\"data\":{\"schemas\":[\"" CORE "\"],"
        "\"userName\":\"Alice\"}},"
        "{\"method\":\"PATCH\",\"path\":\"/Users/bulkId:u1\",\"data\":{\"Operations\":[{\"op\":\"add\","
        "\"path\":\"title\",\"value\":\"Guide\"}]}},"
        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"dup\",\"data\":{\"schemas\":[\"" CORE "\"],"
        "\"userName\":\"alice\"}},"
        "{\"method\":\"DELETE\",\"path\":\"/Users/bulkId:nowhere\"}"
        "]}", 200, NULL);
    json_t *ops = json_object_get(r, "Operations");
    ck_assert_uint_eq(json_array_size(ops), 5);
    json_t *g = json_array_get(ops, 0), *u = json_array_get(ops, 1), *p = json_array_get(ops, 2);
    ck_assert_str_eq(json_string_value(json_object_get(g, "status")), "201");
    ck_assert_str_eq(json_string_value(json_object_get(u, "status")), "201");
    ck_assert_str_eq(json_string_value(json_object_get(p, "status")), "200");
    ck_assert_str_eq(json_string_value(json_object_get(g, "bulkId")), "g1");
    ck_assert_ptr_nonnull(json_object_get(g, "version"));
    json_t *d = json_array_get(ops, 3);
    ck_assert_str_eq(json_string_value(json_object_get(d, "status")), "409");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "response"), "scimType")), "uniqueness");
    json_t *x = json_array_get(ops, 4);
    ck_assert_str_eq(json_string_value(json_object_get(x, "status")), "409");

    /* the group's member is the user the bulk created */
    const char *gloc = json_string_value(json_object_get(g, "location"));
    const char *uloc = json_string_value(json_object_get(u, "location"));
    char gpath[96];
    snprintf(gpath, sizeof(gpath), "%s", strstr(gloc, "/Groups/"));
    json_t *group = unit_do(&env, SCIM_METHOD_GET, gpath, NULL, NULL, 200, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(group, "members"), 0), "value")),
                     strrchr(uloc, '/') + 1);
    json_decref(group);
    json_decref(r);

    /* every result but a failed POST's has a location */
    r = unit_do(&env, SCIM_METHOD_POST, "/Bulk", NULL, BULK "\"Operations\":["
        "{\"method\":\"DELETE\",\"path\":\"/Users/ghost\"},"
        "{\"method\":\"POST\",\"path\":\"//Bulk\",\"bulkId\":\"n\",\"data\":{}}]}", 200, NULL);
    ops = json_object_get(r, "Operations");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ops, 0), "location")),
                     "https://sso.example.com/scim/v2/Users/ghost");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ops, 1), "status")), "400");
    json_decref(r);

    /* failOnErrors stops after that many errors */
    r = unit_do(&env, SCIM_METHOD_POST, "/Bulk", NULL, BULK "\"failOnErrors\":1,\"Operations\":["
        "{\"method\":\"DELETE\",\"path\":\"/Users/ghost\"},"
        "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"b\",\"data\":{\"schemas\":[\"" CORE "\"],\"userName\":\"never\"}}"
        "]}", 200, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(r, "Operations")), 1);
    json_decref(r);
    json_t *l = unit_do(&env, SCIM_METHOD_GET, "/Users", "filter=userName%20eq%20%22never%22", NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 0);
    json_decref(l);

    /* circular references, and a POST without bulkId */
    r = unit_do(&env, SCIM_METHOD_POST, "/Bulk", NULL, BULK "\"Operations\":["
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"a\",\"data\":{\"schemas\":[\"" GROUP "\"],"
        "\"displayName\":\"A\",\"members\":[{\"value\":\"bulkId:b\"}]}},"
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"b\",\"data\":{\"schemas\":[\"" GROUP "\"],"
        "\"displayName\":\"B\",\"members\":[{\"value\":\"bulkId:a\"}]}},"
        "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"schemas\":[\"" CORE "\"],\"userName\":\"x\"}}"
        "]}", 200, NULL);
    ops = json_object_get(r, "Operations");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ops, 0), "status")), "409");
    ck_assert_msg(strstr(json_string_value(json_object_get(json_object_get(json_array_get(ops, 0), "response"),
                                                           "detail")), "circular"), "not reported as circular");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ops, 2), "status")), "400");
    json_decref(r);
}
END_TEST

START_TEST(bulk_limits)
{
    size_t n = 1001, cap = n * 64 + 256;
    char *body = malloc(cap), *p = body;
    p += sprintf(p, BULK "\"Operations\":[");
    for (size_t i = 0; i < n; i++) p += sprintf(p, "%s{\"method\":\"DELETE\",\"path\":\"/Users/x%zu\"}", i ? "," : "", i);
    sprintf(p, "]}");
    json_t *e = unit_do(&env, SCIM_METHOD_POST, "/Bulk", NULL, body, 413, NULL);
    ck_assert_msg(strstr(json_string_value(json_object_get(e, "detail")), "maxOperations is 1000"), "detail");
    json_decref(e);
    free(body);

    cap = 1048576 + 4096;
    body = malloc(cap);
    p = body + sprintf(body, BULK "\"Operations\":[{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"b\","
                             "\"data\":{\"schemas\":[\"" CORE "\"],\"userName\":\"");
    memset(p, 'x', 1048576);
    sprintf(p + 1048576, "\"}}]}");
    e = unit_do(&env, SCIM_METHOD_POST, "/Bulk", NULL, body, 413, NULL);
    ck_assert_msg(strstr(json_string_value(json_object_get(e, "detail")), "maxPayloadSize is 1048576"), "detail");
    json_decref(e);
    free(body);
    json_decref(unit_do(&env, SCIM_METHOD_POST, "/Bulk", NULL, BULK "\"Operations\":{}}", 400, NULL));
}
END_TEST

START_TEST(discovery_describes_what_works)
{
    json_t *l = unit_do(&env, SCIM_METHOD_GET, "/Schemas", NULL, NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 3);
    json_decref(l);
    json_t *s = unit_do(&env, SCIM_METHOD_GET, "/Schemas/" CORE, NULL, NULL, 200, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(s, "name")), "User");
    json_t *attrs = json_object_get(s, "attributes"), *a;
    size_t i;
    int seen = 0;
    json_array_foreach(attrs, i, a) {
        const char *name = json_string_value(json_object_get(a, "name"));
        if (strcmp(name, "userName") == 0) {
            ck_assert(json_is_true(json_object_get(a, "required")));
            ck_assert_str_eq(json_string_value(json_object_get(a, "uniqueness")), "server");
            ck_assert(json_is_false(json_object_get(a, "caseExact")));
            seen++;
        }
        if (strcmp(name, "groups") == 0) {
            ck_assert_str_eq(json_string_value(json_object_get(a, "mutability")), "readOnly");
            ck_assert_uint_eq(json_array_size(json_object_get(a, "subAttributes")), 4);
            seen++;
        }
        if (strcmp(name, "password") == 0) {
            ck_assert_str_eq(json_string_value(json_object_get(a, "returned")), "never");
            seen++;
        }
        if (strcmp(name, "emails") == 0) {
            /* only the primary e-mail is unique: said in the description, not in uniqueness */
            json_t *value = json_array_get(json_object_get(a, "subAttributes"), 0);
            ck_assert_str_eq(json_string_value(json_object_get(value, "name")), "value");
            ck_assert_str_eq(json_string_value(json_object_get(value, "uniqueness")), "none");
            const char *d = json_string_value(json_object_get(value, "description"));
            ck_assert_msg(d && strstr(d, "primary e-mail") && strstr(d, "409"),
                          "emails.value description: expected the primary e-mail's uniqueness, got %s", d);
            seen++;
        }
        ck_assert_msg(strcmp(name, "id") != 0, "common attributes are not listed in a schema");
    }
    ck_assert_int_eq(seen, 4);
    json_decref(s);
    s = unit_do(&env, SCIM_METHOD_GET, "/Schemas/" GROUP, NULL, NULL, 200, NULL);
    json_t *members = json_array_get(json_object_get(s, "attributes"), 1);
    json_t *ref = json_array_get(json_object_get(members, "subAttributes"), 1);
    unit_json_eq(json_object_get(ref, "referenceTypes"), "[\"User\",\"Group\"]", "members.$ref");
    json_decref(s);
    json_decref(unit_do(&env, SCIM_METHOD_GET, "/Schemas/urn:nope", NULL, NULL, 404, NULL));
    /* RFC 7644 §4: a filter here is refused, not silently ignored */
    json_decref(unit_do(&env, SCIM_METHOD_GET, "/Schemas", "filter=id%20pr", NULL, 403, NULL));
    json_decref(unit_do(&env, SCIM_METHOD_GET, "/ResourceTypes", "filter=id%20pr", NULL, 403, NULL));

    json_t *rt = unit_do(&env, SCIM_METHOD_GET, "/ResourceTypes/User", NULL, NULL, 200, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(rt, "endpoint")), "/Users");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(rt, "schemaExtensions"), 0),
                                                       "schema")), ENT);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rt, "meta"), "location")),
                     "https://sso.example.com/scim/v2/ResourceTypes/User");
    json_decref(rt);
}
END_TEST

START_TEST(ids_sort_by_creation)
{
    /* a user created during a paged import lands after the pages already read */
    char first[40] = "";
    for (int i = 0; i < 5; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"schemas\":[\"" CORE "\"],\"userName\":\"o%d\"}", i);
        json_t *u = unit_do(&env, SCIM_METHOD_POST, "/Users", NULL, body, 201, NULL);
        const char *id = json_string_value(json_object_get(u, "id"));
        ck_assert_msg(strcmp(first, id) < 0, "id %s does not sort after %s", id, first);
        snprintf(first, sizeof(first), "%s", id);
        json_decref(u);
        usleep(2000);
    }
    json_t *l = unit_do(&env, SCIM_METHOD_GET, "/Users", NULL, NULL, 200, NULL);
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof(name), "o%d", i);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(l, "Resources"), i), "userName")), name);
    }
    json_decref(l);
}
END_TEST

START_TEST(email_index_and_id_lookups)
{
    json_t *u = unit_do(&env, SCIM_METHOD_POST, "/Users", NULL,
                        "{\"schemas\":[\"" CORE "\"],\"userName\":\"e\",\"emails\":[{\"value\":\"Work@Example.com\","
                        "\"type\":\"work\"},{\"value\":\"home@example.org\"}]}", 201, NULL);
    json_decref(unit_do(&env, SCIM_METHOD_POST, "/Users", NULL,
                        "{\"schemas\":[\"" CORE "\"],\"userName\":\"f\",\"emails\":[{\"value\":\"f@example.com\"},"
                        "{\"value\":\"HOME@example.org\"}]}", 201, NULL));
    static const struct {
        const char *filter;
        int total;
    } cases[] = {
        { "emails.value%20eq%20%22work%40example.COM%22", 1 },
        { "emails%5Bvalue%20eq%20%22home%40example.org%22%5D", 2 },
        { "emails%20eq%20%22f%40example.com%22", 1 },
        { "emails%5Btype%20eq%20%22work%22%20and%20value%20eq%20%22home%40example.org%22%5D", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char q[256];
        snprintf(q, sizeof(q), "filter=%s", cases[i].filter);
        json_t *l = unit_do(&env, SCIM_METHOD_GET, "/Users", q, NULL, 200, NULL);
        ck_assert_msg(json_integer_value(json_object_get(l, "totalResults")) == cases[i].total,
                      "%s: expected %d", cases[i].filter, cases[i].total);
        json_decref(l);
    }
    char q[128];
    snprintf(q, sizeof(q), "filter=id%%20eq%%20%%22%s%%22", json_string_value(json_object_get(u, "id")));
    json_t *l = unit_do(&env, SCIM_METHOD_GET, "/Users", q, NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 1);
    json_decref(l);
    /* after a PATCH the old address is out of the index and the new one in */
    char path[80];
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(u, "id")));
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL,
                        "{\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"].value\","
                        "\"value\":\"new@example.com\"}]}", 200, NULL));
    l = unit_do(&env, SCIM_METHOD_GET, "/Users", "filter=emails.value%20eq%20%22work%40example.com%22", NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 0);
    json_decref(l);
    l = unit_do(&env, SCIM_METHOD_GET, "/Users", "filter=emails.value%20eq%20%22NEW%40example.com%22", NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 1);
    json_decref(l);
    json_decref(u);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("features");
    TCase *tc = tcase_create("features");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, versions_and_preconditions);
    tcase_add_test(tc, put_replaces_and_keeps_created);
    tcase_add_test(tc, attributes_and_excluded_attributes);
    tcase_add_test(tc, sorting);
    tcase_add_test(tc, search_by_post);
    tcase_add_test(tc, bulk_with_references);
    tcase_add_test(tc, bulk_limits);
    tcase_add_test(tc, discovery_describes_what_works);
    tcase_add_test(tc, email_index_and_id_lookups);
    tcase_add_test(tc, ids_sort_by_creation);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
