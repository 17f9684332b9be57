/*
 * What a decision recomputation costs: the gateway's work for the first
 * request of a user after a SCIM write (any committed write makes every
 * cached decision stale). Loops scim_access_compute() for one user of a
 * store, as the access handler calls it, then scim_access_read() of the
 * blob it produced, which every request does on the cached copy.
 *
 *   gateway_decide STORE DIRECTORY USER_ID PRODUCT GROUPS SECONDS
 *
 * Prints "<compute µs> <read µs> <blob bytes>", CPU time per call.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scim.h"

static void die(const char *what, int rc, const char *err)
{
    fprintf(stderr, "gateway_decide: %s: %s %s\n", what, scim_strerror(rc), err ? err : "");
    exit(1);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char err[512] = "";
    int rc;
    if (argc != 7) {
        fprintf(stderr, "usage: gateway_decide STORE DIRECTORY USER_ID PRODUCT GROUPS SECONDS\n");
        return 2;
    }
    const char *user = argv[3];
    double seconds = atof(argv[6]);

    scim_store_t *store;
    scim_directory_t *dir;
    scim_policy_t *policy;
    if ((rc = scim_store_open(argv[1], (size_t) 1 << 30, &store, err, sizeof(err))) != SCIM_OK)
        die("store", rc, err);
    if ((rc = scim_directory_new(argv[2], strlen(argv[2]), &dir, err, sizeof(err))) != SCIM_OK)
        die("directory", rc, err);
    if ((rc = scim_policy_new(&policy)) != SCIM_OK)
        die("policy", rc, NULL);
    if ((rc = scim_policy_add_product(policy, argv[4], strlen(argv[4]), argv[5], strlen(argv[5]),
                                      NULL, 0, err, sizeof(err))) != SCIM_OK)
        die("product", rc, err);

    char *blob = NULL;
    size_t blob_len = 0;
    long n = 0;
    double t0 = cpu_now(), t;
    do {
        for (int i = 0; i < 1000; i++, n++) {
            free(blob);
            if ((rc = scim_access_compute(store, dir, policy, user, strlen(user), &blob, &blob_len))
                != SCIM_OK)
                die("compute", rc, NULL);
        }
        t = cpu_now() - t0;
    } while (t < seconds);
    double compute_us = t * 1e6 / n;

    scim_access_t access;
    if ((rc = scim_access_read(blob, blob_len, &access)) != SCIM_OK)
        die("read", rc, NULL);
    if (!access.found || !access.active || !(access.products & 1)) {
        fprintf(stderr, "gateway_decide: user %s has no access to %s\n", user, argv[4]);
        return 1;
    }

    /* the handler reads a copy taken from shared memory */
    char *copy = malloc(blob_len);
    long m = 0;
    t0 = cpu_now();
    do {
        for (int i = 0; i < 100000; i++, m++) {
            memcpy(copy, blob, blob_len);
            if (scim_access_read(copy, blob_len, &access) != SCIM_OK)
                die("read", SCIM_EINTERNAL, NULL);
        }
        t = cpu_now() - t0;
    } while (t < seconds / 4);

    printf("%.2f %.3f %zu\n", compute_us, t * 1e6 / m, blob_len);

    free(copy);
    free(blob);
    scim_policy_free(policy);
    scim_directory_free(dir);
    scim_store_close(store);
    return 0;
}
