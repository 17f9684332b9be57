// scim_strerror(): one describer for the three code ranges of scim.h.
#include <lmdb.h>

#include <cstring>

#include "scim.h"
#include "scim_saml.h"

extern "C" const char* scim_strerror(int err) noexcept {
    switch (err) {
        case SCIM_OK:
            return "success";
        case SCIM_EINTERNAL:
            return "internal error in the SCIM core";
        case SCIM_EINVAL:
            return "invalid argument";
        case SCIM_ENOTOKENS:
            return "no usable token hash in the token file";
        case SCIM_ENOTDIR:
            return "not a directory";
        case SCIM_EFORMAT:
            return "store format not supported by this build";
        case SCIM_EACCESS:
            return "store not writable by the worker user";
        case SCIM_ENOTFOUND:
            return "not found";
        case SCIM_SAML_EINVALID:
            return "the SAML message failed a security check";
        case SCIM_SAML_EMALFORMED:
            return "not a SAML message";
        case SCIM_SAML_ETOOBIG:
            return "the SAML message is too large";
        case SCIM_SAML_EREPLAY:
            return "the SAML assertion was already used";
        case SCIM_SAML_ENOUSER:
            return "no provisioned user matches the login";
        case SCIM_SAML_EINACTIVE:
            return "the user is deactivated";
        case SCIM_SAML_EEXPIRED:
            return "the session expired";
        default:
            break;
    }
    if (err >= MDB_KEYEXIST && err <= MDB_LAST_ERRCODE) return mdb_strerror(err);
    if (err > 0) return strerror(err);
    return "unknown error";
}
