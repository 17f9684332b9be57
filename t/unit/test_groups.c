/*
 * Tests for Groups and the membership index: members in both directions,
 * idempotent adds and removes, large PATCHes, cascades on delete, member
 * filters, PUT replacing members, and what a user's "groups" shows.
 */

#include "unit.h"

#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"
#define GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define PATCHOP "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":"

static unit_env_t env;
static void setup(void) { unit_env_open(&env); }
static void teardown(void) { unit_env_close(&env); }

/* Creates a user and returns its id (static buffer rotation of 4). */
static const char *new_user(const char *name)
{
    static char ids[4][40];
    static int next;
    char body[256];
    snprintf(body, sizeof(body), "{\"schemas\":[\"" CORE "\"],\"userName\":\"%s\"}", name);
    json_t *j = unit_do(&env, SCIM_METHOD_POST, "/Users", NULL, body, 201, NULL);
    char *out = ids[next++ % 4];
    snprintf(out, 40, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    return out;
}

static json_t *get_path(const char *fmt, const char *id, const char *query)
{
    char path[96];
    snprintf(path, sizeof(path), fmt, id);
    return unit_do(&env, SCIM_METHOD_GET, path, query, NULL, 200, NULL);
}

static size_t count_members(const char *gid)
{
    json_t *g = get_path("/Groups/%s", gid, NULL);
    size_t n = json_array_size(json_object_get(g, "members"));
    json_decref(g);
    return n;
}

START_TEST(group_lifecycle_and_both_directions)
{
    char u1[40], u2[40], gid[40], path[96], body[512];
    snprintf(u1, sizeof(u1), "%s", new_user("alice"));
    snprintf(u2, sizeof(u2), "%s", new_user("bob"));
    snprintf(body, sizeof(body),
             "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"Jira Users\",\"externalId\":\"okta-g1\","
             "\"members\":[{\"value\":\"%s\",\"display\":\"alice\"}]}", u1);
    json_t *g = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL, body, 201, NULL);
    snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(g, "id")));
    json_t *m0 = json_array_get(json_object_get(g, "members"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(m0, "value")), u1);
    ck_assert_str_eq(json_string_value(json_object_get(m0, "type")), "User");
    char ref[160];
    snprintf(ref, sizeof(ref), "https://sso.example.com/scim/v2/Users/%s", u1);
    ck_assert_str_eq(json_string_value(json_object_get(m0, "$ref")), ref);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(g, "meta"), "resourceType")), "Group");
    json_decref(g);

    /* the user's groups attribute comes from the index */
    json_t *u = get_path("/Users/%s", u1, NULL);
    json_t *ug = json_array_get(json_object_get(u, "groups"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ug, "value")), gid);
    ck_assert_str_eq(json_string_value(json_object_get(ug, "display")), "Jira Users");
    ck_assert_str_eq(json_string_value(json_object_get(ug, "type")), "direct");
    json_decref(u);
    u = get_path("/Users/%s", u2, NULL);
    ck_assert_ptr_null(json_object_get(u, "groups"));
    json_decref(u);

    /* a display name with escapes reaches the user's groups intact */
    snprintf(path, sizeof(path), "/Groups/%s", gid);
    json_t *q = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL,
                        "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"R&D \\\"core\\\" \\u00e9quipe\\\\x\"}", 201, NULL);
    snprintf(body, sizeof(body), "{\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}", u2);
    char qpath[96];
    snprintf(qpath, sizeof(qpath), "/Groups/%s", json_string_value(json_object_get(q, "id")));
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, qpath, NULL, body, 204, NULL));
    u = get_path("/Users/%s", u2, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(u, "groups"), 0), "display")),
                     "R&D \"core\" \xc3\xa9quipe\\x");
    json_decref(u);
    json_decref(unit_do(&env, SCIM_METHOD_DELETE, qpath, NULL, NULL, 204, NULL));
    json_decref(q);

    /* displayName is unique case-insensitively */
    json_t *e = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL,
                        "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"JIRA users\"}", 409, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(e, "scimType")), "uniqueness");
    json_decref(e);

    /* add twice, remove an absent member: no errors, no duplicates */
    snprintf(path, sizeof(path), "/Groups/%s", gid);
    snprintf(body, sizeof(body), PATCHOP "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}]}", u1, u2);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 204, NULL));
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 204, NULL));
    ck_assert_uint_eq(count_members(gid), 2);
    snprintf(body, sizeof(body), PATCHOP "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"},"
             "{\"op\":\"remove\",\"path\":\"members[value eq \\\"not-a-member\\\"]\"}]}", u2);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 204, NULL));
    ck_assert_uint_eq(count_members(gid), 1);

    /* Entra: remove through a value array, then rename with Replace */
    snprintf(body, sizeof(body), PATCHOP "[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
             "{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Jira Admins\"}]}", u1);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 204, NULL));
    ck_assert_uint_eq(count_members(gid), 0);
    g = get_path("/Groups/%s", gid, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(g, "displayName")), "Jira Admins");
    json_decref(g);

    /* a PATCH with "attributes" answers with the group */
    g = unit_do(&env, SCIM_METHOD_PATCH, path, "attributes=displayName",
                PATCHOP "[{\"op\":\"replace\",\"value\":{\"displayName\":\"Jira\"}}]}", 200, NULL);
    unit_json_eq(json_object_get(g, "displayName"), "\"Jira\"", "renamed group");
    ck_assert_ptr_null(json_object_get(g, "members"));
    json_decref(g);

    /* unknown members and the group itself are refused, atomically */
    snprintf(body, sizeof(body), PATCHOP "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"},{\"value\":\"ghost\"}]}]}", u1);
    e = unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 400, NULL);
    ck_assert_msg(strstr(json_string_value(json_object_get(e, "detail")), "member \"ghost\" is neither a user nor a group"),
                  "detail: %s", json_string_value(json_object_get(e, "detail")));
    json_decref(e);
    ck_assert_uint_eq(count_members(gid), 0);
    snprintf(body, sizeof(body), PATCHOP "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]}", gid);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 400, NULL));
}
END_TEST

START_TEST(deletes_cascade_through_the_index)
{
    char u1[40], gid[40], nested[40], path[96], body[512];
    snprintf(u1, sizeof(u1), "%s", new_user("carol"));
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"A\",\"members\":[{\"value\":\"%s\"}]}", u1);
    json_t *g = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL, body, 201, NULL);
    snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(g, "id")));
    const char *v1 = json_string_value(json_object_get(json_object_get(g, "meta"), "version"));
    char version[64];
    snprintf(version, sizeof(version), "%s", v1);
    json_decref(g);
    /* a group as a member of another */
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"B\",\"members\":[{\"value\":\"%s\",\"type\":\"Group\"}]}", gid);
    g = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL, body, 201, NULL);
    snprintf(nested, sizeof(nested), "%s", json_string_value(json_object_get(g, "id")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(g, "members"), 0), "type")), "Group");
    json_decref(g);

    /* deleting the user takes it out of the group and changes the group's version */
    snprintf(path, sizeof(path), "/Users/%s", u1);
    json_decref(unit_do(&env, SCIM_METHOD_DELETE, path, NULL, NULL, 204, NULL));
    g = get_path("/Groups/%s", gid, NULL);
    ck_assert_ptr_null(json_object_get(g, "members"));
    ck_assert_str_ne(json_string_value(json_object_get(json_object_get(g, "meta"), "version")), version);
    json_decref(g);

    /* deleting a group takes it out of the groups it was a member of */
    snprintf(path, sizeof(path), "/Groups/%s", gid);
    json_decref(unit_do(&env, SCIM_METHOD_DELETE, path, NULL, NULL, 204, NULL));
    ck_assert_uint_eq(count_members(nested), 0);
    json_decref(unit_do(&env, SCIM_METHOD_GET, path, NULL, NULL, 404, NULL));
}
END_TEST

/* Ids are time-ordered and strictly increasing within a process, so resources
 * created in the same millisecond still list (and show in a user's groups)
 * in the order they were created. */
START_TEST(back_to_back_creates_keep_their_order)
{
    char u1[40], body[512], name[16];
    snprintf(u1, sizeof(u1), "%s", new_user("dora"));
    for (int i = 0; i < 64; i++) {
        snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"g%02d\","
                 "\"members\":[{\"value\":\"%s\"}]}", 63 - i, u1);
        json_decref(unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL, body, 201, NULL));
    }
    json_t *list = unit_do(&env, SCIM_METHOD_GET, "/Groups", "count=100", NULL, 200, NULL);
    json_t *user = get_path("/Users/%s", u1, NULL);
    json_t *resources = json_object_get(list, "Resources"), *groups = json_object_get(user, "groups");
    ck_assert_uint_eq(json_array_size(resources), 64);
    ck_assert_uint_eq(json_array_size(groups), 64);
    for (int i = 0; i < 64; i++) {
        snprintf(name, sizeof(name), "g%02d", 63 - i);
        const char *listed = json_string_value(json_object_get(json_array_get(resources, i), "displayName"));
        const char *shown = json_string_value(json_object_get(json_array_get(groups, i), "display"));
        ck_assert_msg(listed && strcmp(listed, name) == 0, "/Groups item %d: expected %s, got %s", i, name, listed);
        ck_assert_msg(shown && strcmp(shown, name) == 0, "user's groups item %d: expected %s, got %s", i, name, shown);
    }
    json_decref(list);
    json_decref(user);
}
END_TEST

/* The directory generation moves with every committed change of users or
 * groups, and only then: reads and PATCHes that change nothing keep it. */
START_TEST(generation_moves_with_changes_only)
{
    uint64_t g0, g;
    ck_assert_int_eq(scim_store_generation(env.store, &g0), SCIM_OK);
    char u[40], path[96];
    snprintf(u, sizeof(u), "%s", new_user("gen"));
    ck_assert_int_eq(scim_store_generation(env.store, &g), SCIM_OK);
    ck_assert_msg(g == g0 + 1, "after a POST: expected %llu, got %llu", (unsigned long long) g0 + 1,
                  (unsigned long long) g);
    snprintf(path, sizeof(path), "/Users/%s", u);
    json_decref(unit_do(&env, SCIM_METHOD_GET, path, NULL, NULL, 200, NULL));
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL,
                        PATCHOP "[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"gen\"}]}", 200, NULL));
    ck_assert_int_eq(scim_store_generation(env.store, &g), SCIM_OK);
    ck_assert_msg(g == g0 + 1, "after a GET and a PATCH that changes nothing: expected %llu, got %llu",
                  (unsigned long long) g0 + 1, (unsigned long long) g);
    json_decref(unit_do(&env, SCIM_METHOD_DELETE, path, NULL, NULL, 204, NULL));
    ck_assert_int_eq(scim_store_generation(env.store, &g), SCIM_OK);
    ck_assert_msg(g == g0 + 2, "after a DELETE: expected %llu, got %llu", (unsigned long long) g0 + 2,
                  (unsigned long long) g);
}
END_TEST

START_TEST(ten_thousand_members_in_one_patch)
{
    enum { N = 10000 };
    char gid[40], path[96];
    static char ids[N][40];
    /* users straight through the API: each POST is its own transaction */
    for (int i = 0; i < N; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"schemas\":[\"" CORE "\"],\"userName\":\"m%d\"}", i);
        scim_response_t resp;
        scim_request_t req = unit_request(SCIM_METHOD_POST, "/Users", NULL, body, env.auth);
        ck_assert_int_eq(scim_handle(env.store, env.dir, &req, &resp), SCIM_OK);
        ck_assert_int_eq(resp.status, 201);
        const char *id = strstr(resp.body, "\"id\":\"") + 6;
        memcpy(ids[i], id, 36);
        ids[i][36] = '\0';
        scim_response_free(&resp);
    }
    json_t *g = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL,
                        "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"big\"}", 201, NULL);
    snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(g, "id")));
    json_decref(g);
    snprintf(path, sizeof(path), "/Groups/%s", gid);

    size_t cap = (size_t) N * 60 + 256;
    char *body = malloc(cap), *p = body;
    p += sprintf(p, PATCHOP "[{\"op\":\"add\",\"path\":\"members\",\"value\":[");
    for (int i = 0; i < N; i++) p += sprintf(p, "%s{\"value\":\"%s\"}", i ? "," : "", ids[i]);
    sprintf(p, "]}]}");
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 204, NULL));
    ck_assert_uint_eq(count_members(gid), N);

    /* a member filter answered from the index, and excludedAttributes=members */
    char query[320];
    snprintf(query, sizeof(query), "filter=id%%20eq%%20%%22%s%%22%%20and%%20members%%5Bvalue%%20eq%%20%%22%s%%22%%5D&excludedAttributes=members",
             gid, ids[N - 1]);
    json_t *found = unit_do(&env, SCIM_METHOD_GET, "/Groups", query, NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(found, "totalResults")), 1);
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(found, "Resources"), 0), "members"));
    json_decref(found);

    /* members are not capped like other multi-valued attributes: a client
     * that PUTs a large group back (as PATCH built it) succeeds */
    p = body;
    p += sprintf(p, "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"big\",\"members\":[");
    for (int i = 0; i < N; i++) p += sprintf(p, "%s{\"value\":\"%s\"}", i ? "," : "", ids[i]);
    sprintf(p, "]}");
    json_decref(unit_do(&env, SCIM_METHOD_PUT, path, "excludedAttributes=members", body, 200, NULL));
    ck_assert_uint_eq(count_members(gid), N);

    /* remove them all again in one PATCH, in the Entra value-array form */
    p = body;
    p += sprintf(p, PATCHOP "[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[");
    for (int i = 0; i < N; i++) p += sprintf(p, "%s{\"value\":\"%s\"}", i ? "," : "", ids[i]);
    sprintf(p, "]}]}");
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 204, NULL));
    ck_assert_uint_eq(count_members(gid), 0);
    free(body);
}
END_TEST

START_TEST(patch_operations_see_the_ones_before)
{
    char u1[40], u2[40], gid[40], nested[40], path[96], body[768];
    snprintf(u1, sizeof(u1), "%s", new_user("seq1"));
    snprintf(u2, sizeof(u2), "%s", new_user("seq2"));
    json_t *g = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL, "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"inner\"}", 201, NULL);
    snprintf(nested, sizeof(nested), "%s", json_string_value(json_object_get(g, "id")));
    json_decref(g);
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"outer\",\"members\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}", u1, nested);
    g = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL, body, 201, NULL);
    snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(g, "id")));
    /* members carry a display: the user's userName, the group's displayName */
    json_t *m;
    size_t i;
    int displays = 0;
    json_array_foreach(json_object_get(g, "members"), i, m) {
        const char *d = json_string_value(json_object_get(m, "display"));
        displays += d && (strcmp(d, "seq1") == 0 || strcmp(d, "inner") == 0);
    }
    ck_assert_int_eq(displays, 2);
    json_decref(g);
    /* the remove by filter sees the member the first operation added */
    snprintf(path, sizeof(path), "/Groups/%s", gid);
    snprintf(body, sizeof(body), PATCHOP "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
             "{\"op\":\"remove\",\"path\":\"members[type eq \\\"User\\\"]\"}]}", u2);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 204, NULL));
    g = get_path("/Groups/%s", gid, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(g, "members")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(g, "members"), 0), "value")), nested);
    json_decref(g);
    /* and a failing operation after member changes undoes them */
    snprintf(body, sizeof(body), PATCHOP "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]},"
             "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":7}]}", u1);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL, body, 400, NULL));
    ck_assert_uint_eq(count_members(gid), 1);
}
END_TEST

START_TEST(put_replaces_members_and_filters_find_them)
{
    char a[40], b[40], c[40], gid[40], path[96], body[512];
    snprintf(a, sizeof(a), "%s", new_user("a"));
    snprintf(b, sizeof(b), "%s", new_user("b"));
    snprintf(c, sizeof(c), "%s", new_user("c"));
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"G\",\"members\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}", a, b);
    json_t *g = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL, body, 201, NULL);
    snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(g, "id")));
    json_decref(g);
    snprintf(path, sizeof(path), "/Groups/%s", gid);
    /* Okta's PUT carries read-only id and meta: ignored */
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"id\":\"%s\",\"meta\":{\"resourceType\":\"Group\"},"
             "\"displayName\":\"G2\",\"members\":[{\"value\":\"%s\"},{\"value\":\"%s\"}]}", gid, b, c);
    g = unit_do(&env, SCIM_METHOD_PUT, path, NULL, body, 200, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(g, "members")), 2);
    json_decref(g);
    json_t *ua = get_path("/Users/%s", a, NULL);
    ck_assert_ptr_null(json_object_get(ua, "groups"));
    json_decref(ua);

    char query[200];
    snprintf(query, sizeof(query), "filter=members%%5Bvalue%%20eq%%20%%22%s%%22%%5D", c);
    json_t *l = unit_do(&env, SCIM_METHOD_GET, "/Groups", query, NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 1);
    json_decref(l);
    snprintf(query, sizeof(query), "filter=members.value%%20eq%%20%%22%s%%22", a);
    l = unit_do(&env, SCIM_METHOD_GET, "/Groups", query, NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 0);
    json_decref(l);
    /* users by group, a derived attribute listed only for the filter */
    snprintf(query, sizeof(query), "filter=groups.value%%20eq%%20%%22%s%%22", gid);
    l = unit_do(&env, SCIM_METHOD_GET, "/Users", query, NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 2);
    json_decref(l);
    l = unit_do(&env, SCIM_METHOD_GET, "/Users", "filter=groups.display%20eq%20%22g2%22", NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 2);
    json_decref(l);
    l = unit_do(&env, SCIM_METHOD_GET, "/Groups", "filter=displayName%20eq%20%22g2%22", NULL, 200, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 1);
    json_decref(l);
    /* PUT without members leaves the group without members */
    json_decref(unit_do(&env, SCIM_METHOD_PUT, path, NULL, "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"G2\"}", 200, NULL));
    ck_assert_uint_eq(count_members(gid), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("groups");
    TCase *tc = tcase_create("groups");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, group_lifecycle_and_both_directions);
    tcase_add_test(tc, deletes_cascade_through_the_index);
    tcase_add_test(tc, back_to_back_creates_keep_their_order);
    tcase_add_test(tc, generation_moves_with_changes_only);
    tcase_add_test(tc, ten_thousand_members_in_one_patch);
    tcase_add_test(tc, put_replaces_members_and_filters_find_them);
    tcase_add_test(tc, patch_operations_see_the_ones_before);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
