/*
 * ngx_scim_module core: the C API.
 *
 * One header serves the nginx glue, the Check unit tests and the scim-admin
 * tool. The core never logs and never throws across this border: every
 * function returns an int code (0 on success) and, where a person needs to
 * know why, writes a one-line reason into a caller-owned buffer.
 *
 * Codes:
 *   0                   success (SCIM_OK)
 *   > 0                 an errno value (ENOENT, EACCES, ENOMEM, ...)
 *   -30799 .. -30780    an LMDB code (MDB_KEYEXIST, MDB_MAP_FULL, ...)
 *   -32000 .. -32099    a core code (SCIM_E*, below)
 * scim_strerror() describes all three ranges.
 *
 * Threads: a scim_store_t belongs to the process that opened it and is used
 * by one thread at a time (nginx workers are single-threaded). Never open a
 * store before fork() and use it after; open one per process.
 */

#ifndef SCIM_H
#define SCIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SCIM_API __attribute__((visibility("default")))
#else
#define SCIM_API
#endif

/* C++ callers see that no exception leaves the core. */
#ifdef __cplusplus
#define SCIM_NOEXCEPT noexcept
#else
#define SCIM_NOEXCEPT
#endif


/** @defgroup errors Error codes
 * @{ */
#define SCIM_OK            0
/** an unexpected failure inside the core (a bug: please report it) */
#define SCIM_EINTERNAL     (-32000)
/** an argument or configuration value is invalid */
#define SCIM_EINVAL        (-32001)
/** the token file holds no usable token hash */
#define SCIM_ENOTOKENS     (-32002)
/** the store path is not a directory */
#define SCIM_ENOTDIR       (-32003)
/** the store was written by a newer, incompatible format */
#define SCIM_EFORMAT       (-32004)
/** the store directory or its files cannot be written by the given user */
#define SCIM_EACCESS       (-32005)
/** the requested record does not exist */
#define SCIM_ENOTFOUND     (-32006)
/** @} */

/**
 * @brief Describe an error code of any of the three ranges.
 * @param[in] err  a code returned by this API
 * @return a static, NUL-terminated string; never NULL
 */
SCIM_API const char *scim_strerror(int err) SCIM_NOEXCEPT;


/** A length-delimited byte string borrowed from the caller. */
typedef struct {
    const char  *data;
    size_t       len;
} scim_str_t;


/** @defgroup store LMDB store
 * The store is the source of truth: one LMDB environment (a directory holding
 * data.mdb and lock.mdb) shared by every worker process, each opening it
 * after fork. Every acknowledged write is synced to disk before the call
 * returns.
 * @{ */

typedef struct scim_store_s scim_store_t;

/** The default and smallest accepted map size (LMDB's mapsize). */
#define SCIM_STORE_DEFAULT_MAX_SIZE  ((size_t) 1 << 30)
#define SCIM_STORE_MIN_MAX_SIZE      ((size_t) 1 << 20)

/**
 * @brief Open (and create if empty) the store in an existing directory.
 *
 * Creates data.mdb and lock.mdb when missing, creates the named databases,
 * checks the format version and clears reader slots left by processes that
 * died (a SIGKILLed worker).
 *
 * @param[in]  path      directory, NUL-terminated; must exist
 * @param[in]  max_size  maximum size of data.mdb in bytes
 *                       (>= SCIM_STORE_MIN_MAX_SIZE)
 * @param[out] store     the new handle; release with scim_store_close()
 * @param[out] err       reason on failure (may be NULL)
 * @param[in]  errlen    size of err
 * @return SCIM_OK, ENOENT, SCIM_ENOTDIR, EACCES, SCIM_EFORMAT, SCIM_EINVAL,
 *         ENOMEM or an LMDB code
 */
SCIM_API int scim_store_open(const char *path, size_t max_size,
    scim_store_t **store, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Open an existing store read-only (MDB_RDONLY), for tools.
 *
 * Creates nothing: a directory without data.mdb is refused before LMDB is
 * called. LMDB still takes a reader slot in lock.mdb (and creates lock.mdb
 * if only it is missing), so the store may be read while nginx writes it.
 * Writes through the handle fail with EACCES. A store of an older format
 * is refused: nginx upgrades it when it opens it.
 *
 * @param[in]  path    directory, NUL-terminated; must exist
 * @param[out] store   the new handle; release with scim_store_close()
 * @param[out] err     reason on failure (may be NULL)
 * @param[in]  errlen  size of err
 * @return SCIM_OK, ENOENT (no directory, or no data.mdb in it),
 *         SCIM_ENOTDIR, EACCES, SCIM_EFORMAT (not a store of this module,
 *         or of another format), ENOMEM or an LMDB code
 */
SCIM_API int scim_store_open_readonly(const char *path, scim_store_t **store,
    char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Close a store opened by this process. NULL is a no-op.
 */
SCIM_API void scim_store_close(scim_store_t *store) SCIM_NOEXCEPT;

/**
 * @brief Check that a user could open the store: the directory exists, is a
 * directory, every directory above it is searchable by the user, and the
 * user may create and write files in it (and write data.mdb and lock.mdb
 * where they already exist).
 *
 * Used by a root master process to refuse a configuration whose workers
 * would run as a user that cannot write the store. Permission bits and
 * group membership are checked, ACLs are not.
 *
 * @param[in] path  directory, NUL-terminated
 * @param[in] uid   the user the workers run as
 * @param[in] gid   that user's primary group
 * @param[out] err  reason on failure (may be NULL)
 * @return SCIM_OK, ENOENT, SCIM_ENOTDIR or SCIM_EACCESS
 */
SCIM_API int scim_store_check_access(const char *path, uint32_t uid,
    uint32_t gid, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Make data.mdb and lock.mdb (where they exist) owned by uid:gid.
 * Called by a root master after it created the files so that workers
 * running as an unprivileged user can open them.
 * @return SCIM_OK or an errno value
 */
SCIM_API int scim_store_chown(const char *path, uint32_t uid, uint32_t gid,
    char *err, size_t errlen) SCIM_NOEXCEPT;

/** Counters of a directory's records, for tools and tests. */
typedef struct {
    size_t  users;
    size_t  groups;
    /** non-zero when the directory has ever held a user or a group in this
     *  store (its counters exist, also once they are back to zero); zero
     *  for a name never provisioned, misspelt or not: the store does not
     *  know which directories the configuration declares */
    int     known;
} scim_store_stat_t;

/**
 * @brief Count the records of one directory.
 * @return SCIM_OK or an LMDB code
 */
SCIM_API int scim_store_stat(scim_store_t *store, const char *directory,
    scim_store_stat_t *stat) SCIM_NOEXCEPT;

/**
 * @brief The names of the directories that hold or held records (those
 * scim_store_stat() calls known), in byte order, separated by ", ".
 * @param[out] buf  NUL-terminated; cut to fit, ending "..." when cut
 * @param[in]  len  size of buf (at least 1)
 * @return SCIM_OK, SCIM_EINVAL (len is 0) or an LMDB code
 */
SCIM_API int scim_store_directories(scim_store_t *store, char *buf,
    size_t len) SCIM_NOEXCEPT;

/**
 * @brief The directory generation: a counter that every committed change
 * of users or groups (SCIM writes, just-in-time users) moves in the same
 * transaction, so every process that shares the store (the workers of
 * another nginx, an old binary during an upgrade) sees it move. A
 * decision taken at one generation is stale at any other.
 *
 * Cheap when the store has not been written since the last call (one look
 * at LMDB's last transaction id); otherwise one read transaction.
 * @return SCIM_OK or an LMDB code
 */
SCIM_API int scim_store_generation(scim_store_t *store,
    uint64_t *generation) SCIM_NOEXCEPT;
/** @} */


/** @defgroup tokens Bearer tokens
 * A token file holds one SHA-256 hash per line ("sha256:" + 64 hex digits,
 * optionally followed by a space and a comment); blank lines and lines
 * starting with '#' are ignored. Several lines allow rotation. The tokens
 * themselves are never stored.
 * @{ */

/** A token is "scim_" + 43 base64url characters (256 random bits). */
#define SCIM_TOKEN_SIZE      49
/** "sha256:" + 64 hex digits. */
#define SCIM_TOKEN_HASH_SIZE 72

/**
 * @brief Generate a new random token and the line that goes in a token file.
 * @param[out] token  SCIM_TOKEN_SIZE bytes or more; NUL-terminated on success
 * @param[out] hash   SCIM_TOKEN_HASH_SIZE bytes or more; NUL-terminated
 * @return SCIM_OK or SCIM_EINTERNAL (no randomness available)
 */
SCIM_API int scim_token_generate(char *token, size_t token_size, char *hash,
    size_t hash_size) SCIM_NOEXCEPT;

/**
 * @brief The token file line ("sha256:<hex>") of a given token.
 * @return SCIM_OK or SCIM_EINVAL (hash buffer too small)
 */
SCIM_API int scim_token_hash(const char *token, size_t len, char *hash,
    size_t hash_size) SCIM_NOEXCEPT;
/** @} */


/** @defgroup directory Directories
 * A directory is one IdP tenant: its own users and groups, its own tokens.
 * Directory handles are built at configuration time, before fork, and are
 * read-only afterwards.
 * @{ */

typedef struct scim_directory_s scim_directory_t;

/**
 * @brief Create a directory handle.
 * @param[in] name  1 to 64 characters of [A-Za-z0-9_.-]; it keys the
 *                  directory's records in the store, so renaming a directory
 *                  in the configuration leaves its records behind
 * @param[out] dir  release with scim_directory_free()
 * @return SCIM_OK, SCIM_EINVAL (bad name) or ENOMEM
 */
SCIM_API int scim_directory_new(const char *name, size_t len,
    scim_directory_t **dir, char *err, size_t errlen) SCIM_NOEXCEPT;

SCIM_API void scim_directory_free(scim_directory_t *dir) SCIM_NOEXCEPT;

/**
 * @brief Add the token hashes of a token file to a directory.
 * @return SCIM_OK, an errno value (file unreadable) or SCIM_ENOTOKENS
 *         (no valid hash; err names the first bad line)
 */
SCIM_API int scim_directory_load_tokens(scim_directory_t *dir,
    const char *path, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Check a presented bearer token in constant time against every
 * hash of the directory.
 * @return 1 if it matches one, 0 otherwise
 */
SCIM_API int scim_directory_check_token(const scim_directory_t *dir,
    const char *token, size_t len) SCIM_NOEXCEPT;

/** @brief The directory's name (NUL-terminated, owned by the handle). */
SCIM_API const char *scim_directory_name(const scim_directory_t *dir) SCIM_NOEXCEPT;
/** @} */


/** @defgroup api SCIM HTTP API
 * The glue hands a decoded HTTP request to scim_handle() and writes back the
 * response it gets, unchanged.
 * @{ */

typedef enum {
    SCIM_METHOD_GET = 0,
    SCIM_METHOD_HEAD,
    SCIM_METHOD_POST,
    SCIM_METHOD_PUT,
    SCIM_METHOD_PATCH,
    SCIM_METHOD_DELETE,
    SCIM_METHOD_OTHER
} scim_method_t;

/** A request; every string is borrowed for the duration of the call. */
typedef struct {
    scim_method_t  method;
    /** the path below the base URL, percent-decoded: "/Users/2819c2..." */
    scim_str_t     path;
    /** the raw query string without '?', still percent-encoded */
    scim_str_t     query;
    scim_str_t     body;
    scim_str_t     content_type;
    /** the Authorization header's value, or empty */
    scim_str_t     authorization;
    /** absolute base URL without trailing slash:
     *  "https://sso.example.com/scim/v2" */
    scim_str_t     base_url;
    scim_str_t     if_match;
    scim_str_t     if_none_match;
    /** the Accept header's value, or empty: a client that accepts only
     *  application/json is answered with that media type */
    scim_str_t     accept;
} scim_request_t;

/** Optional response headers, as flags. */
#define SCIM_HEADER_WWW_AUTHENTICATE  0x01

/**
 * A response. scim_handle() fills every field; release with
 * scim_response_free(). The caller may take ownership of body (malloc()ed)
 * by setting resp->body to NULL before freeing.
 */
typedef struct {
    int          status;
    /** static string, e.g. "application/scim+json" */
    const char  *content_type;
    char        *body;
    size_t       body_len;
    /** absolute URL of a created resource, NUL-terminated, or NULL */
    char        *location;
    /** weak entity tag (W/"..."), NUL-terminated, or NULL */
    char        *etag;
    /** for a 405: the methods the resource allows ("GET, HEAD, POST"),
     *  NUL-terminated, or NULL */
    char        *allow;
    unsigned     headers;
    /** 1 when the request committed a change to the store */
    unsigned     changed;
    /** for status >= 400: why, in one line for the error log */
    char         reason[256];
} scim_response_t;

/**
 * @brief Serve one SCIM request of a directory.
 *
 * Authentication, routing, validation, the store transaction and the
 * response body all happen here. SCIM-level failures (401, 404, 409, ...)
 * are ordinary responses; the return code reports only whether a response
 * could be produced at all.
 *
 * @param[in]  store  this process's store
 * @param[in]  dir    the directory the location serves
 * @param[in]  req    the request
 * @param[out] resp   the response, zeroed by the callee first
 * @return SCIM_OK (resp is complete) or ENOMEM / SCIM_EINTERNAL (resp holds
 *         a 500 when it could be built)
 */
SCIM_API int scim_handle(scim_store_t *store, const scim_directory_t *dir,
    const scim_request_t *req, scim_response_t *resp) SCIM_NOEXCEPT;

/** @brief Release what a response owns. Safe on a zeroed response. */
SCIM_API void scim_response_free(scim_response_t *resp) SCIM_NOEXCEPT;
/** @} */

/** @defgroup access Product access
 * A policy maps products (the upstream apps) to the synced groups that
 * grant them. A user's access is computed from the store as a blob that
 * the glue caches and reads back without the core.
 *
 * Every function that reads a policy accepts NULL as the empty policy (no
 * product, no default group): a configuration without products still has
 * sessions and identities.
 * @{ */

typedef struct scim_policy_s scim_policy_t;

/** At most this many products (a product set is a 64-bit mask). */
#define SCIM_MAX_PRODUCTS  64

/** @brief Create an empty policy; release with scim_policy_free(). */
SCIM_API int scim_policy_new(scim_policy_t **policy) SCIM_NOEXCEPT;
SCIM_API void scim_policy_free(scim_policy_t *policy) SCIM_NOEXCEPT;

/**
 * @brief Add a product.
 * @param[in] name           1 to 64 characters of [A-Za-z0-9_.-]
 * @param[in] groups         group displayNames that grant it (compared
 *                           case-insensitively), comma-separated; may be
 *                           empty when default_group is given
 * @param[in] default_group  NULL, or a group every active user of a
 *                           directory belongs to for this product (it is
 *                           not synced: a synced group of that name is
 *                           refused, see scim_policy_check_store())
 * @return SCIM_OK or SCIM_EINVAL (err says why: a duplicate, a bad name,
 *         no group, more than SCIM_MAX_PRODUCTS)
 */
SCIM_API int scim_policy_add_product(scim_policy_t *policy, const char *name,
    size_t name_len, const char *groups, size_t groups_len,
    const char *default_group, size_t default_len, char *err, size_t errlen)
    SCIM_NOEXCEPT;

/** @brief The index of a product (its bit in a product set), or -1 (also
 * for a NULL policy). */
SCIM_API int scim_policy_product(const scim_policy_t *policy, const char *name,
    size_t len) SCIM_NOEXCEPT;

/** @brief The policy's default groups, comma-separated, NUL-terminated
 * (owned by the policy, or static for a NULL policy), "" when none. */
SCIM_API const char *scim_policy_default_groups(const scim_policy_t *policy)
    SCIM_NOEXCEPT;

/**
 * @brief Refuse a store in which a directory has synced a group named like
 * a product's default group (the seeds: "do not make a synced group a
 * default group").
 * @return SCIM_OK, SCIM_EINVAL (err names the product, the group and the
 *         directory) or an LMDB code
 */
SCIM_API int scim_policy_check_store(const scim_policy_t *policy,
    scim_store_t *store, const scim_directory_t *dir, char *err, size_t errlen)
    SCIM_NOEXCEPT;

/**
 * @brief Make a directory refuse (409) to create or rename a group to one
 * of the policy's default groups. The directory keeps a copy.
 */
SCIM_API int scim_directory_reserve_groups(scim_directory_t *dir,
    const scim_policy_t *policy) SCIM_NOEXCEPT;

/**
 * @brief Compute a user's access from the store.
 *
 * With a NULL policy the user is granted no product (products is 0,
 * product_names ""), and found, active and the groups are as with any
 * policy.
 *
 * Header values in the blob are safe to send: control characters are
 * percent-encoded, and in the groups and products lists so are ',' and
 * '%' inside a name.
 *
 * @param[in]  policy    the products; NULL when none is declared (the
 *                       user's identity and groups, no product)
 * @param[out] blob      malloc()ed; the caller frees it with free()
 * @return SCIM_OK (also for a user that does not exist: found is 0),
 *         ENOMEM, SCIM_EINTERNAL or an LMDB code
 */
SCIM_API int scim_access_compute(scim_store_t *store,
    const scim_directory_t *dir, const scim_policy_t *policy,
    const char *user_id, size_t len, char **blob, size_t *blob_len)
    SCIM_NOEXCEPT;

/** A view of an access blob; every string points into the blob. */
typedef struct {
    int          found;      /**< 0: no such user (deleted) */
    int          active;
    uint64_t     products;   /**< bit i: product i of the policy */
    size_t       group_count;
    scim_str_t   user_id;
    scim_str_t   user_name;
    scim_str_t   email;
    scim_str_t   display_name;
    scim_str_t   groups;     /**< comma-separated group names */
    scim_str_t   product_names;  /**< comma-separated product names */
} scim_access_t;

/**
 * @brief Read an access blob (possibly a copy taken from shared memory).
 * @return SCIM_OK or SCIM_EINVAL (not a blob of this version)
 */
SCIM_API int scim_access_read(const char *blob, size_t len,
    scim_access_t *access) SCIM_NOEXCEPT;
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SCIM_H */
