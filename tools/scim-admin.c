/*
 * scim-admin: command-line companion of ngx_scim_module, built on the same
 * core API as the module.
 *
 *   scim-admin token [FILE]          new bearer token; with FILE, append its
 *                                    hash to FILE (created 0600) and print
 *                                    only the token, otherwise print the
 *                                    token and the hash line
 *   scim-admin hash                  hash line of a token read from stdin
 *   scim-admin stat STORE DIRECTORY  record counts of a directory
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scim.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: scim-admin token [FILE]\n"
            "       scim-admin hash < token\n"
            "       scim-admin stat STORE DIRECTORY\n");
    return 2;
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
    char err[512];
    scim_store_t *store;
    scim_store_stat_t st;
    int rc;

    if (argc != 4) return usage();
    rc = scim_store_open(argv[2], SCIM_STORE_DEFAULT_MAX_SIZE, &store, err, sizeof(err));
    if (rc != SCIM_OK) {
        fprintf(stderr, "scim-admin: %s\n", err);
        return 1;
    }
    rc = scim_store_stat(store, argv[3], &st);
    scim_store_close(store);
    if (rc != SCIM_OK) {
        fprintf(stderr, "scim-admin: %s\n", scim_strerror(rc));
        return 1;
    }
    printf("users %zu\ngroups %zu\n", st.users, st.groups);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    if (strcmp(argv[1], "token") == 0 && argc <= 3) return cmd_token(argc, argv);
    if (strcmp(argv[1], "hash") == 0 && argc == 2) return cmd_hash();
    if (strcmp(argv[1], "stat") == 0) return cmd_stat(argc, argv);
    return usage();
}
