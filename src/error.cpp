// scim_strerror(): one describer for the three code ranges of scim.h.
#include <lmdb.h>

#include <cstring>

#include "scim.h"

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
        default:
            break;
    }
    if (err >= MDB_KEYEXIST && err <= MDB_LAST_ERRCODE) return mdb_strerror(err);
    if (err > 0) return strerror(err);
    return "unknown error";
}
