/*
 * Tests for product access: the policy, a user's access computed from the
 * store, the blob the glue caches, and default groups that a directory
 * refuses to sync.
 */

#include "unit.h"

#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"
#define GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

static unit_env_t env;
static scim_policy_t *policy;

static void setup(void)
{
    unit_env_open(&env);
    ck_assert_int_eq(scim_policy_new(&policy), SCIM_OK);
    ck_assert_int_eq(scim_policy_add_product(policy, "jira", 4, "jira-users,Jira-Admins", 22, NULL, 0, NULL, 0), SCIM_OK);
    ck_assert_int_eq(scim_policy_add_product(policy, "confluence", 10, "confluence-users", 16, NULL, 0, NULL, 0), SCIM_OK);
    ck_assert_int_eq(scim_policy_add_product(policy, "wiki", 4, NULL, 0, "Everyone", 8, NULL, 0), SCIM_OK);
    ck_assert_int_eq(scim_directory_reserve_groups(env.dir, policy), SCIM_OK);
}

static void teardown(void)
{
    scim_policy_free(policy);
    unit_env_close(&env);
}

static char *new_id(const char *path, const char *body)
{
    json_t *j = unit_do(&env, SCIM_METHOD_POST, path, NULL, body, 201, NULL);
    char *id = strdup(json_string_value(json_object_get(j, "id")));
    json_decref(j);
    return id;
}

static int same(scim_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

#define ASSERT_STR(s, want) \
    ck_assert_msg(same((s), (want)), #s ": expected \"%s\", got \"%.*s\"", (want), (int) (s).len, (s).data)

/* compute, then read back, as the glue does */
static char *blob;
static void access_of(const char *id, scim_access_t *a)
{
    size_t len;
    free(blob);
    ck_assert_int_eq(scim_access_compute(env.store, env.dir, policy, id, strlen(id), &blob, &len), SCIM_OK);
    ck_assert_int_eq(scim_access_read(blob, len, a), SCIM_OK);
}

START_TEST(policy_rules)
{
    char err[256];
    ck_assert_int_eq(scim_policy_product(policy, "JIRA", 4), 0);
    ck_assert_int_eq(scim_policy_product(policy, "wiki", 4), 2);
    ck_assert_int_eq(scim_policy_product(policy, "nope", 4), -1);
    ck_assert_str_eq(scim_policy_default_groups(policy), "Everyone");
    ck_assert_int_eq(scim_policy_add_product(policy, "Jira", 4, "x", 1, NULL, 0, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_str_eq(err, "duplicate product \"Jira\"");
    ck_assert_int_eq(scim_policy_add_product(policy, "a b", 3, "x", 1, NULL, 0, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_int_eq(scim_policy_add_product(policy, "solo", 4, NULL, 0, NULL, 0, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_str_eq(err, "product \"solo\" names no group that grants it");
    ck_assert_int_eq(scim_policy_add_product(policy, "holes", 5, "a,,b", 4, NULL, 0, err, sizeof(err)), SCIM_EINVAL);
    char name[16];
    for (int i = 3; i < SCIM_MAX_PRODUCTS; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        ck_assert_int_eq(scim_policy_add_product(policy, name, strlen(name), "g", 1, NULL, 0, err, sizeof(err)), SCIM_OK);
    }
    ck_assert_int_eq(scim_policy_add_product(policy, "one-too-many", 12, "g", 1, NULL, 0, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_str_eq(err, "more than 64 products");
}
END_TEST

START_TEST(no_policy_means_identity_without_products)
{
    scim_access_t a;
    size_t len;
    char *alice = new_id("/Users", "{\"schemas\":[\"" CORE "\"],\"userName\":\"Alice\","
                         "\"emails\":[{\"value\":\"alice@example.com\",\"primary\":true}]}");
    char body[256];
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"jira-users\",\"members\":[{\"value\":\"%s\"}]}", alice);
    free(new_id("/Groups", body));

    /* no scim_product in the configuration: the glue has no policy (a
       worker crashed here on $scim_user with a session) */
    free(blob);
    ck_assert_int_eq(scim_access_compute(env.store, env.dir, NULL, alice, strlen(alice), &blob, &len), SCIM_OK);
    ck_assert_int_eq(scim_access_read(blob, len, &a), SCIM_OK);
    ck_assert(a.found && a.active);
    ASSERT_STR(a.user_name, "Alice");
    ASSERT_STR(a.groups, "jira-users");
    ck_assert_uint_eq(a.group_count, 1);
    ck_assert_uint_eq(a.products, 0);
    ASSERT_STR(a.product_names, "");
    free(alice);
}
END_TEST

START_TEST(access_follows_groups_and_state)
{
    scim_access_t a;
    char *alice = new_id("/Users", "{\"schemas\":[\"" CORE "\"],\"userName\":\"Alice\","
                         "\"name\":{\"givenName\":\"Alice\",\"familyName\":\"Liddell\"},"
                         "\"emails\":[{\"value\":\"alice@example.com\",\"primary\":true}]}");
    access_of(alice, &a);
    ck_assert(a.found && a.active);
    ASSERT_STR(a.user_id, alice);
    ASSERT_STR(a.user_name, "Alice");
    ASSERT_STR(a.email, "alice@example.com");
    ASSERT_STR(a.display_name, "Alice Liddell");
    ASSERT_STR(a.groups, "Everyone");
    ASSERT_STR(a.product_names, "wiki");
    ck_assert_uint_eq(a.products, 4);
    ck_assert_uint_eq(a.group_count, 1);

    char body[256];
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"JIRA-ADMINS\",\"members\":[{\"value\":\"%s\"}]}", alice);
    char *admins = new_id("/Groups", body);
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"R&D, Europe\",\"members\":[{\"value\":\"%s\"}]}", alice);
    free(new_id("/Groups", body));
    access_of(alice, &a);
    ASSERT_STR(a.product_names, "jira,wiki");
    ck_assert_uint_eq(a.products, 5);
    /* group names compare case-insensitively; a comma inside a name is encoded */
    ASSERT_STR(a.groups, "JIRA-ADMINS,R&D%2C Europe,Everyone");
    ck_assert_uint_eq(a.group_count, 3);

    /* deactivated: keeps its groups, granted nothing */
    char path[80];
    snprintf(path, sizeof(path), "/Users/%s", alice);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL,
                        "{\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":\"False\"}}]}", 200, NULL));
    access_of(alice, &a);
    ck_assert(a.found && !a.active);
    ck_assert_uint_eq(a.products, 0);
    ASSERT_STR(a.product_names, "");
    ck_assert_uint_eq(a.group_count, 3);

    /* deleted: not found */
    json_decref(unit_do(&env, SCIM_METHOD_DELETE, path, NULL, NULL, 204, NULL));
    access_of(alice, &a);
    ck_assert(!a.found && !a.active);
    ck_assert_uint_eq(a.products, 0);
    free(alice);
    free(admins);
}
END_TEST

START_TEST(display_names_and_header_safety)
{
    scim_access_t a;
    static const struct {
        const char *user;
        const char *display;
        const char *name;
    } cases[] = {
        { "{\"schemas\":[\"" CORE "\"],\"userName\":\"u1\",\"displayName\":\"Shown\",\"name\":{\"formatted\":\"F\"}}", "Shown", "u1" },
        { "{\"schemas\":[\"" CORE "\"],\"userName\":\"u2\",\"name\":{\"formatted\":\"Ms. B\",\"givenName\":\"B\"}}", "Ms. B", "u2" },
        { "{\"schemas\":[\"" CORE "\"],\"userName\":\"u3\",\"name\":{\"familyName\":\"Only\"}}", "Only", "u3" },
        { "{\"schemas\":[\"" CORE "\"],\"userName\":\"u4\"}", "u4", "u4" },
        { "{\"schemas\":[\"" CORE "\"],\"userName\":\"evil\\r\\nX-Admin: 1\",\"displayName\":\"tab\\there\\u007f\"}",
          "tab%09here%7F", "evil%0D%0AX-Admin: 1" },
        /* spaces at either end would be trimmed away by the app: another user's name */
        { "{\"schemas\":[\"" CORE "\"],\"userName\":\" alice@example.com \",\"displayName\":\"  Two  Spaces  \"}",
          "%20%20Two  Spaces%20%20", "%20alice@example.com%20" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *id = new_id("/Users", cases[i].user);
        access_of(id, &a);
        ASSERT_STR(a.display_name, cases[i].display);
        ASSERT_STR(a.user_name, cases[i].name);
        free(id);
    }
}
END_TEST

START_TEST(blobs_are_checked)
{
    scim_access_t a;
    char *id = new_id("/Users", "{\"schemas\":[\"" CORE "\"],\"userName\":\"b\"}");
    size_t len;
    free(blob);
    ck_assert_int_eq(scim_access_compute(env.store, env.dir, policy, id, strlen(id), &blob, &len), SCIM_OK);
    ck_assert_int_eq(scim_access_read(blob, len - 1, &a), SCIM_EINVAL);
    ck_assert_int_eq(scim_access_read(blob, 10, &a), SCIM_EINVAL);
    ck_assert_int_eq(scim_access_read("not a blob at all, really", 25, &a), SCIM_EINVAL);
    char *copy = malloc(len + 1);
    memcpy(copy, blob, len);
    copy[len] = 'x';
    ck_assert_int_eq(scim_access_read(copy, len + 1, &a), SCIM_EINVAL);
    free(copy);
    free(id);
}
END_TEST

START_TEST(default_groups_are_not_synced)
{
    char err[512];
    /* the directory refuses the name, in any case, on create and on rename */
    json_t *e = unit_do(&env, SCIM_METHOD_POST, "/Groups", NULL,
                        "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"everyone\"}", 409, NULL);
    ck_assert_msg(strstr(json_string_value(json_object_get(e, "detail")),
                         "is the default group of product \"wiki\""), "detail");
    json_decref(e);
    char *g = new_id("/Groups", "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"staff\"}");
    char path[80];
    snprintf(path, sizeof(path), "/Groups/%s", g);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL,
                        "{\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"EVERYONE\"}]}", 409, NULL));
    ck_assert_int_eq(scim_policy_check_store(policy, env.store, env.dir, err, sizeof(err)), SCIM_OK);

    /* a policy whose default group the IdP has already synced is refused */
    scim_policy_t *other;
    scim_policy_new(&other);
    scim_policy_add_product(other, "intranet", 8, NULL, 0, "Staff", 5, NULL, 0);
    ck_assert_int_eq(scim_policy_check_store(other, env.store, env.dir, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_str_eq(err, "the default group \"Staff\" of product \"intranet\" is a group synced from the identity "
                          "provider into directory \"test\"; a synced group cannot be a default group: rename one of them");
    scim_policy_free(other);
    free(g);
}
END_TEST

/* no scim_product at all: the glue has no policy, and passes NULL */
START_TEST(no_policy_is_the_empty_policy)
{
    scim_access_t a;
    char err[256], body[256], path[80];
    size_t len;

    ck_assert_msg(scim_policy_product(NULL, "jira", 4) == -1,
                  "scim_policy_product(NULL): expected -1, got %d", scim_policy_product(NULL, "jira", 4));
    ck_assert_msg(strcmp(scim_policy_default_groups(NULL), "") == 0,
                  "scim_policy_default_groups(NULL): expected \"\", got \"%s\"", scim_policy_default_groups(NULL));
    ck_assert_int_eq(scim_policy_check_store(NULL, env.store, env.dir, err, sizeof(err)), SCIM_OK);
    ck_assert_int_eq(scim_directory_reserve_groups(env.dir, NULL), SCIM_OK);

    char *alice = new_id("/Users", "{\"schemas\":[\"" CORE "\"],\"userName\":\"alice\"}");
    snprintf(body, sizeof(body), "{\"schemas\":[\"" GROUP "\"],\"displayName\":\"jira-users\",\"members\":[{\"value\":\"%s\"}]}", alice);
    free(new_id("/Groups", body));

    free(blob);
    blob = NULL;
    int rc = scim_access_compute(env.store, env.dir, NULL, alice, strlen(alice), &blob, &len);
    ck_assert_msg(rc == SCIM_OK, "scim_access_compute(NULL policy): expected SCIM_OK, got %d (%s)", rc, scim_strerror(rc));
    ck_assert_int_eq(scim_access_read(blob, len, &a), SCIM_OK);
    ck_assert_msg(a.found && a.active, "expected found and active, got found=%d active=%d", a.found, a.active);
    ASSERT_STR(a.user_name, "alice");
    ASSERT_STR(a.groups, "jira-users");
    ASSERT_STR(a.product_names, "");
    ck_assert_msg(a.products == 0, "products: expected 0, got %llu", (unsigned long long) a.products);

    /* deactivated: still found, still named, still nothing granted */
    snprintf(path, sizeof(path), "/Users/%s", alice);
    json_decref(unit_do(&env, SCIM_METHOD_PATCH, path, NULL,
                        "{\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}", 200, NULL));
    free(blob);
    blob = NULL;
    ck_assert_int_eq(scim_access_compute(env.store, env.dir, NULL, alice, strlen(alice), &blob, &len), SCIM_OK);
    ck_assert_int_eq(scim_access_read(blob, len, &a), SCIM_OK);
    ck_assert_msg(a.found && !a.active, "expected found and inactive, got found=%d active=%d", a.found, a.active);
    ASSERT_STR(a.user_name, "alice");
    free(alice);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("access");
    TCase *tc = tcase_create("access");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, policy_rules);
    tcase_add_test(tc, access_follows_groups_and_state);
    tcase_add_test(tc, no_policy_means_identity_without_products);
    tcase_add_test(tc, display_names_and_header_safety);
    tcase_add_test(tc, blobs_are_checked);
    tcase_add_test(tc, default_groups_are_not_synced);
    tcase_add_test(tc, no_policy_is_the_empty_policy);
    suite_add_tcase(s, tc);
    int rc = unit_run(s);
    free(blob);
    return rc;
}
