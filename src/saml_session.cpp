// What a login leaves in the store: the link to the provisioned user
// (created just in time when allowed), the replay record of the assertion
// and the session. Layout (every key starts with the directory name and a
// NUL, like the SCIM records):
//
//   sessions  dir \0 SHA-256(session id)            -> JSON session record
//   replay    dir \0 assertion ID                   -> 8-byte big-endian end
//   expiry    dir \0 8-byte big-endian end, kind ('s' or 'r'), rest of key
//                                                   -> "" (an expiry index)
//
// The expiry index lets a commit sweep a bounded number of expired
// records in expiry order; anything it has not reached yet is removed when
// it is read.
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "json.hpp"
#include "record.hpp"
#include "resource.hpp"
#include "saml_border.hpp"
#include "saml_sp.hpp"
#include "schema.hpp"
#include "scim_error.hpp"
#include "users.hpp"

using namespace scim;
using namespace scim::saml;

namespace {

constexpr size_t kSweepPerCommit = 8;
constexpr char kSession = 's';
constexpr char kReplay = 'r';

std::string dir_prefix(const Sp& sp) {
    return std::string(sp.dir.name).append(1, '\0');
}

std::string session_key(const Sp& sp, const unsigned char* id) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(id, SCIM_SAML_SESSION_ID_SIZE, md);
    return dir_prefix(sp).append(reinterpret_cast<const char*>(md), sizeof(md));
}

std::string replay_key(const Sp& sp, std::string_view assertion_id) {
    std::string k = dir_prefix(sp);
    // LMDB keys stop at 511 bytes; a longer ID is replaced by its hash.
    if (assertion_id.size() > 400) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256(reinterpret_cast<const unsigned char*>(assertion_id.data()), assertion_id.size(),
               md);
        return k.append("#sha256:").append(hex(md, sizeof(md)));
    }
    return k.append(assertion_id);
}

std::string be64(int64_t v) {
    std::string s(8, '\0');
    uint64_t u = static_cast<uint64_t>(v);
    for (int i = 7; i >= 0; i--, u >>= 8) s[static_cast<size_t>(i)] = static_cast<char>(u & 0xff);
    return s;
}

int64_t from_be64(std::string_view s) {
    uint64_t u = 0;
    for (size_t i = 0; i < 8 && i < s.size(); i++) u = (u << 8) | static_cast<unsigned char>(s[i]);
    return static_cast<int64_t>(u);
}

// key is the record's full key (dir \0 rest).
std::string expiry_key(const Sp& sp, int64_t when, char kind, std::string_view key) {
    std::string prefix = dir_prefix(sp);
    return std::string(prefix).append(be64(when)).append(1, kind).append(key.substr(prefix.size()));
}

struct Session {
    std::string user_id, name_id, format, index;
    int64_t created = 0, expires = 0, last_access = 0;

    int64_t end(const Sp& sp) const {
        return std::min(expires, last_access + sp.policy.session_idle_ms);
    }
};

std::string encode_session(const Session& s) {
    Json j = take(json_object());
    json_object_set_new(j.get(), "u", json_stringn(s.user_id.data(), s.user_id.size()));
    json_object_set_new(j.get(), "n", json_stringn(s.name_id.data(), s.name_id.size()));
    json_object_set_new(j.get(), "f", json_stringn(s.format.data(), s.format.size()));
    json_object_set_new(j.get(), "i", json_stringn(s.index.data(), s.index.size()));
    json_object_set_new(j.get(), "c", json_integer(s.created));
    json_object_set_new(j.get(), "x", json_integer(s.expires));
    json_object_set_new(j.get(), "a", json_integer(s.last_access));
    return dump(j.get());
}

Session decode_session(std::string_view v) {
    json_error_t jerr;
    Json j = take(json_loadb(v.data(), v.size(), 0, &jerr));
    if (!json_is_object(j.get())) throw std::runtime_error("corrupt session record");
    auto str = [&](const char* k) {
        json_t* s = json_object_get(j.get(), k);
        return json_is_string(s) ? std::string(str_view(s)) : std::string();
    };
    auto num = [&](const char* k) {
        return static_cast<int64_t>(json_integer_value(json_object_get(j.get(), k)));
    };
    Session s;
    s.user_id = str("u");
    s.name_id = str("n");
    s.format = str("f");
    s.index = str("i");
    s.created = num("c");
    s.expires = num("x");
    s.last_access = num("a");
    return s;
}

void copy_field(char* dst, size_t size, const std::string& src) {
    size_t n = std::min(src.size(), size - 1);
    memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

void export_session(const Session& s, scim_saml_session_t* out) {
    memset(out, 0, sizeof(*out));
    copy_field(out->user_id, sizeof(out->user_id), s.user_id);
    copy_field(out->name_id, sizeof(out->name_id), s.name_id);
    copy_field(out->name_id_format, sizeof(out->name_id_format), s.format);
    copy_field(out->session_index, sizeof(out->session_index), s.index);
    out->created = s.created;
    out->expires = s.expires;
    out->last_access = s.last_access;
}

void put_session(Txn& txn, const Store& store, const Sp& sp, const std::string& key,
                 const Session& s) {
    txn.put(store.sessions, key, encode_session(s));
    txn.put(store.expiry, expiry_key(sp, s.end(sp), kSession, key), std::string_view());
}

void delete_session(Txn& txn, const Store& store, const Sp& sp, const std::string& key,
                    const Session& s) {
    txn.del(store.sessions, key);
    txn.del(store.expiry, expiry_key(sp, s.end(sp), kSession, key));
}

// Removes up to `limit` expired records of the directory, oldest end
// first. A session whose end moved later (the idle timeout changed with a
// reload) is indexed again under its real end rather than dropped.
void sweep(Txn& txn, const Store& store, const Sp& sp, int64_t now, size_t limit) {
    const std::string prefix = dir_prefix(sp);
    MDB_cursor* cursor;
    int rc = mdb_cursor_open(txn.handle(), store.expiry, &cursor);
    if (rc != 0) throw StoreError(rc);
    std::unique_ptr<MDB_cursor, void (*)(MDB_cursor*)> owner(cursor, mdb_cursor_close);
    MDB_val k = to_val(prefix), v;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    std::vector<std::pair<std::string, Session>> reindex;
    for (size_t n = 0; rc == 0 && n < limit; n++) {
        std::string_view key = from_val(k);
        if (key.size() < prefix.size() + 9 || key.compare(0, prefix.size(), prefix) != 0) break;
        if (from_be64(key.substr(prefix.size(), 8)) > now) break;
        char kind = key[prefix.size() + 8];
        std::string target = prefix + std::string(key.substr(prefix.size() + 9));
        std::string_view record;
        if (kind == kSession && txn.get(store.sessions, target, &record)) {
            Session s = decode_session(record);
            if (s.end(sp) <= now)
                txn.del(store.sessions, target);
            else
                reindex.emplace_back(target, s);
        } else if (kind == kReplay && txn.get(store.replay, target, &record)) {
            if (from_be64(record) <= now) txn.del(store.replay, target);
        }
        rc = mdb_cursor_del(cursor, 0);
        if (rc != 0) throw StoreError(rc);
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) throw StoreError(rc);
    owner.reset();
    for (const auto& [key, s] : reindex)
        txn.put(store.expiry, expiry_key(sp, s.end(sp), kSession, key), std::string_view());
}

// One login of a group commit. Replay across restarts: the assertion ID is
// recorded in LMDB, in the same transaction as the session, until the
// assertion can no longer be accepted; an ID already recorded and not yet
// expired is refused, whatever shared memory forgot.
void commit_one(Txn& txn, const Store& store, scim_saml_login_t& l, int64_t now) {
    const Sp& sp = *l.sp;
    const scim_saml_assertion_t& a = *l.assertion;
    std::string rkey = replay_key(sp, a.assertion_id);
    std::string_view old;
    if (txn.get(store.replay, rkey, &old)) {
        int64_t until = from_be64(old);
        if (until > now) {
            l.rc = SCIM_SAML_EREPLAY;
            return;
        }
        txn.del(store.expiry, expiry_key(sp, until, kReplay, rkey));
    }
    txn.put(store.replay, rkey, be64(a.replay_until));
    txn.put(store.expiry, expiry_key(sp, a.replay_until, kReplay, rkey), std::string_view());

    Session s;
    s.user_id = l.user->id;
    s.name_id = a.name_id ? a.name_id : "";
    s.format = a.name_id_format ? a.name_id_format : "";
    s.index = a.session_index ? a.session_index : "";
    s.created = now;
    s.last_access = now;
    s.expires = now + sp.policy.session_lifetime_ms;
    // The IdP may cap the session (AuthnStatement SessionNotOnOrAfter).
    if (a.session_not_on_or_after > 0) s.expires = std::min(s.expires, a.session_not_on_or_after);
    put_session(txn, store, sp, session_key(sp, l.session_id), s);
    export_session(s, &l.session);
    l.rc = SCIM_OK;
}

std::string first_value(const json_t* attrs, std::initializer_list<const char*> names) {
    for (const char* n : names) {
        json_t* values = object_get_ci(attrs, n);
        if (json_array_size(values) > 0 && json_string_length(json_array_get(values, 0)) > 0)
            return std::string(str_view(json_array_get(values, 0)));
    }
    return std::string();
}

// Just-in-time user: what the assertion says, through the same
// normalisation and insert as POST /Users, so the record is one SCIM
// would have written.
std::string create_user(Store& store, const Sp& sp, const scim_saml_assertion_t& a) {
    json_error_t jerr;
    Json attrs = take(json_loads(a.attributes ? a.attributes : "{}", 0, &jerr));
    Json u = take(json_object());
    json_t* schemas = json_array();
    json_array_append_new(schemas, json_string(kUserResource.schema->id));
    json_object_set_new(u.get(), "schemas", schemas);
    json_object_set_new(u.get(), "userName", json_string(a.login));
    json_t* email = json_object();
    json_object_set_new(email, "value", json_string(a.login));
    json_object_set_new(email, "type", json_string("work"));
    json_object_set_new(email, "primary", json_true());
    json_t* emails = json_array();
    json_array_append_new(emails, email);
    json_object_set_new(u.get(), "emails", emails);
    json_object_set_new(u.get(), "active", json_true());
    std::string given = first_value(
        attrs.get(), {"givenName", "firstName", "first_name", "urn:oid:2.5.4.42",
                      "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"});
    std::string family = first_value(
        attrs.get(), {"sn", "surname", "familyName", "lastName", "last_name", "urn:oid:2.5.4.4",
                      "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"});
    std::string display =
        first_value(attrs.get(), {"displayName", "urn:oid:2.16.840.1.113730.3.1.241",
                                  "http://schemas.microsoft.com/identity/claims/displayname"});
    if (!given.empty() || !family.empty()) {
        json_t* name = json_object();
        if (!given.empty()) json_object_set_new(name, "givenName", json_string(given.c_str()));
        if (!family.empty()) json_object_set_new(name, "familyName", json_string(family.c_str()));
        json_object_set_new(u.get(), "name", name);
    }
    if (display.empty() && !given.empty() && !family.empty()) display = given + " " + family;
    if (!display.empty()) json_object_set_new(u.get(), "displayName", json_string(display.c_str()));

    Json user = normalize_resource(u.get(), kUserResource);
    Txn txn = Txn::write(store);
    NewUser created = insert_user(txn, store, sp.dir, user.get());
    bump_generation(txn, store);
    txn.commit();
    return created.id;
}

}  // namespace

extern "C" int scim_saml_link_user(scim_store_t* store, const scim_saml_sp_t* sp,
                                   const scim_saml_assertion_t* a,
                                   scim_saml_user_t* user) noexcept {
    memset(user, 0, sizeof(*user));
    return border(user->reason, sizeof(user->reason), [&] {
        const std::string idp = printable(sp->opt(SCIM_SAML_IDP_ENTITY_ID));
        const std::string login = printable(a->login ? a->login : "");
        const std::string how = sp->opt(SCIM_SAML_LOGIN_ATTRIBUTE).empty()
                                    ? "NameID"
                                    : "attribute " + printable(sp->opt(SCIM_SAML_LOGIN_ATTRIBUTE));
        for (int attempt = 0; attempt < 2; attempt++) {
            {
                Txn txn = Txn::read(*store);
                std::optional<std::string> id =
                    find_user_by_email(txn, *store, sp->dir, a->login ? a->login : "");
                std::string_view record;
                if (id && get_user_record(txn, *store, sp->dir, *id, &record)) {
                    Json doc = decode_record(record);
                    // A deactivated user keeps its record but grants nothing;
                    // a user without "active" counts as active.
                    if (json_is_false(json_object_get(doc.get(), "active")))
                        fail_with(SCIM_SAML_EINACTIVE,
                                  "login refused: IdP \"%s\", %s \"%s\": user %s of directory "
                                  "\"%s\" is deactivated (active: false)",
                                  idp.c_str(), how.c_str(), login.c_str(), printable(*id).c_str(),
                                  sp->dir.name.c_str());
                    if (id->size() >= SCIM_SAML_USER_ID_SIZE)
                        fail_with(SCIM_EINTERNAL, "user id longer than %d bytes",
                                  SCIM_SAML_USER_ID_SIZE - 1);
                    copy_field(user->id, sizeof(user->id), *id);
                    return;
                }
            }
            if (!sp->policy.jit)
                fail_with(SCIM_SAML_ENOUSER,
                          "login refused: IdP \"%s\", %s \"%s\": no user of directory \"%s\" has "
                          "this primary e-mail (provision the user through SCIM, or set jit on)",
                          idp.c_str(), how.c_str(), login.c_str(), sp->dir.name.c_str());
            if (attempt > 0) break;
            try {
                std::string id = create_user(*store, *sp, *a);
                copy_field(user->id, sizeof(user->id), id);
                user->created = 1;
                return;
            } catch (const ScimError& e) {
                // 409: another worker created it first (look again), or the
                // userName belongs to a user with another e-mail.
                if (e.status != 409)
                    fail_with(SCIM_SAML_ENOUSER,
                              "login refused: IdP \"%s\", %s \"%s\": the user cannot be created "
                              "just in time: %s",
                              idp.c_str(), how.c_str(), login.c_str(), e.detail.c_str());
            }
        }
        fail_with(SCIM_SAML_ENOUSER,
                  "login refused: IdP \"%s\", %s \"%s\": the user cannot be created just in time: "
                  "its userName belongs to another user",
                  idp.c_str(), how.c_str(), login.c_str());
    });
}

extern "C" int scim_saml_login_commit(scim_store_t* store, scim_saml_login_t* logins, size_t n,
                                      int64_t now_ms) noexcept {
    char reason[256];
    return border(reason, sizeof(reason), [&] {
        Txn txn = Txn::write(*store);
        for (size_t i = 0; i < n; i++) {
            memset(&logins[i].session, 0, sizeof(logins[i].session));
            commit_one(txn, *store, logins[i], now_ms);
        }
        const Sp* swept = nullptr;
        for (size_t i = 0; i < n; i++) {
            if (logins[i].sp == swept) continue;
            swept = logins[i].sp;
            sweep(txn, *store, *swept, now_ms, kSweepPerCommit);
        }
        txn.commit();
    });
}

extern "C" int scim_saml_session_get(scim_store_t* store, const scim_saml_sp_t* sp,
                                     const unsigned char* id, int64_t now_ms,
                                     scim_saml_session_t* out) noexcept {
    char reason[256];
    return border(reason, sizeof(reason), [&] {
        std::string key = session_key(*sp, id);
        Session s;
        {
            Txn txn = Txn::read(*store);
            std::string_view record;
            if (!txn.get(store->sessions, key, &record))
                fail_with(SCIM_ENOTFOUND, "no such session");
            s = decode_session(record);
        }
        if (s.end(*sp) <= now_ms) {
            Txn txn = Txn::write(*store);
            delete_session(txn, *store, *sp, key, s);
            txn.commit();
            fail_with(SCIM_SAML_EEXPIRED, "the session expired");
        }
        export_session(s, out);
    });
}

// Runs change(txn, key, session) on a stored session in a write
// transaction; the change commits or not.
template <typename F>
int change_session(Store* store, const Sp* sp, const unsigned char* id, F&& change) noexcept {
    char reason[256];
    return border(reason, sizeof(reason), [&] {
        std::string key = session_key(*sp, id);
        Txn txn = Txn::write(*store);
        std::string_view record;
        if (!txn.get(store->sessions, key, &record)) fail_with(SCIM_ENOTFOUND, "no such session");
        change(txn, key, decode_session(record));
    });
}

extern "C" int scim_saml_session_touch(scim_store_t* store, const scim_saml_sp_t* sp,
                                       const unsigned char* id, int64_t last_access_ms) noexcept {
    return change_session(store, sp, id, [&](Txn& txn, const std::string& key, Session s) {
        if (last_access_ms <= s.last_access) return;
        txn.del(store->expiry, expiry_key(*sp, s.end(*sp), kSession, key));
        s.last_access = last_access_ms;
        put_session(txn, *store, *sp, key, s);
        txn.commit();
    });
}

extern "C" int scim_saml_session_delete(scim_store_t* store, const scim_saml_sp_t* sp,
                                        const unsigned char* id) noexcept {
    return change_session(store, sp, id, [&](Txn& txn, const std::string& key, const Session& s) {
        delete_session(txn, *store, *sp, key, s);
        txn.commit();
    });
}
