/*
 * Tests for bearer tokens: generation, hashing, token files and the check.
 */

#include "unit.h"

static char tmpfile_path[64];

static const char *write_file(const char *content)
{
    strcpy(tmpfile_path, "/tmp/scim-unit-token-XXXXXX");
    int fd = mkstemp(tmpfile_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
    close(fd);
    return tmpfile_path;
}

START_TEST(generated_token_matches_its_hash_only)
{
    char token[SCIM_TOKEN_SIZE], hash[SCIM_TOKEN_HASH_SIZE], line[128];
    char other[SCIM_TOKEN_SIZE], other_hash[SCIM_TOKEN_HASH_SIZE];
    scim_directory_t *dir;

    ck_assert_int_eq(scim_token_generate(token, sizeof(token), hash, sizeof(hash)), SCIM_OK);
    ck_assert_int_eq(scim_token_generate(other, sizeof(other), other_hash, sizeof(other_hash)), SCIM_OK);
    ck_assert_uint_eq(strlen(token), SCIM_TOKEN_SIZE - 1);
    ck_assert_msg(strncmp(token, "scim_", 5) == 0, "token \"%s\" lacks the scim_ prefix", token);
    ck_assert_str_ne(token, other);
    ck_assert_msg(strncmp(hash, "sha256:", 7) == 0 && strlen(hash) == 71,
                  "hash line \"%s\" is not sha256:<64 hex>", hash);

    snprintf(line, sizeof(line), "# rotation\n\n%s okta 2026-11\n", hash);
    ck_assert_int_eq(scim_directory_new("okta", 4, &dir, NULL, 0), SCIM_OK);
    ck_assert_int_eq(scim_directory_load_tokens(dir, write_file(line), NULL, 0), SCIM_OK);
    unlink(tmpfile_path);

    ck_assert_int_eq(scim_directory_check_token(dir, token, strlen(token)), 1);
    ck_assert_int_eq(scim_directory_check_token(dir, other, strlen(other)), 0);
    ck_assert_int_eq(scim_directory_check_token(dir, token, strlen(token) - 1), 0);
    ck_assert_int_eq(scim_directory_check_token(dir, "", 0), 0);
    scim_directory_free(dir);
}
END_TEST

START_TEST(known_sha256_vector)
{
    char hash[SCIM_TOKEN_HASH_SIZE];
    /* SHA-256("abc"), FIPS 180-2 appendix B.1 */
    ck_assert_int_eq(scim_token_hash("abc", 3, hash, sizeof(hash)), SCIM_OK);
    ck_assert_str_eq(hash, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(several_hashes_rotate)
{
    char t1[SCIM_TOKEN_SIZE], h1[SCIM_TOKEN_HASH_SIZE], t2[SCIM_TOKEN_SIZE], h2[SCIM_TOKEN_HASH_SIZE];
    char content[256];
    scim_directory_t *dir;

    scim_token_generate(t1, sizeof(t1), h1, sizeof(h1));
    scim_token_generate(t2, sizeof(t2), h2, sizeof(h2));
    /* upper-case hex and CRLF line ends are accepted */
    for (char *p = h2 + 7; *p; p++) if (*p >= 'a' && *p <= 'f') *p -= 32;
    snprintf(content, sizeof(content), "%s\r\n%s\r\n", h1, h2);
    scim_directory_new("d", 1, &dir, NULL, 0);
    ck_assert_int_eq(scim_directory_load_tokens(dir, write_file(content), NULL, 0), SCIM_OK);
    unlink(tmpfile_path);
    ck_assert_int_eq(scim_directory_check_token(dir, t1, strlen(t1)), 1);
    ck_assert_int_eq(scim_directory_check_token(dir, t2, strlen(t2)), 1);
    scim_directory_free(dir);
}
END_TEST

START_TEST(comments_and_blank_lines_are_skipped)
{
    char t1[SCIM_TOKEN_SIZE], h1[SCIM_TOKEN_HASH_SIZE], content[256];
    scim_directory_t *dir;

    /* what the README promises: whole-line "#" comments, indented or not,
       blank lines, and a comment after the hash */
    scim_token_generate(t1, sizeof(t1), h1, sizeof(h1));
    snprintf(content, sizeof(content), "# okta, rotated 2024-05\n\n  # old: removed\n"
             "\t\n%s okta prod\n", h1);
    scim_directory_new("d", 1, &dir, NULL, 0);
    ck_assert_int_eq(scim_directory_load_tokens(dir, write_file(content), NULL, 0), SCIM_OK);
    unlink(tmpfile_path);
    ck_assert_int_eq(scim_directory_check_token(dir, t1, strlen(t1)), 1);
    scim_directory_free(dir);
}
END_TEST

static const struct {
    const char *content;
    int rc;
    const char *message;
} bad_files[] = {
    { "", SCIM_ENOTOKENS, "holds no token hash" },
    { "# only a comment\n\n", SCIM_ENOTOKENS, "holds no token hash" },
    { "scim_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n", SCIM_ENOTOKENS,
      "line 1 holds a token, not its hash: replace the line with the \"sha256:<hex>\" line "
      "that \"scim-admin hash\" prints" },
    { "sha256:1234\n", SCIM_ENOTOKENS, "line 1: expected \"sha256:\" followed by 64 hex digits" },
    { "# ok\nmd5:d41d8cd98f00b204e9800998ecf8427e\n", SCIM_ENOTOKENS, "line 2: expected" },
    { "sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n", SCIM_ENOTOKENS,
      "line 1: expected" },
    { "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015adff\n",
      SCIM_ENOTOKENS, "line 1: expected" },
};

START_TEST(bad_token_files_are_refused_with_the_line)
{
    char err[512] = "";
    scim_directory_t *dir;

    scim_directory_new("d", 1, &dir, NULL, 0);
    int rc = scim_directory_load_tokens(dir, write_file(bad_files[_i].content), err, sizeof(err));
    unlink(tmpfile_path);
    ck_assert_msg(rc == bad_files[_i].rc, "file %d: expected rc %d, got %d (%s)", _i,
                  bad_files[_i].rc, rc, err);
    ck_assert_msg(strstr(err, bad_files[_i].message) != NULL,
                  "file %d: expected a message with \"%s\", got \"%s\"", _i,
                  bad_files[_i].message, err);
    scim_directory_free(dir);
}
END_TEST

START_TEST(missing_token_file_reports_errno)
{
    char err[512] = "";
    scim_directory_t *dir;

    scim_directory_new("d", 1, &dir, NULL, 0);
    int rc = scim_directory_load_tokens(dir, "/nonexistent/t.token", err, sizeof(err));
    ck_assert_int_eq(rc, ENOENT);
    ck_assert_msg(strstr(err, "cannot read token file \"/nonexistent/t.token\"") != NULL,
                  "got \"%s\"", err);
    scim_directory_free(dir);
}
END_TEST

START_TEST(directory_names)
{
    char err[256] = "";
    scim_directory_t *dir = NULL;

    ck_assert_int_eq(scim_directory_new("okta-prod_2.eu", 14, &dir, err, sizeof(err)), SCIM_OK);
    ck_assert_str_eq(scim_directory_name(dir), "okta-prod_2.eu");
    scim_directory_free(dir);
    ck_assert_int_eq(scim_directory_new("a/b", 3, &dir, err, sizeof(err)), SCIM_EINVAL);
    ck_assert_msg(strstr(err, "invalid directory name \"a/b\"") != NULL, "got \"%s\"", err);
    ck_assert_int_eq(scim_directory_new("", 0, &dir, err, sizeof(err)), SCIM_EINVAL);
    /* a NUL would split the store's keys */
    ck_assert_int_eq(scim_directory_new("a\0b", 3, &dir, err, sizeof(err)), SCIM_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("tokens");
    tcase_add_test(tc, generated_token_matches_its_hash_only);
    tcase_add_test(tc, known_sha256_vector);
    tcase_add_test(tc, several_hashes_rotate);
    tcase_add_test(tc, comments_and_blank_lines_are_skipped);
    tcase_add_loop_test(tc, bad_token_files_are_refused_with_the_line, 0,
                        sizeof(bad_files) / sizeof(bad_files[0]));
    tcase_add_test(tc, missing_token_file_reports_errno);
    tcase_add_test(tc, directory_names);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
