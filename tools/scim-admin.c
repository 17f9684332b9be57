/*
 * scim-admin: command-line companion of ngx_scim_module, built on the same
 * core API as the module.
 *
 *   scim-admin token [FILE]          new bearer token; with FILE, append its
 *                                    hash to FILE (created 0600) and print
 *                                    only the token, otherwise print the
 *                                    token and the hash line
 *   scim-admin hash                  hash line of a token read from stdin
 *   scim-admin stat STORE DIRECTORY  record counts of a directory; opens the
 *                                    store read-only and creates nothing
 *   scim-admin --help                this summary
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scim.h"

static const char usage_text[] =
    "usage: scim-admin token [FILE]\n"
    "       scim-admin hash < TOKEN-FILE\n"
    "       scim-admin stat STORE DIRECTORY\n"
    "       scim-admin --help\n";

static const char help_text[] =
    "\n"
    "  token [FILE]  make a new bearer token. With FILE (a token_file, created\n"
    "                0600 if missing), append the token's hash line to it and\n"
    "                print only the token; without, print the token and its\n"
    "                hash line. The token is shown once: only its hash is kept.\n"
    "  hash          print the hash line (\"sha256:...\") of the token on the\n"
    "                first line of stdin, for a token_file.\n"
    "  stat STORE DIRECTORY\n"
    "                print the users and groups of DIRECTORY (a scim_directory\n"
    "                name) in the scim_store directory STORE. Read-only: it\n"
    "                creates nothing, and fails when STORE holds no store. A\n"
    "                name without records gets a note on stderr that lists the\n"
    "                directories the store has records of.\n"
    "\n"
    "Exit status: 0 on success, 1 on failure, 2 on a usage error.\n";

static int usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

static int help(void)
{
    fputs(usage_text, stdout);
    fputs(help_text, stdout);
    return 0;
}

static int cmd_token(int argc, char **argv)
{
    char token[SCIM_TOKEN_SIZE], hash[SCIM_TOKEN_HASH_SIZE];

    if (scim_token_generate(token, sizeof(token), hash, sizeof(hash)) != SCIM_OK) {
        fprintf(stderr, "scim-admin: cannot generate a token: no randomness\n");
        return 1;
    }
    if (argc < 3) {
        printf("%s\n%s\n", token, hash);
        return 0;
    }
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) {
        fprintf(stderr, "scim-admin: cannot open \"%s\": %s\n", argv[2], strerror(errno));
        return 1;
    }
    size_t len = strlen(hash);
    hash[len] = '\n';
    if (write(fd, hash, len + 1) != (ssize_t) (len + 1) || close(fd) != 0) {
        fprintf(stderr, "scim-admin: cannot write \"%s\": %s\n", argv[2], strerror(errno));
        return 1;
    }
    printf("%s\n", token);
    return 0;
}

static int cmd_hash(void)
{
    char line[1024], hash[SCIM_TOKEN_HASH_SIZE];

    if (fgets(line, sizeof(line), stdin) == NULL) {
        fprintf(stderr, "scim-admin: no token on stdin\n");
        return 1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    scim_token_hash(line, strlen(line), hash, sizeof(hash));
    printf("%s\n", hash);
    return 0;
}

static int cmd_stat(int argc, char **argv)
{
    char err[512], names[1024];
    scim_store_t *store;
    scim_store_stat_t st;
    int rc;

    if (argc != 4) return usage();
    rc = scim_store_open_readonly(argv[2], &store, err, sizeof(err));
    if (rc != SCIM_OK) {
        fprintf(stderr, "scim-admin: %s\n", err);
        return 1;
    }
    rc = scim_store_stat(store, argv[3], &st);
    if (rc == SCIM_OK && st.users == 0 && st.groups == 0)
        rc = scim_store_directories(store, names, sizeof(names));
    scim_store_close(store);
    if (rc != SCIM_OK) {
        fprintf(stderr, "scim-admin: %s\n", scim_strerror(rc));
        return 1;
    }
    printf("users %zu\ngroups %zu\n", st.users, st.groups);
    if (st.users == 0 && st.groups == 0) {
        /* the store keeps no list of declared directories: a name never
           provisioned and a misspelt one look the same */
        if (st.known)
            fprintf(stderr, "scim-admin: note: directory \"%s\" holds no users or "
                    "groups (all were deleted)\n", argv[3]);
        else
            fprintf(stderr, "scim-admin: note: directory \"%s\" holds no users or "
                    "groups and never held any in \"%s\": not provisioned yet, or "
                    "not the scim_directory name\n", argv[3], argv[2]);
        fprintf(stderr, "scim-admin: note: directories with records: %s\n",
                names[0] ? names : "none");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) return help();
    if (strcmp(argv[1], "token") == 0 && argc <= 3) return cmd_token(argc, argv);
    if (strcmp(argv[1], "hash") == 0 && argc == 2) return cmd_hash();
    if (strcmp(argv[1], "stat") == 0) return cmd_stat(argc, argv);
    return usage();
}
