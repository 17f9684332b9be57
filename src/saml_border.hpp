// The exception border of the SAML C API: every extern "C" function runs
// its body through border(), which turns what the core throws into the
// code and the one-line reason the caller gets.
#pragma once

#include <cerrno>
#include <new>
#include <stdexcept>

#include "saml_xml.hpp"
#include "scim.h"
#include "scim_error.hpp"
#include "store_lmdb.hpp"
#include "util.hpp"

namespace scim::saml {

// Reasons may quote what a client sent; a log line must stay one line.
inline int clean(char* err, int code) {
    for (char* p = err; p && *p; p++)
        if (static_cast<unsigned char>(*p) < 0x20 || *p == 0x7f) *p = '?';
    return code;
}

template <typename F>
int border(char* err, size_t errlen, F&& body) noexcept {
    if (err && errlen) err[0] = '\0';
    try {
        try {
            body();
            return SCIM_OK;
        } catch (const Failure& e) {
            set_error(err, errlen, "%s", e.reason.c_str());
            return clean(err, e.code);
        } catch (const ScimError& e) {
            set_error(err, errlen, "%s", e.detail.c_str());
            return clean(err, SCIM_EINVAL);
        } catch (const StoreError& e) {
            set_error(err, errlen, "the store failed: %s", e.what());
            return e.code;
        } catch (const std::bad_alloc&) {
            set_error(err, errlen, "out of memory");
            return ENOMEM;
        } catch (const std::exception& e) {
            set_error(err, errlen, "internal error: %s", e.what());
            return SCIM_EINTERNAL;
        }
    } catch (...) {
        set_error(err, errlen, "internal error");
        return SCIM_EINTERNAL;
    }
}

}  // namespace scim::saml
