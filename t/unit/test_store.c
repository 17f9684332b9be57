/*
 * Tests for the LMDB store: opening, format, access checks, persistence and
 * the secondary indexes, through the core's C API.
 */

#include <lmdb.h>
#include <sys/stat.h>

#include "unit.h"

static const char user_json[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"userName\":\"Bjensen@Example.com\",\"externalId\":\"ext-1\"}";

START_TEST(open_creates_files_and_reopens)
{
    char *path = unit_tmpdir(), file[256], err[256];
    scim_store_t *store;
    struct stat st;

    ck_assert_int_eq(scim_store_open(path, 1 << 20, &store, err, sizeof(err)), SCIM_OK);
    scim_store_close(store);
    snprintf(file, sizeof(file), "%s/data.mdb", path);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_msg((st.st_mode & 077) == 0, "data.mdb mode %o lets others read it", st.st_mode & 0777);
    ck_assert_int_eq(scim_store_open(path, 1 << 20, &store, err, sizeof(err)), SCIM_OK);
    scim_store_close(store);
    unit_rmdir(path);
}
END_TEST

START_TEST(open_refuses_bad_paths_and_sizes)
{
    char *path = unit_tmpdir(), file[256], err[256] = "";
    scim_store_t *store = (scim_store_t *) 1;

    ck_assert_int_eq(scim_store_open("/nonexistent/store", 1 << 20, &store, err, sizeof(err)), ENOENT);
    ck_assert_ptr_null(store);
    ck_assert_msg(strstr(err, "\"/nonexistent/store\" does not exist") != NULL, "got \"%s\"", err);

    snprintf(file, sizeof(file), "%s/plain", path);
    fclose(fopen(file, "w"));
    ck_assert_int_eq(scim_store_open(file, 1 << 20, &store, err, sizeof(err)), SCIM_ENOTDIR);
    ck_assert_msg(strstr(err, "is not a directory") != NULL, "got \"%s\"", err);

    ck_assert_int_eq(scim_store_open(path, 4096, &store, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "at least 1m") != NULL, "got \"%s\"", err);
    unit_rmdir(path);
}
END_TEST

START_TEST(open_refuses_garbage_and_other_formats)
{
    char *path = unit_tmpdir(), file[256], err[256] = "";
    scim_store_t *store;

    snprintf(file, sizeof(file), "%s/data.mdb", path);
    FILE *f = fopen(file, "w");
    for (int i = 0; i < 4096; i++) fputs("not an lmdb file ", f);
    fclose(f);
    int rc = scim_store_open(path, 1 << 20, &store, err, sizeof(err));
    ck_assert_msg(rc == MDB_INVALID, "garbage: expected MDB_INVALID, got %d (%s)", rc, err);
    ck_assert_msg(strstr(err, "cannot open the LMDB environment") != NULL, "got \"%s\"", err);
    unit_rmdir(path);

    /* a store written by a future format */
    path = unit_tmpdir();
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = { 6, "format" }, v = { 1, "9" };
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 4);
    ck_assert_int_eq(mdb_env_open(env, path, 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi), 0);
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    rc = scim_store_open(path, 1 << 20, &store, err, sizeof(err));
    ck_assert_msg(rc == SCIM_EFORMAT, "expected SCIM_EFORMAT, got %d (%s)", rc, err);
    ck_assert_msg(strstr(err, "format 9; this build reads format 3") != NULL, "got \"%s\"", err);
    unit_rmdir(path);
}
END_TEST

START_TEST(format_1_store_is_reindexed_on_open)
{
    /* a store as the first release wrote it: records and userName/externalId
       entries, no e-mail entries, no index database */
    char *path = unit_tmpdir(), err[256] = "";
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, resources, unique;
    const char record[] =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-1\","
        "\"userName\":\"old@example.com\",\"emails\":[{\"value\":\"Old@Example.com\","
        "\"primary\":true}],\"meta\":{\"resourceType\":\"User\",\"created\":"
        "\"2026-01-01T00:00:00.000Z\",\"lastModified\":\"2026-01-01T00:00:00.000Z\","
        "\"version\":\"W/\\\"3\\\"\"}}";
    /* a second user with the same primary e-mail: format 1 did not know better */
    const char record2[] =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-2\","
        "\"userName\":\"twin@example.com\",\"emails\":[{\"value\":\"OLD@example.com\","
        "\"primary\":true}],\"meta\":{\"resourceType\":\"User\",\"created\":"
        "\"2026-01-01T00:00:00.000Z\",\"lastModified\":\"2026-01-01T00:00:00.000Z\","
        "\"version\":\"W/\\\"4\\\"\"}}";
    char key[64], key2[64];
    size_t klen = (size_t) snprintf(key, sizeof(key), "test%cUser%cu-1", 0, 0);
    size_t klen2 = (size_t) snprintf(key2, sizeof(key2), "test%cUser%cu-2", 0, 0);
    MDB_val k = { klen, key }, v = { sizeof(record) - 1, (void *) record };
    MDB_val k2 = { klen2, key2 }, v2 = { sizeof(record2) - 1, (void *) record2 };
    MDB_val fk = { 6, "format" }, fv = { 1, "1" };
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    ck_assert_int_eq(mdb_env_open(env, path, 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "resources", MDB_CREATE, &resources), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "unique", MDB_CREATE, &unique), 0);
    ck_assert_int_eq(mdb_put(txn, meta, &fk, &fv, 0), 0);
    ck_assert_int_eq(mdb_put(txn, resources, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_put(txn, resources, &k2, &v2, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    unit_env_t e;
    e.path = path;
    ck_assert_msg(scim_store_open(path, 64 << 20, &e.store, err, sizeof(err)) == SCIM_OK, "%s", err);
    scim_store_close(e.store);
    /* reopen the upgraded store the usual way and search the new indexes */
    char token[SCIM_TOKEN_SIZE], hash[SCIM_TOKEN_HASH_SIZE], file[128];
    ck_assert_int_eq(scim_store_open(path, 64 << 20, &e.store, err, sizeof(err)), SCIM_OK);
    scim_directory_new("test", 4, &e.dir, NULL, 0);
    scim_token_generate(token, sizeof(token), hash, sizeof(hash));
    snprintf(file, sizeof(file), "%s/token", path);
    FILE *f = fopen(file, "w");
    fprintf(f, "%s\n", hash);
    fclose(f);
    scim_directory_load_tokens(e.dir, file, NULL, 0);
    snprintf(e.auth, sizeof(e.auth), "Bearer %s", token);

    scim_response_t resp;
    scim_store_stat_t st;
    ck_assert_int_eq(scim_store_stat(e.store, "test", &st), SCIM_OK);
    ck_assert_uint_eq(st.users, 2);
    scim_request_t list = unit_request(SCIM_METHOD_GET, "/Users", NULL, NULL, e.auth);
    json_t *all = unit_call(e.store, e.dir, &list, &resp);
    ck_assert_int_eq(json_integer_value(json_object_get(all, "totalResults")), 2);
    json_decref(all);
    scim_response_free(&resp);
    scim_request_t find = unit_request(SCIM_METHOD_GET, "/Users",
                                       "filter=emails.value%20eq%20%22old%40EXAMPLE.com%22", NULL, e.auth);
    json_t *j = unit_call(e.store, e.dir, &find, &resp);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "totalResults")), 2);
    json_decref(j);
    scim_response_free(&resp);
    scim_request_t del = unit_request(SCIM_METHOD_DELETE, "/Users/u-2", NULL, NULL, e.auth);
    json_decref(unit_call(e.store, e.dir, &del, &resp));
    ck_assert_int_eq(resp.status, 204);
    scim_response_free(&resp);
    /* the primary e-mail is claimed (by u-1, the first): nobody else may
       take it, and deleting u-2, which did not own the claim, kept it */
    scim_request_t post = unit_request(SCIM_METHOD_POST, "/Users", NULL,
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"x\","
        "\"emails\":[{\"value\":\"OLD@example.com\",\"primary\":true}]}", e.auth);
    j = unit_call(e.store, e.dir, &post, &resp);
    ck_assert_int_eq(resp.status, 409);
    json_decref(j);
    scim_response_free(&resp);
    unit_env_close(&e);
}
END_TEST

START_TEST(access_check_uses_the_worker_user)
{
    char *path = unit_tmpdir(), err[256] = "";
    scim_store_t *store;

    /* root may do anything; a stranger may not write a 0700 directory */
    chmod(path, 0700);
    ck_assert_int_eq(scim_store_check_access(path, 0, 0, err, sizeof(err)), SCIM_OK);
    uid_t stranger = getuid() == 65534 ? 65533 : 65534;
    ck_assert_int_eq(scim_store_check_access(path, stranger, 65534, err, sizeof(err)), SCIM_EACCESS);
    ck_assert_msg(strstr(err, "is not writable by uid") != NULL, "got \"%s\"", err);
    /* its owner may */
    ck_assert_int_eq(scim_store_check_access(path, getuid(), getgid(), err, sizeof(err)), SCIM_OK);

    /* a writable directory with a data.mdb the stranger cannot write */
    chmod(path, 0777);
    ck_assert_int_eq(scim_store_open(path, 1 << 20, &store, err, sizeof(err)), SCIM_OK);
    scim_store_close(store);
    ck_assert_int_eq(scim_store_check_access(path, stranger, 65534, err, sizeof(err)), SCIM_EACCESS);
    ck_assert_msg(strstr(err, "data.mdb\" is not writable") != NULL, "got \"%s\"", err);

    ck_assert_int_eq(scim_store_check_access("/nonexistent", 0, 0, err, sizeof(err)), ENOENT);
    unit_rmdir(path);
}
END_TEST

START_TEST(records_survive_reopen_and_indexes_follow_deletes)
{
    unit_env_t env;
    scim_response_t resp;
    char path[128], id[64];
    json_t *j;

    unit_env_open(&env);
    scim_request_t post = unit_request(SCIM_METHOD_POST, "/Users", NULL, user_json, env.auth);
    j = unit_call(env.store, env.dir, &post, &resp);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_int_eq(resp.changed, 1);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    scim_response_free(&resp);

    /* reopen: the record and its index entries are on disk */
    scim_store_close(env.store);
    ck_assert_int_eq(scim_store_open(env.path, 64 << 20, &env.store, NULL, 0), SCIM_OK);

    snprintf(path, sizeof(path), "/Users/%s", id);
    scim_request_t get = unit_request(SCIM_METHOD_GET, path, NULL, NULL, env.auth);
    j = unit_call(env.store, env.dir, &get, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "userName")), "Bjensen@Example.com");
    json_decref(j);
    scim_response_free(&resp);

    scim_request_t find = unit_request(SCIM_METHOD_GET, "/Users",
                                       "filter=userName%20eq%20%22BJENSEN%40example.COM%22", NULL,
                                       env.auth);
    j = unit_call(env.store, env.dir, &find, &resp);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "totalResults")), 1);
    json_decref(j);
    scim_response_free(&resp);

    scim_store_stat_t st;
    ck_assert_int_eq(scim_store_stat(env.store, "test", &st), SCIM_OK);
    ck_assert_uint_eq(st.users, 1);
    ck_assert_int_eq(scim_store_stat(env.store, "other", &st), SCIM_OK);
    ck_assert_uint_eq(st.users, 0);

    /* a second user with the same userName or externalId is refused */
    j = unit_call(env.store, env.dir, &post, &resp);
    ck_assert_int_eq(resp.status, 409);
    ck_assert_str_eq(json_string_value(json_object_get(j, "scimType")), "uniqueness");
    json_decref(j);
    scim_response_free(&resp);

    scim_request_t del = unit_request(SCIM_METHOD_DELETE, path, NULL, NULL, env.auth);
    unit_call(env.store, env.dir, &del, &resp);
    ck_assert_int_eq(resp.status, 204);
    scim_response_free(&resp);

    /* the index no longer finds it, and the name is free again */
    j = unit_call(env.store, env.dir, &find, &resp);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "totalResults")), 0);
    json_decref(j);
    scim_response_free(&resp);
    j = unit_call(env.store, env.dir, &post, &resp);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_str_ne(json_string_value(json_object_get(j, "id")), id);
    json_decref(j);
    scim_response_free(&resp);
    unit_env_close(&env);
}
END_TEST

START_TEST(directories_do_not_see_each_other)
{
    unit_env_t env;
    scim_response_t resp;
    scim_directory_t *other;
    json_t *j;

    unit_env_open(&env);
    /* same token hashes, another directory name: same store, other records */
    scim_directory_new("other", 5, &other, NULL, 0);
    char file[256];
    snprintf(file, sizeof(file), "%s/token", env.path);
    scim_directory_load_tokens(other, file, NULL, 0);

    scim_request_t post = unit_request(SCIM_METHOD_POST, "/Users", NULL, user_json, env.auth);
    json_decref(unit_call(env.store, env.dir, &post, &resp));
    ck_assert_int_eq(resp.status, 201);
    scim_response_free(&resp);
    /* the same userName is free in the other directory */
    json_decref(unit_call(env.store, other, &post, &resp));
    ck_assert_int_eq(resp.status, 201);
    scim_response_free(&resp);

    scim_request_t list = unit_request(SCIM_METHOD_GET, "/Users", NULL, NULL, env.auth);
    j = unit_call(env.store, other, &list, &resp);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "totalResults")), 1);
    json_decref(j);
    scim_response_free(&resp);
    scim_directory_free(other);
    unit_env_close(&env);
}
END_TEST

START_TEST(readonly_open_reads_and_creates_nothing)
{
    unit_env_t env;
    scim_response_t resp;
    scim_store_t *ro = (scim_store_t *) 1;
    scim_store_stat_t st;
    char *empty = unit_tmpdir(), file[256], err[256] = "", names[64];
    struct stat sb;

    /* no store: refused before LMDB could leave a lock.mdb behind */
    ck_assert_int_eq(scim_store_open_readonly(empty, &ro, err, sizeof(err)), ENOENT);
    ck_assert_ptr_null(ro);
    ck_assert_msg(strstr(err, "holds no store (no data.mdb)") != NULL, "got \"%s\"", err);
    snprintf(file, sizeof(file), "%s/lock.mdb", empty);
    ck_assert_msg(stat(file, &sb) != 0, "scim_store_open_readonly() created %s", file);
    unit_rmdir(empty);

    unit_env_open(&env);
    scim_request_t post = unit_request(SCIM_METHOD_POST, "/Users", NULL, user_json, env.auth);
    json_decref(unit_call(env.store, env.dir, &post, &resp));
    ck_assert_int_eq(resp.status, 201);
    scim_response_free(&resp);

    /* beside the read-write handle, as scim-admin beside nginx */
    ck_assert_msg(scim_store_open_readonly(env.path, &ro, err, sizeof(err)) == SCIM_OK,
                  "scim_store_open_readonly: %s", err);
    ck_assert_int_eq(scim_store_stat(ro, "test", &st), SCIM_OK);
    ck_assert_uint_eq(st.users, 1);
    ck_assert_int_ne(st.known, 0);
    ck_assert_int_eq(scim_store_stat(ro, "tset", &st), SCIM_OK);
    ck_assert_uint_eq(st.users + st.groups, 0);
    ck_assert_int_eq(st.known, 0);
    ck_assert_int_eq(scim_store_directories(ro, names, sizeof(names)), SCIM_OK);
    ck_assert_str_eq(names, "test");
    ck_assert_int_eq(scim_store_directories(ro, names, 3), SCIM_OK);
    ck_assert_str_eq(names, "te");
    scim_store_close(ro);

    /* a directory whose records were all deleted is still known */
    scim_request_t list = unit_request(SCIM_METHOD_GET, "/Users", NULL, NULL, env.auth);
    json_t *j = unit_call(env.store, env.dir, &list, &resp);
    char path[128];
    snprintf(path, sizeof(path), "/Users/%s", json_string_value(json_object_get(
        json_array_get(json_object_get(j, "Resources"), 0), "id")));
    json_decref(j);
    scim_response_free(&resp);
    scim_request_t del = unit_request(SCIM_METHOD_DELETE, path, NULL, NULL, env.auth);
    unit_call(env.store, env.dir, &del, &resp);
    ck_assert_int_eq(resp.status, 204);
    scim_response_free(&resp);
    ck_assert_int_eq(scim_store_stat(env.store, "test", &st), SCIM_OK);
    ck_assert_uint_eq(st.users, 0);
    ck_assert_int_ne(st.known, 0);
    unit_env_close(&env);
}
END_TEST

START_TEST(full_store_answers_507)
{
    unit_env_t env;
    scim_response_t resp;
    char body[8192], name[32];
    int status = 0;

    unit_env_open(&env);
    scim_store_close(env.store);
    ck_assert_int_eq(scim_store_open(env.path, 1 << 20, &env.store, NULL, 0), SCIM_OK);
    memset(name, 0, sizeof(name));
    char filler[6001];
    memset(filler, 'x', 6000);
    filler[6000] = '\0';
    for (int i = 0; i < 1000 && status != 507; i++) {
        snprintf(body, sizeof(body),
                 "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                 "\"userName\":\"u%d\",\"title\":\"%s\"}", i, filler);
        scim_request_t post = unit_request(SCIM_METHOD_POST, "/Users", NULL, body, env.auth);
        json_t *j = unit_call(env.store, env.dir, &post, &resp);
        status = resp.status;
        if (status == 507) {
            ck_assert_msg(strstr(json_string_value(json_object_get(j, "detail")), "raise max_size") != NULL,
                          "507 detail does not say what to do");
        } else {
            ck_assert_int_eq(status, 201);
        }
        json_decref(j);
        scim_response_free(&resp);
    }
    ck_assert_int_eq(status, 507);
    unit_env_close(&env);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, open_creates_files_and_reopens);
    tcase_add_test(tc, open_refuses_bad_paths_and_sizes);
    tcase_add_test(tc, open_refuses_garbage_and_other_formats);
    tcase_add_test(tc, format_1_store_is_reindexed_on_open);
    tcase_add_test(tc, access_check_uses_the_worker_user);
    tcase_add_test(tc, records_survive_reopen_and_indexes_follow_deletes);
    tcase_add_test(tc, directories_do_not_see_each_other);
    tcase_add_test(tc, readonly_open_reads_and_creates_nothing);
    tcase_add_test(tc, full_store_answers_507);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
