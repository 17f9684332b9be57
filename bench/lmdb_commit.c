/*
 * The durable-write limit of this machine: N LMDB write transactions, each
 * putting one ~600-byte record and syncing on commit (LMDB's default), as
 * one POST /Users does. Prints commits per second.
 *
 *   lmdb_commit DIR N
 */

#include <lmdb.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "lmdb_commit: %s: %s\n", what, mdb_strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    char key[64], value[600];
    struct timespec t0, t1;

    if (argc != 3) {
        fprintf(stderr, "usage: lmdb_commit DIR N\n");
        return 2;
    }
    long n = atol(argv[2]);
    memset(value, 'v', sizeof(value));

    check(mdb_env_create(&env), "mdb_env_create");
    check(mdb_env_set_mapsize(env, (size_t) 1 << 30), "mdb_env_set_mapsize");
    check(mdb_env_open(env, argv[1], MDB_NOTLS, 0600), "mdb_env_open");
    check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, NULL, 0, &dbi), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        /* keys spread over the tree as random UUIDs do */
        int len = snprintf(key, sizeof(key), "bench User %08lx-commit-%ld",
                           (unsigned long) i * 2654435761UL, i);
        MDB_val k = { (size_t) len, key }, v = { sizeof(value), value };
        check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
        check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
        check(mdb_txn_commit(txn), "mdb_txn_commit");
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("%.1f %.1f\n", n / s, cpu * 1e6 / n);
    mdb_env_close(env);
    return 0;
}
