/*
 * ngx_scim_module core: the SAML 2.0 Service Provider C API.
 *
 * A companion of scim.h (include that first) for the nginx glue, the Check
 * unit tests and tools. The same rules hold: the core never logs and never
 * throws across this border; every function returns an int code from the
 * ranges scim.h describes (scim_strerror() knows the SAML codes too) and,
 * where a person needs to know why, writes a one-line reason into a
 * caller-owned buffer.
 *
 * Life cycle:
 *   1. At configuration time (in the nginx master, before fork) one
 *      scim_saml_sp_t per directory is built with scim_saml_sp_new(), the
 *      scim_saml_sp_load_* / _set* calls (each one validates what it is
 *      given, so nginx -t can point at the offending directive) and
 *      scim_saml_sp_finish(). Certificates and keys are parsed and loaded
 *      once, here. The handle is read-only afterwards and is shared by the
 *      worker processes through fork().
 *   2. Per request: scim_saml_login_redirect() builds the AuthnRequest,
 *      scim_saml_acs_verify() checks a posted Response (everything that
 *      needs no state), then scim_saml_link_user() and
 *      scim_saml_login_commit() link it to the provisioned user and make
 *      the replay record and the session durable in the LMDB store.
 *      What lives in shared memory (outstanding request IDs, the fast
 *      replay check, the session cache) belongs to the glue.
 *
 * libxml2, xmlsec and its OpenSSL back end are initialised by the first
 * scim_saml_sp_new() of a process and shut down by the last
 * scim_saml_sp_free(), so no library state outlives the handles that need
 * it (nginx unloads the module with the configuration cycle). Handles are
 * used by one thread at a time.
 *
 * Times are milliseconds since the Unix epoch (int64_t), passed in by the
 * caller so that tests can move the clock.
 */

#ifndef SCIM_SAML_H
#define SCIM_SAML_H

#include "scim.h"

#ifdef __cplusplus
extern "C" {
#endif


/** @defgroup saml_errors SAML error codes (core range, see scim.h)
 * @{ */
/** a SAML message failed a security check (signature, audience, time,
 *  issuer, ...); the reason names the check and what came back */
#define SCIM_SAML_EINVALID   (-32040)
/** the request is not a SAML message at all: bad form encoding, bad
 *  base64, not XML, a DOCTYPE, the wrong root element */
#define SCIM_SAML_EMALFORMED (-32041)
/** the message is larger than max_response_size */
#define SCIM_SAML_ETOOBIG    (-32042)
/** the assertion was consumed before and has not expired */
#define SCIM_SAML_EREPLAY    (-32043)
/** no provisioned user of the directory has the login's e-mail */
#define SCIM_SAML_ENOUSER    (-32044)
/** the linked user is deactivated (active: false) */
#define SCIM_SAML_EINACTIVE  (-32045)
/** the session exists but its idle or absolute timeout has passed */
#define SCIM_SAML_EEXPIRED   (-32046)
/** @} */


/** @defgroup saml_sp Service Provider configuration
 * @{ */

typedef struct scim_saml_sp_s scim_saml_sp_t;

/** String settings of an SP, for scim_saml_sp_set() and _get(). */
typedef enum {
    /** the IdP's entityID: the Issuer every Response and Assertion must
     *  carry (also read from idp_metadata) */
    SCIM_SAML_IDP_ENTITY_ID = 0,
    /** the IdP's SingleSignOnService for the HTTP-Redirect binding */
    SCIM_SAML_IDP_SSO_URL,
    /** the IdP's SingleLogoutService for the HTTP-Redirect binding */
    SCIM_SAML_IDP_SLO_URL,
    /** our entityID: the Audience we require and our Issuer */
    SCIM_SAML_SP_ENTITY_ID,
    /** our absolute ACS URL: the Destination and Recipient we require */
    SCIM_SAML_SP_ACS_URL,
    /** our absolute logout URL, published in the SP metadata */
    SCIM_SAML_SP_SLO_URL,
    /** the Attribute (Name or FriendlyName) that holds the e-mail linking
     *  a login to a user; empty: the NameID */
    SCIM_SAML_LOGIN_ATTRIBUTE,
    SCIM_SAML_OPTION_COUNT
} scim_saml_option_t;

/** Numeric policy of an SP; scim_saml_policy_default() fills defaults. */
typedef struct {
    /** tolerated clock difference with the IdP (default 180 s) */
    int64_t   clock_skew_ms;
    /** a session unused this long ends (default 1 h) */
    int64_t   session_idle_ms;
    /** a session ends this long after login at the latest (default 8 h) */
    int64_t   session_lifetime_ms;
    /** largest accepted POST body of the ACS (default 128 KiB) */
    size_t    max_response_size;
    /** accept responses without InResponseTo (default 0) */
    unsigned  idp_initiated;
    /** create unknown users from the assertion (default 0) */
    unsigned  jit;
    /** accept SHA-1 signatures and digests (default 0) */
    unsigned  allow_sha1;
} scim_saml_policy_t;

/** @brief Fill a policy with the defaults documented above. */
SCIM_API void scim_saml_policy_default(scim_saml_policy_t *policy) SCIM_NOEXCEPT;

/** The bounded numeric settings of a policy, for scim_saml_policy_check(). */
typedef enum {
    /** clock_skew_ms: 0 to 1 h */
    SCIM_SAML_CLOCK_SKEW = 0,
    /** session_idle_ms: 1 s to 365 d */
    SCIM_SAML_SESSION_IDLE,
    /** session_lifetime_ms: 1 s to 365 d */
    SCIM_SAML_SESSION_LIFETIME,
    /** max_response_size: 1 KiB to 64 MiB */
    SCIM_SAML_MAX_RESPONSE_SIZE,
    SCIM_SAML_LIMIT_COUNT
} scim_saml_limit_t;

/**
 * @brief Check one numeric setting against its bounds, when a caller reads
 * it (nginx: the directive's own line), before scim_saml_sp_set_policy()
 * sees the whole policy.
 *
 * @param[in] which  the setting
 * @param[in] value  milliseconds (times) or bytes (sizes), as the caller
 *                   parsed the text; negative when the text is not a time
 *                   or a size at all
 * @param[in] text   the setting as written, for the message (not
 *                   NUL-terminated; borrowed for the call)
 * @param[out] err   on failure, one sentence naming the setting, the text
 *                   and the allowed range (may be NULL)
 * @return SCIM_OK or SCIM_EINVAL
 */
SCIM_API int scim_saml_policy_check(scim_saml_limit_t which, int64_t value,
    const char *text, size_t len, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Create an empty SP for a directory.
 *
 * Initialises libxml2, xmlsec and xmlsec's OpenSSL back end if this is the
 * process's first live SP (in the order of the xmlsec examples, with
 * xmlSecCheckVersion()).
 *
 * @param[in]  dir  the directory whose users log in through this SP; the
 *                  handle copies its name and does not keep the pointer
 * @param[out] sp   the new handle; release with scim_saml_sp_free()
 * @param[out] err  reason on failure (may be NULL)
 * @return SCIM_OK, ENOMEM or SCIM_EINTERNAL (the libraries failed to
 *         initialise or are incompatible)
 */
SCIM_API int scim_saml_sp_new(const scim_directory_t *dir,
    scim_saml_sp_t **sp, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Release an SP (NULL is a no-op); the last one shuts the XML
 * libraries down.
 */
SCIM_API void scim_saml_sp_free(scim_saml_sp_t *sp) SCIM_NOEXCEPT;

/**
 * @brief Set a string setting (copied). URLs must be absolute http(s)
 * URLs without a fragment; entity IDs are 1 to 1024 printable characters.
 * @return SCIM_OK or SCIM_EINVAL (err says why)
 */
SCIM_API int scim_saml_sp_set(scim_saml_sp_t *sp, scim_saml_option_t option,
    const char *value, size_t len, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief A string setting (NUL-terminated, owned by the handle, empty when
 * unset); valid until the handle is freed.
 */
SCIM_API const char *scim_saml_sp_get(const scim_saml_sp_t *sp,
    scim_saml_option_t option) SCIM_NOEXCEPT;

/**
 * @brief Set the numeric policy (copied), within the bounds of
 * scim_saml_limit_t. @return SCIM_OK or SCIM_EINVAL
 */
SCIM_API int scim_saml_sp_set_policy(scim_saml_sp_t *sp,
    const scim_saml_policy_t *policy, char *err, size_t errlen) SCIM_NOEXCEPT;

/** @brief The policy in force (owned by the handle). */
SCIM_API const scim_saml_policy_t *scim_saml_sp_policy(
    const scim_saml_sp_t *sp) SCIM_NOEXCEPT;

/**
 * @brief Read an IdP's SAML metadata file: its entityID, the HTTP-Redirect
 * SingleSignOnService and SingleLogoutService, and every signing
 * certificate (several allow key rollover).
 *
 * The file is trusted configuration: its own signature, if any, is not
 * checked. With an EntitiesDescriptor, the entity whose entityID was set
 * with SCIM_SAML_IDP_ENTITY_ID is used, else the only one with an
 * IDPSSODescriptor. Each certificate is checked as scim_saml_sp_add_idp_cert()
 * does. Settings made explicitly before or after the call win.
 *
 * @param[in] path    file name, NUL-terminated
 * @param[in] now_ms  the time certificates must be valid at
 * @return SCIM_OK, an errno value (unreadable) or SCIM_EINVAL (not
 *         metadata, no IdP, no usable certificate, expired certificate...)
 */
SCIM_API int scim_saml_sp_load_idp_metadata(scim_saml_sp_t *sp,
    const char *path, int64_t now_ms, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Add a trusted IdP signing certificate from a PEM file (one or
 * more certificates). Only the public key is kept, loaded once; a
 * certificate that is malformed, expired or not yet valid at now_ms is
 * refused. Certificates sent inside a signature's KeyInfo are never used.
 * @return SCIM_OK, an errno value or SCIM_EINVAL
 */
SCIM_API int scim_saml_sp_add_idp_cert(scim_saml_sp_t *sp, const char *path,
    int64_t now_ms, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Load our RSA private key (unencrypted PEM): it signs
 * AuthnRequests and LogoutRequests and decrypts EncryptedAssertions.
 * @return SCIM_OK, an errno value or SCIM_EINVAL
 */
SCIM_API int scim_saml_sp_load_sp_key(scim_saml_sp_t *sp, const char *path,
    char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Load our certificate (PEM), published in the SP metadata; it
 * must be valid at now_ms and match the key.
 * @return SCIM_OK, an errno value or SCIM_EINVAL
 */
SCIM_API int scim_saml_sp_load_sp_cert(scim_saml_sp_t *sp, const char *path,
    int64_t now_ms, char *err, size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Check that the settings form a usable SP and build its metadata.
 *
 * Required: an IdP entityID, an SSO URL, at least one IdP certificate, our
 * entityID and ACS URL. sp_key and sp_cert go together and must match. An
 * IdP whose metadata sets WantAuthnRequestsSigned needs sp_key.
 *
 * @return SCIM_OK or SCIM_EINVAL (err names what is missing)
 */
SCIM_API int scim_saml_sp_finish(scim_saml_sp_t *sp, char *err,
    size_t errlen) SCIM_NOEXCEPT;

/**
 * @brief Our SAML metadata (an EntityDescriptor with an SPSSODescriptor),
 * built by scim_saml_sp_finish(); owned by the handle.
 * @param[out] len  its length in bytes
 * @return the document (NUL-terminated), or NULL before finish
 */
SCIM_API const char *scim_saml_sp_metadata(const scim_saml_sp_t *sp,
    size_t *len) SCIM_NOEXCEPT;

/** @brief 1 when the SP knows an IdP SingleLogoutService URL. */
SCIM_API int scim_saml_sp_has_slo(const scim_saml_sp_t *sp) SCIM_NOEXCEPT;
/** @} */


/** @defgroup saml_tokens Random identifiers
 * @{ */

/** raw bytes of a session id (256 bits) */
#define SCIM_SAML_SESSION_ID_SIZE  32
/** its cookie form: 43 base64url characters and a NUL */
#define SCIM_SAML_COOKIE_SIZE      44

/**
 * @brief A new random session id and its cookie text.
 * @param[out] id      SCIM_SAML_SESSION_ID_SIZE bytes
 * @param[out] cookie  SCIM_SAML_COOKIE_SIZE bytes, NUL-terminated
 * @return SCIM_OK or SCIM_EINTERNAL (no randomness)
 */
SCIM_API int scim_saml_new_id(unsigned char *id, char *cookie) SCIM_NOEXCEPT;

/**
 * @brief Decode a cookie value made by scim_saml_new_id().
 * @return SCIM_OK or SCIM_EINVAL (not 43 base64url characters)
 */
SCIM_API int scim_saml_decode_id(const char *cookie, size_t len,
    unsigned char *id) SCIM_NOEXCEPT;
/** @} */


/** @defgroup saml_redirect Login and logout redirects (HTTP-Redirect)
 * @{ */

/** longest request ID we generate, with its NUL */
#define SCIM_SAML_REQUEST_ID_SIZE  48
/** longest accepted return path */
#define SCIM_SAML_RETURN_PATH_MAX  2048

/** A redirect to the IdP; release with scim_saml_redirect_free(). */
typedef struct {
    /** the ID of the request inside, NUL-terminated */
    char     request_id[SCIM_SAML_REQUEST_ID_SIZE];
    /** the absolute URL to send the browser to (malloc()ed, NUL-terminated) */
    char    *location;
    size_t   location_len;
} scim_saml_redirect_t;

/**
 * @brief Whether a return path is a same-site relative path we may
 * redirect to: it starts with one "/" (not "//" nor "/\"), and holds only
 * printable ASCII without "\" (browsers read "\" as "/"). Blocks open
 * redirects through return_to and RelayState.
 * @return 1 if safe, 0 otherwise
 */
SCIM_API int scim_saml_return_path_ok(const char *path,
    size_t len) SCIM_NOEXCEPT;

/**
 * @brief Build the redirect that starts a login: an AuthnRequest with a new
 * unique ID, DEFLATEd and base64-encoded for the HTTP-Redirect binding,
 * RelayState carrying the return path, signed per the binding
 * (SigAlg rsa-sha256, Signature) when sp_key is set.
 *
 * @param[in]  return_to  the decoded return path; must pass
 *                        scim_saml_return_path_ok() (empty means "/")
 * @param[out] out        zeroed by the callee first
 * @return SCIM_OK, SCIM_EINVAL (unsafe return path; err says why), ENOMEM
 */
SCIM_API int scim_saml_login_redirect(const scim_saml_sp_t *sp,
    const char *return_to, size_t len, int64_t now_ms,
    scim_saml_redirect_t *out, char *err, size_t errlen) SCIM_NOEXCEPT;

/** @brief Release what a redirect owns; safe on a zeroed one. */
SCIM_API void scim_saml_redirect_free(scim_saml_redirect_t *r) SCIM_NOEXCEPT;
/** @} */


/** @defgroup saml_acs Assertion Consumer Service
 * @{ */

/**
 * What a verified Response says; every string is malloc()ed and
 * NUL-terminated (or NULL where noted). Release with
 * scim_saml_assertion_free().
 */
typedef struct {
    /** the IdP (the Assertion's Issuer) */
    char     *issuer;
    /** the Subject's NameID, read canonically (comments and markup inside
     *  it cannot change it) */
    char     *name_id;
    /** its Format attribute, or NULL */
    char     *name_id_format;
    /** the value that links the login to a user: the NameID, or the first
     *  value of the configured login attribute */
    char     *login;
    /** AuthnStatement SessionIndex, or NULL */
    char     *session_index;
    /** the Assertion's ID (the replay key) */
    char     *assertion_id;
    /** the Response's InResponseTo, or NULL (IdP-initiated) */
    char     *in_response_to;
    /** the RelayState form field as posted (unchecked), or NULL */
    char     *relay_state;
    /** the assertion's attributes as a JSON object of string arrays, keyed
     *  by Name and FriendlyName (read for jit and login_attribute only;
     *  NULL otherwise) */
    char     *attributes;
    /** the replay record must live until this time: the latest
     *  NotOnOrAfter of the assertion plus the clock skew */
    int64_t   replay_until;
    /** AuthnStatement SessionNotOnOrAfter, or 0 */
    int64_t   session_not_on_or_after;
    /** for a failure: which check and what came back, one line */
    char      reason[512];
} scim_saml_assertion_t;

/**
 * @brief Verify a POSTed ACS body (application/x-www-form-urlencoded with
 * SAMLResponse and optionally RelayState) against every stateless rule:
 * size, base64, XML without DTD, entities or network, exactly one
 * Assertion (decrypted with sp_key when encrypted), a Response- or
 * Assertion-level signature by a configured IdP key whose single Reference
 * is the bare "#ID" of the element consumed, allowed algorithms (no SHA-1
 * unless allowed), Status Success, Issuer, Destination, Audience,
 * SubjectConfirmation bearer with Recipient and NotOnOrAfter, Conditions
 * NotBefore/NotOnOrAfter with the clock skew, and InResponseTo present
 * unless IdP-initiated logins are allowed.
 *
 * What needs state is left to the caller: whether InResponseTo names a
 * request this SP sent to this browser (single use), and the replay check
 * (scim_saml_login_commit()).
 *
 * @param[in]  body    the request body; borrowed for the call
 * @param[out] out     zeroed by the callee first; on failure only reason
 *                     is meaningful (the other fields may be set)
 * @return SCIM_OK, SCIM_SAML_ETOOBIG, SCIM_SAML_EMALFORMED,
 *         SCIM_SAML_EINVALID, ENOMEM or SCIM_EINTERNAL
 */
SCIM_API int scim_saml_acs_verify(const scim_saml_sp_t *sp, const char *body,
    size_t len, int64_t now_ms, scim_saml_assertion_t *out) SCIM_NOEXCEPT;

/** @brief Release what an assertion owns; safe on a zeroed one. */
SCIM_API void scim_saml_assertion_free(scim_saml_assertion_t *a) SCIM_NOEXCEPT;
/** @} */


/** @defgroup saml_link Linking a login to a provisioned user
 * @{ */

/** longest user id we link to, with its NUL (the SCIM id limit) */
#define SCIM_SAML_USER_ID_SIZE  129

/** The user a login is linked to. */
typedef struct {
    char      id[SCIM_SAML_USER_ID_SIZE];
    /** 1 when scim_saml_link_user() created the user (jit on) */
    unsigned  created;
    /** for a failure: why, one line naming the IdP and the login */
    char      reason[512];
} scim_saml_user_t;

/**
 * @brief Find the active user whose primary e-mail equals the login
 * (case-insensitively) in the SP's directory; with jit on, create one from
 * the assertion's attributes when there is none (the write is synced).
 * A user without "active" counts as active.
 *
 * @param[in]  store  this process's store
 * @param[in]  a      a verified assertion
 * @param[out] user   zeroed by the callee first
 * @return SCIM_OK, SCIM_SAML_ENOUSER, SCIM_SAML_EINACTIVE, an LMDB code,
 *         ENOMEM or SCIM_EINTERNAL
 */
SCIM_API int scim_saml_link_user(scim_store_t *store, const scim_saml_sp_t *sp,
    const scim_saml_assertion_t *a, scim_saml_user_t *user) SCIM_NOEXCEPT;
/** @} */


/** @defgroup saml_sessions Sessions and the replay record in LMDB
 * Sessions are keyed by the SHA-256 of their id, so a copy of the store
 * does not hand out live cookies. Expired sessions and replay records are
 * removed when they are read, and a few at each commit (a bounded sweep in
 * expiry order).
 * @{ */

/** longest NameID, NameID Format and SessionIndex a session keeps */
#define SCIM_SAML_NAME_ID_SIZE  512

/** A session as the store keeps it. */
typedef struct {
    char      user_id[SCIM_SAML_USER_ID_SIZE];
    char      name_id[SCIM_SAML_NAME_ID_SIZE];
    char      name_id_format[SCIM_SAML_NAME_ID_SIZE];
    char      session_index[SCIM_SAML_NAME_ID_SIZE];
    int64_t   created;
    /** absolute end: login + session_lifetime, or the IdP's
     *  SessionNotOnOrAfter when that is earlier */
    int64_t   expires;
    /** last use as last recorded (the idle timeout counts from here) */
    int64_t   last_access;
} scim_saml_session_t;

/** One login to make durable; see scim_saml_login_commit(). */
typedef struct {
    const scim_saml_sp_t         *sp;
    const scim_saml_assertion_t  *assertion;
    const scim_saml_user_t       *user;
    /** SCIM_SAML_SESSION_ID_SIZE bytes */
    const unsigned char          *session_id;
    /** out: the session as stored */
    scim_saml_session_t           session;
    /** out: SCIM_OK, or SCIM_SAML_EREPLAY when the assertion ID is already
     *  recorded and not expired (no session is written then) */
    int                           rc;
} scim_saml_login_t;

/**
 * @brief Record each assertion ID until its replay_until and write each
 * login's session, all in one synced write transaction (a group commit:
 * the glue may batch concurrent logins into one call).
 * @param[in,out] logins  n logins; rc and session are set per login
 * @return SCIM_OK (see each rc), an LMDB code, ENOMEM or SCIM_EINTERNAL
 *         (then nothing was written)
 */
SCIM_API int scim_saml_login_commit(scim_store_t *store,
    scim_saml_login_t *logins, size_t n, int64_t now_ms) SCIM_NOEXCEPT;

/**
 * @brief Read a session; one that has passed its absolute or idle timeout
 * is deleted and reported as SCIM_SAML_EEXPIRED.
 * @param[in]  id   SCIM_SAML_SESSION_ID_SIZE bytes
 * @param[out] out  the session
 * @return SCIM_OK, SCIM_ENOTFOUND, SCIM_SAML_EEXPIRED, an LMDB code or
 *         SCIM_EINTERNAL
 */
SCIM_API int scim_saml_session_get(scim_store_t *store,
    const scim_saml_sp_t *sp, const unsigned char *id, int64_t now_ms,
    scim_saml_session_t *out) SCIM_NOEXCEPT;

/**
 * @brief Record a later last use of a session (so the idle timeout counts
 * from it after a restart).
 * @return SCIM_OK, SCIM_ENOTFOUND, an LMDB code or SCIM_EINTERNAL
 */
SCIM_API int scim_saml_session_touch(scim_store_t *store,
    const scim_saml_sp_t *sp, const unsigned char *id,
    int64_t last_access_ms) SCIM_NOEXCEPT;

/**
 * @brief Delete a session (logout).
 * @return SCIM_OK, SCIM_ENOTFOUND, an LMDB code or SCIM_EINTERNAL
 */
SCIM_API int scim_saml_session_delete(scim_store_t *store,
    const scim_saml_sp_t *sp, const unsigned char *id) SCIM_NOEXCEPT;

/**
 * @brief Build the redirect that ends the session at the IdP: a
 * LogoutRequest naming the session's NameID and SessionIndex, RelayState
 * carrying the return path, signed when sp_key is set.
 * @param[in] session  the session being ended (read before deleting it)
 * @return SCIM_OK, SCIM_ENOTFOUND (the IdP has no SLO URL), SCIM_EINVAL
 *         (unsafe return path) or ENOMEM
 */
SCIM_API int scim_saml_logout_redirect(const scim_saml_sp_t *sp,
    const scim_saml_session_t *session, const char *return_to, size_t len,
    int64_t now_ms, scim_saml_redirect_t *out, char *err,
    size_t errlen) SCIM_NOEXCEPT;
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SCIM_SAML_H */
