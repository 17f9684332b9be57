/*
 * Tests for scim_handle(): the JSON round trip of a User, authentication,
 * routing, RFC 7644 error bodies, filters and pagination.
 */

#include "unit.h"

#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"
#define ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

static unit_env_t env;

static void setup(void) { unit_env_open(&env); }
static void teardown(void) { unit_env_close(&env); }

/* POST a body and return the response JSON; the status must be `status`. */
static json_t *post_user(const char *body, int status)
{
    scim_response_t resp;
    scim_request_t req = unit_request(SCIM_METHOD_POST, "/Users", NULL, body, env.auth);
    json_t *j = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_msg(resp.status == status, "POST /Users: expected %d, got %d: %.*s", status,
                  resp.status, (int) resp.body_len, resp.body);
    scim_response_free(&resp);
    return j;
}

static json_t *get(const char *path, const char *query, int status)
{
    scim_response_t resp;
    scim_request_t req = unit_request(SCIM_METHOD_GET, path, query, NULL, env.auth);
    json_t *j = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_msg(resp.status == status, "GET %s?%s: expected %d, got %d: %.*s", path,
                  query ? query : "", status, resp.status, (int) resp.body_len, resp.body);
    scim_response_free(&resp);
    return j;
}

static void assert_json_eq(json_t *got, const char *want_text)
{
    json_error_t err;
    json_t *want = json_loads(want_text, 0, &err);
    ck_assert_msg(want != NULL, "bad expected JSON: %s", err.text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        ck_abort_msg("expected %s\n got %s", w, g);
    }
    json_decref(want);
}

START_TEST(user_round_trip_keeps_what_the_schema_defines)
{
    const char body[] =
        "{\"schemas\":[\"" CORE "\",\"" ENTERPRISE "\"],"
        "\"USERNAME\":\"bjensen@example.com\",\"externalId\":\"00u1\","
        "\"id\":\"client-chosen\",\"meta\":{\"created\":\"2001-01-01T00:00:00Z\"},"
        "\"groups\":[{\"value\":\"g1\"}],\"password\":\"t1meMa$heen\","
        "\"shoeSize\":44,"
        "\"name\":{\"GivenName\":\"Barbara\",\"familyName\":\"Jensen\",\"nickname\":\"x\"},"
        "\"displayName\":\"Babs Jensen\",\"active\":\"False\",\"title\":null,"
        "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
        "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
        "\"phoneNumbers\":[],"
        "\"addresses\":[{\"streetAddress\":\"100 Universal City Plaza\",\"locality\":\"Hollywood\","
        "\"postalCode\":\"91608\",\"country\":\"USA\",\"type\":\"work\",\"primary\":true}],"
        "\"" ENTERPRISE "\":{\"employeeNumber\":\"701984\",\"department\":\"Tour Operations\","
        "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\",\"displayName\":\"ro\"}}}";
    json_t *created = post_user(body, 201);
    const char *id = json_string_value(json_object_get(created, "id"));
    ck_assert_ptr_nonnull(id);
    ck_assert_str_ne(id, "client-chosen");
    ck_assert_uint_eq(strlen(id), 36);

    json_t *meta = json_object_get(created, "meta");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "resourceType")), "User");
    ck_assert_str_ne(json_string_value(json_object_get(meta, "created")), "2001-01-01T00:00:00Z");
    char location[128];
    snprintf(location, sizeof(location), "https://sso.example.com/scim/v2/Users/%s", id);
    ck_assert_str_eq(json_string_value(json_object_get(meta, "location")), location);
    ck_assert_str_eq(json_string_value(json_object_get(meta, "created")),
                     json_string_value(json_object_get(meta, "lastModified")));

    char path[64];
    snprintf(path, sizeof(path), "/Users/%s", id);
    json_t *read = get(path, NULL, 200);
    ck_assert_msg(json_equal(created, read), "GET differs from the POST response");

    /* without meta and id, the stored user is exactly the normalised input */
    json_object_del(read, "meta");
    json_object_del(read, "id");
    assert_json_eq(read,
        "{\"schemas\":[\"" CORE "\",\"" ENTERPRISE "\"],"
        "\"userName\":\"bjensen@example.com\",\"externalId\":\"00u1\","
        "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
        "\"displayName\":\"Babs Jensen\",\"active\":false,"
        "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
        "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
        "\"addresses\":[{\"streetAddress\":\"100 Universal City Plaza\",\"locality\":\"Hollywood\","
        "\"postalCode\":\"91608\",\"country\":\"USA\",\"type\":\"work\",\"primary\":true}],"
        "\"" ENTERPRISE "\":{\"employeeNumber\":\"701984\",\"department\":\"Tour Operations\","
        "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}}}");
    json_decref(read);
    json_decref(created);
}
END_TEST

START_TEST(post_sets_location_and_etag)
{
    scim_response_t resp;
    scim_request_t req = unit_request(SCIM_METHOD_POST, "/Users", NULL,
                                      "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\"}", env.auth);
    json_t *j = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_int_eq(resp.status, 201);
    json_t *meta = json_object_get(j, "meta");
    ck_assert_str_eq(resp.location, json_string_value(json_object_get(meta, "location")));
    ck_assert_str_eq(resp.etag, json_string_value(json_object_get(meta, "version")));
    ck_assert_msg(strncmp(resp.etag, "W/\"", 3) == 0, "ETag %s is not weak", resp.etag);
    json_decref(j);
    scim_response_free(&resp);
}
END_TEST

START_TEST(locations_are_escaped_json)
{
    /* nginx lets a Host header carry a quote; it must not break the JSON */
    scim_response_t resp;
    scim_request_t req = unit_request(SCIM_METHOD_POST, "/Users", NULL,
                                      "{\"schemas\":[\"" CORE "\"],\"userName\":\"q\"}", env.auth);
    req.base_url = unit_str("http://ev\"il\\host/scim/v2");
    json_t *j = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_int_eq(resp.status, 201);
    char want[128];
    snprintf(want, sizeof(want), "http://ev\"il\\host/scim/v2/Users/%s",
             json_string_value(json_object_get(j, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "meta"), "location")), want);
    ck_assert_str_eq(resp.location, want);
    json_decref(j);
    scim_response_free(&resp);

    scim_request_t list = unit_request(SCIM_METHOD_GET, "/Users", NULL, NULL, env.auth);
    list.base_url = req.base_url;
    j = unit_call(env.store, env.dir, &list, &resp);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
                         json_array_get(json_object_get(j, "Resources"), 0), "meta"), "location")),
                     want);
    json_decref(j);
    scim_response_free(&resp);
}
END_TEST

START_TEST(primary_email_is_unique_case_insensitively)
{
    json_t *a = post_user("{\"schemas\":[\"" CORE "\"],\"userName\":\"a\","
                          "\"emails\":[{\"value\":\"home@x.org\",\"type\":\"home\"},"
                          "{\"value\":\"Shared@Example.com\",\"primary\":true}]}", 201);
    /* no value marked primary: the work e-mail is the primary one */
    json_t *b = post_user("{\"schemas\":[\"" CORE "\"],\"userName\":\"b\","
                          "\"emails\":[{\"value\":\"b@x.org\",\"type\":\"home\"},"
                          "{\"value\":\"shared@EXAMPLE.com\",\"type\":\"work\"}]}", 409);
    ck_assert_str_eq(json_string_value(json_object_get(b, "scimType")), "uniqueness");
    ck_assert_msg(strstr(json_string_value(json_object_get(b, "detail")),
                         "primary e-mail \"shared@EXAMPLE.com\" already belongs to another user"),
                  "detail: %s", json_string_value(json_object_get(b, "detail")));
    json_decref(b);
    /* the same address as a secondary e-mail is no conflict */
    json_decref(post_user("{\"schemas\":[\"" CORE "\"],\"userName\":\"c\","
                          "\"emails\":[{\"value\":\"c@x.org\",\"primary\":true},"
                          "{\"value\":\"shared@example.com\"}]}", 201));
    /* once the owner is deleted, the address is free */
    char path[64];
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(a, "id")));
    scim_response_t resp;
    scim_request_t del = unit_request(SCIM_METHOD_DELETE, path, NULL, NULL, env.auth);
    unit_call(env.store, env.dir, &del, &resp);
    ck_assert_int_eq(resp.status, 204);
    scim_response_free(&resp);
    json_decref(post_user("{\"schemas\":[\"" CORE "\"],\"userName\":\"b\","
                          "\"emails\":[{\"value\":\"shared@EXAMPLE.com\",\"type\":\"work\"}]}", 201));
    json_decref(a);
}
END_TEST

static const struct {
    const char *body;
    int status;
    const char *scim_type;
    const char *detail;
} bad_posts[] = {
    { "{\"schemas\":[\"" CORE "\"],\"userName\":", 400, "invalidSyntax", "not valid JSON" },
    { "[1,2]", 400, "invalidSyntax", "must be a JSON object" },
    { "{\"userName\":\"a\"}", 400, "invalidSyntax", "\"schemas\" must list \"" CORE "\"" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"userName\":\"b\"}", 400,
      "invalidSyntax", "duplicate" },
    { "{\"schemas\":[\"" CORE "\"]}", 400, "invalidValue", "attribute \"userName\" is required" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"\"}", 400, "invalidValue", "\"userName\" is required" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\" \\t \"}", 400, "invalidValue", "\"userName\" is required and cannot be blank" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":7}", 400, "invalidValue",
      "attribute \"userName\" must be a string" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"active\":\"yes\"}", 400, "invalidValue",
      "attribute \"active\" must be a boolean" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"emails\":{\"value\":\"x\"}}", 400,
      "invalidValue", "attribute \"emails\" must be an array of values, each an object" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"emails\":[\"x\"]}", 400, "invalidValue",
      "attribute \"emails[0]\" must be an object" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"name\":{\"givenName\":1}}", 400,
      "invalidValue", "attribute \"name.givenName\" must be a string" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"emails\":[{\"value\":\"x\",\"primary\":true},"
      "{\"value\":\"y\",\"primary\":true}]}", 400, "invalidValue", "2 values marked primary" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"" ENTERPRISE "\":\"x\"}", 400,
      "invalidValue", "must be an object" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"USERNAME\":\"b\"}", 400, "invalidSyntax",
      "attribute \"userName\" appears twice (names are case-insensitive)" },
    { "{\"schemas\":[\"" CORE "\"],\"userName\":\"a\",\"x509Certificates\":[{\"value\":\"not base64!\"}]}",
      400, "invalidValue", "must be a base64 string" },
};

START_TEST(bad_bodies_get_rfc7644_errors)
{
    json_t *j = post_user(bad_posts[_i].body, bad_posts[_i].status);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "schemas"), 0)),
                     "urn:ietf:params:scim:api:messages:2.0:Error");
    char status[8];
    snprintf(status, sizeof(status), "%d", bad_posts[_i].status);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), status);
    ck_assert_str_eq(json_string_value(json_object_get(j, "scimType")), bad_posts[_i].scim_type);
    const char *detail = json_string_value(json_object_get(j, "detail"));
    ck_assert_msg(strstr(detail, bad_posts[_i].detail) != NULL,
                  "body %d: expected detail with \"%s\", got \"%s\"", _i, bad_posts[_i].detail, detail);
    json_decref(j);
}
END_TEST

START_TEST(authentication)
{
    scim_response_t resp;
    const char *auths[] = { NULL, "Bearer", "Bearer wrong", "Basic dXNlcjpwYXNz", "bearer x" };
    for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
        scim_request_t req = unit_request(SCIM_METHOD_GET, "/Users", NULL, NULL, auths[i]);
        json_t *j = unit_call(env.store, env.dir, &req, &resp);
        ck_assert_msg(resp.status == 401, "Authorization \"%s\": expected 401, got %d",
                      auths[i] ? auths[i] : "(none)", resp.status);
        ck_assert(resp.headers & SCIM_HEADER_WWW_AUTHENTICATE);
        ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "401");
        ck_assert_ptr_null(json_object_get(j, "scimType"));
        json_decref(j);
        scim_response_free(&resp);
    }
    /* the scheme is case-insensitive (RFC 7235) */
    char lower[96];
    snprintf(lower, sizeof(lower), "bearer %s", env.auth + 7);
    scim_request_t req = unit_request(SCIM_METHOD_GET, "/Users", NULL, NULL, lower);
    json_decref(unit_call(env.store, env.dir, &req, &resp));
    ck_assert_int_eq(resp.status, 200);
    ck_assert(!(resp.headers & SCIM_HEADER_WWW_AUTHENTICATE));
    scim_response_free(&resp);
}
END_TEST

static const struct {
    scim_method_t method;
    const char *path;
    const char *content_type;
    int status;
} routes[] = {
    { SCIM_METHOD_GET, "/ServiceProviderConfig", NULL, 200 },
    { SCIM_METHOD_GET, "/serviceproviderconfig/", NULL, 200 },
    { SCIM_METHOD_HEAD, "/Users", NULL, 200 },
    { SCIM_METHOD_GET, "/Users/", NULL, 200 },
    { SCIM_METHOD_GET, "/Users/nope", NULL, 404 },
    { SCIM_METHOD_DELETE, "/Users/nope", NULL, 404 },
    { SCIM_METHOD_GET, "/Users/a/b", NULL, 404 },
    { SCIM_METHOD_GET, "/Nope", NULL, 404 },
    { SCIM_METHOD_GET, "", NULL, 404 },
    { SCIM_METHOD_GET, "/Me", NULL, 501 },
    { SCIM_METHOD_GET, "/Groups", NULL, 200 },
    { SCIM_METHOD_GET, "/Schemas", NULL, 200 },
    { SCIM_METHOD_GET, "/ResourceTypes/User", NULL, 200 },
    { SCIM_METHOD_GET, "/ResourceTypes/Nope", NULL, 404 },
    { SCIM_METHOD_PUT, "/Users/x", "application/scim+json", 400 },  /* "{}" has no schemas */
    { SCIM_METHOD_PATCH, "/Users/x", "application/scim+json", 404 },
    { SCIM_METHOD_PUT, "/Users", "application/scim+json", 405 },
    { SCIM_METHOD_DELETE, "/Users", NULL, 405 },
    { SCIM_METHOD_OTHER, "/Users", NULL, 405 },
    { SCIM_METHOD_POST, "/Users", "text/plain", 415 },
    { SCIM_METHOD_POST, "/Users", "application/x-www-form-urlencoded", 415 },
};

START_TEST(routing)
{
    scim_response_t resp;
    scim_request_t req = unit_request(routes[_i].method, routes[_i].path, NULL,
                                      routes[_i].content_type ? "{}" : NULL, env.auth);
    req.content_type = unit_str(routes[_i].content_type);
    json_t *j = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_msg(resp.status == routes[_i].status, "%d %s: expected %d, got %d: %.*s",
                  routes[_i].method, routes[_i].path, routes[_i].status, resp.status,
                  (int) resp.body_len, resp.body);
    if (resp.status >= 400) {
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(resp.reason[0] != '\0', "no log reason for %d", resp.status);
    }
    json_decref(j);
    scim_response_free(&resp);
}
END_TEST

START_TEST(service_provider_config_is_honest)
{
    json_t *j = get("/ServiceProviderConfig", NULL, 200);
    ck_assert(json_is_true(json_object_get(json_object_get(j, "patch"), "supported")));
    ck_assert(json_is_true(json_object_get(json_object_get(j, "bulk"), "supported")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "bulk"), "maxOperations")), 1000);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "bulk"), "maxPayloadSize")), 1048576);
    ck_assert(json_is_true(json_object_get(json_object_get(j, "sort"), "supported")));
    ck_assert(json_is_true(json_object_get(json_object_get(j, "etag"), "supported")));
    ck_assert(json_is_false(json_object_get(json_object_get(j, "changePassword"), "supported")));
    ck_assert(json_is_true(json_object_get(json_object_get(j, "filter"), "supported")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "filter"), "maxResults")), 1000);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
                         json_object_get(j, "authenticationSchemes"), 0), "type")),
                     "oauthbearertoken");
    json_decref(j);
}
END_TEST

/* "filter=" and the filter, percent-encoded where a query string needs it. */
static void filter_query(const char *filter, char *query)
{
    char *q = query + sprintf(query, "filter=");
    for (const char *p = filter; *p; p++) {
        if (*p == ' ' || *p == '"' || *p == '[' || *p == ']' || *p == '&' || *p == '+')
            q += sprintf(q, "%%%02X", (unsigned char) *p);
        else
            *q++ = *p;
    }
    *q = '\0';
}

/* A small fixed population for the filter table. */
static void populate(void)
{
    static const char *users[] = {
        "{\"schemas\":[\"" CORE "\"],\"userName\":\"bjensen\",\"externalId\":\"E1\","
        "\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},\"active\":true,"
        "\"title\":\"Tour Guide\",\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
        "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
        "\"" ENTERPRISE "\":{\"department\":\"Ops\"}}",
        "{\"schemas\":[\"" CORE "\"],\"userName\":\"jsmith\",\"externalId\":\"E2\","
        "\"name\":{\"familyName\":\"Smith\",\"givenName\":\"John\"},\"active\":false,"
        "\"emails\":[{\"value\":\"john@example.org\",\"type\":\"work\"}]}",
        "{\"schemas\":[\"" CORE "\"],\"userName\":\"mross\","
        "\"name\":{\"familyName\":\"Ross\"},\"active\":true,"
        "\"emails\":[{\"value\":\"mross@example.com\",\"type\":\"home\"}],"
        "\"" ENTERPRISE "\":{\"department\":\"Sales\"}}",
        "{\"schemas\":[\"" CORE "\"],\"userName\":\"Zed\",\"externalId\":\"e1\"}",
    };
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) json_decref(post_user(users[i], 201));
}

static const struct {
    const char *filter;
    int total;
} filters[] = {
    { "userName eq \"BJENSEN\"", 1 },
    { "username EQ \"bjensen\"", 1 },
    { "userName eq \"nobody\"", 0 },
    { "externalId eq \"E1\"", 1 },                   /* caseExact: E1 and e1 differ */
    { "externalId eq \"e1\"", 1 },
    { "externalId pr", 3 },
    { "userName sw \"J\"", 1 },
    { "userName ew \"ss\"", 1 },
    { "userName co \"e\"", 2 },                       /* bjensen, Zed */
    { "userName gt \"m\"", 2 },                       /* mross, zed */
    { "userName le \"jsmith\"", 2 },
    { "name.familyName eq \"jensen\"", 1 },
    { "active eq true", 2 },
    { "active eq false", 1 },
    { "active ne true", 2 },                          /* jsmith and Zed (unset) */
    { "not (active eq true)", 2 },
    { "title pr", 1 },
    { "title eq null", 3 },
    { "emails co \"example.com\"", 2 },
    { "emails.value ew \".org\"", 2 },
    { "emails[type eq \"work\" and value co \"@example.com\"]", 1 },
    { "emails[type eq \"home\"]", 2 },
    { "emails[not (type eq \"work\")]", 2 },
    /* RFC 7643 §2.4: a value without "primary" is not primary */
    { "emails[primary eq false and value eq \"babs@jensen.org\"]", 1 },
    { "emails.primary eq false", 3 },
    { "emails[primary eq true]", 1 },
    { "emails.primary pr", 1 },                       /* pr still means "sent" */
    { "emails.type eq \"work\" and emails.value co \"jensen.org\"", 1 },
    { "userName eq \"bjensen\" or userName eq \"jsmith\"", 2 },
    { "userName eq \"bjensen\" or userName eq \"jsmith\" and active eq true", 1 },
    { "(userName eq \"bjensen\" or userName eq \"jsmith\") and active eq true", 1 },
    { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"ops\"", 1 },
    { "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"zed\"", 1 },
    { "meta.created gt \"2000-01-01T00:00:00Z\"", 4 },
    { "meta.created lt \"2000-01-01T00:00:00+01:00\"", 0 },
    { "meta.resourceType eq \"User\"", 4 },
    { "id pr and not (userName eq \"x\")", 4 },
    { "name pr", 3 },                                 /* a complex attribute is present when not empty */
    { "emails pr", 3 },
    { "emails.type ne \"work\"", 3 },                /* any value; Zed has none */
};

START_TEST(filter_semantics)
{
    populate();
    char query[512];
    filter_query(filters[_i].filter, query);
    json_t *j = get("/Users", query, 200);
    ck_assert_msg(json_integer_value(json_object_get(j, "totalResults")) == filters[_i].total,
                  "filter %s: expected %d results, got %lld", filters[_i].filter, filters[_i].total,
                  json_integer_value(json_object_get(j, "totalResults")));
    ck_assert_int_eq(json_array_size(json_object_get(j, "Resources")), filters[_i].total);
    json_decref(j);
}
END_TEST

static const struct {
    const char *filter;
    const char *detail;
} bad_filters[] = {
    { "", "the filter is empty" },
    { "userName", "expected a space and an operator after the attribute at position 9" },
    { "userName eq", "expected a space and a value after the operator at position 12" },
    { "userName xx \"a\"", "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) at position 10" },
    { "userName eq \"a", "unterminated string at position 13" },
    { "userName eq a", "expected a value (a quoted string, a number, true, false or null) at position 13" },
    { "(userName eq \"a\"", "missing \")\" for the \"(\" at position 1" },
    { "userName eq \"a\")", "unbalanced \")\" at position 16" },
    { "userName eq \"a\" xor x", "expected \"and\", \"or\" or the end of the filter at position 17" },
    { "emails[type eq \"work\"", "missing \"]\" for the \"[\" at position 7" },
    { "emails[type eq \"work\" and x[y pr]]", "cannot contain another \"[\"" },
    { "a.b.c pr", "at most one sub-attribute" },
    { "1abc pr", "an attribute name starts with a letter" },
    { "nickName eq \"a\" and", "expected an expression" },
    { "shoeSize eq 1", "unknown attribute \"shoeSize\" at position 1" },
    { "name.nick eq \"a\"", "unknown attribute \"name.nick\"" },
    { "urn:example:Foo:bar eq \"a\"", "unknown schema \"urn:example:Foo\"" },
    { "name eq \"x\"", "\"name\" is complex: compare one of its sub-attributes" },
    { "active gt true", "\"active\" is a boolean: use eq, ne or pr" },
    { "active eq \"true\"", "\"active\" is a boolean: compare it with true or false" },
    { "userName eq 1", "\"userName\" is a string: compare it with a quoted value" },
    { "meta.created gt \"yesterday\"", "is a dateTime" },
    { "meta.location co \"Users\"", "\"meta.location\" cannot be filtered" },
    { "meta.location pr", "\"meta.location\" cannot be filtered" },
    { "meta.created gt \"2000-01-01T00:00:00+25:00\"", "is a dateTime" },
    { "meta.created gt \"2023-02-29T00:00:00Z\"", "is a dateTime" },
    { "meta.created gt \"2024-04-31T00:00:00Z\"", "is a dateTime" },
    { "userName gt null", "null can only be compared with eq or ne" },
    { "emails[kind eq \"work\"]", "\"emails\" has no sub-attribute \"kind\"" },
    { "userName[value eq \"x\"]", "has no sub-attributes to filter on" },
    { "((((((((((((((((((((((((((((((((((((userName pr))))))))))))))))))))))))))))))))))))",
      "nested too deeply" },
    { "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or "
      "id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr or id pr",
      "the filter has more than 256 comparisons" },
};

START_TEST(bad_filters_name_the_position)
{
    char query[4096];
    filter_query(bad_filters[_i].filter, query);
    json_t *j = get("/Users", query, 400);
    ck_assert_str_eq(json_string_value(json_object_get(j, "scimType")), "invalidFilter");
    const char *detail = json_string_value(json_object_get(j, "detail"));
    ck_assert_msg(strstr(detail, bad_filters[_i].detail) != NULL,
                  "filter %s: expected \"%s\" in \"%s\"", bad_filters[_i].filter,
                  bad_filters[_i].detail, detail);
    json_decref(j);
}
END_TEST

START_TEST(pagination_is_stable_and_complete)
{
    char body[256], query[64];
    for (int i = 0; i < 7; i++) {
        snprintf(body, sizeof(body), "{\"schemas\":[\"" CORE "\"],\"userName\":\"user%d\"}", i);
        json_decref(post_user(body, 201));
    }
    json_t *all = get("/Users", NULL, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(all, "totalResults")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(all, "itemsPerPage")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(all, "startIndex")), 1);

    /* pages of 3 at 1, 4, 7 hold the same users in the same order */
    int seen = 0;
    for (int start = 1; start <= 7; start += 3) {
        snprintf(query, sizeof(query), "startIndex=%d&count=3", start);
        json_t *page = get("/Users", query, 200);
        json_t *res = json_object_get(page, "Resources");
        ck_assert_int_eq(json_integer_value(json_object_get(page, "totalResults")), 7);
        ck_assert_int_eq(json_integer_value(json_object_get(page, "startIndex")), start);
        ck_assert_int_eq(json_integer_value(json_object_get(page, "itemsPerPage")),
                         (int) json_array_size(res));
        for (size_t i = 0; i < json_array_size(res); i++, seen++) {
            ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, i), "id")),
                             json_string_value(json_object_get(
                                 json_array_get(json_object_get(all, "Resources"), seen), "id")));
        }
        json_decref(page);
    }
    ck_assert_int_eq(seen, 7);

    json_t *j = get("/Users", "count=0", 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "totalResults")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "itemsPerPage")), 0);
    ck_assert_msg(json_is_array(json_object_get(j, "Resources")) && json_array_size(json_object_get(j, "Resources")) == 0,
                  "count=0: expected \"Resources\":[] (required when totalResults is non-zero)");
    json_decref(j);

    j = get("/Users", "startIndex=0&count=-5", 200);  /* below 1 means 1, negative means 0 */
    ck_assert_int_eq(json_integer_value(json_object_get(j, "startIndex")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "itemsPerPage")), 0);
    json_decref(j);

    j = get("/Users", "startIndex=100", 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "totalResults")), 7);
    ck_assert_int_eq(json_array_size(json_object_get(j, "Resources")), 0);
    json_decref(j);

    j = get("/Users", "COUNT=2&Count=5", 200);  /* names are case-insensitive; the first wins */
    ck_assert_int_eq(json_integer_value(json_object_get(j, "itemsPerPage")), 2);
    json_decref(j);

    j = get("/Users", "count=ten", 400);
    ck_assert_str_eq(json_string_value(json_object_get(j, "scimType")), "invalidValue");
    json_decref(j);
    json_decref(all);
}
END_TEST

START_TEST(log_reason_has_no_control_characters)
{
    json_t *j = post_user("{\"schemas\":[\"" CORE "\"],\"userName\":\"a\\nforged [alert] line\"}", 201);
    json_decref(j);
    scim_response_t resp;
    scim_request_t req = unit_request(SCIM_METHOD_POST, "/Users", NULL,
                                      "{\"schemas\":[\"" CORE "\"],\"userName\":\"A\\nforged [alert] line\"}",
                                      env.auth);
    j = unit_call(env.store, env.dir, &req, &resp);
    ck_assert_int_eq(resp.status, 409);
    ck_assert_msg(strchr(resp.reason, '\n') == NULL, "reason has a newline: %s", resp.reason);
    ck_assert_msg(strstr(resp.reason, "409 uniqueness: userName") != NULL, "reason: %s", resp.reason);
    json_decref(j);
    scim_response_free(&resp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, user_round_trip_keeps_what_the_schema_defines);
    tcase_add_test(tc, post_sets_location_and_etag);
    tcase_add_test(tc, locations_are_escaped_json);
    tcase_add_test(tc, primary_email_is_unique_case_insensitively);
    tcase_add_loop_test(tc, bad_bodies_get_rfc7644_errors, 0, sizeof(bad_posts) / sizeof(bad_posts[0]));
    tcase_add_test(tc, authentication);
    tcase_add_loop_test(tc, routing, 0, sizeof(routes) / sizeof(routes[0]));
    tcase_add_test(tc, service_provider_config_is_honest);
    tcase_add_loop_test(tc, filter_semantics, 0, sizeof(filters) / sizeof(filters[0]));
    tcase_add_loop_test(tc, bad_filters_name_the_position, 0, sizeof(bad_filters) / sizeof(bad_filters[0]));
    tcase_add_test(tc, pagination_is_stable_and_complete);
    tcase_add_test(tc, log_reason_has_no_control_characters);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
