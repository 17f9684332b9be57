#include "store_lmdb.hpp"

#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>
#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "resources.hpp"
#include "scim.h"
#include "util.hpp"

scim_store_s::~scim_store_s() {
    if (idle_reader) mdb_txn_abort(idle_reader);
    if (env) mdb_env_close(env);
}

namespace scim {

// Format 2 added the index and members databases and the primaryEmail
// unique entries, format 3 the resource counters; older stores are
// upgraded by re-indexing on open.
static const char kFormat[] = "3";

StoreError::StoreError(int c) : std::runtime_error(mdb_strerror(c)), code(c) {}

Txn Txn::read(Store& store) {
    MDB_txn* txn = store.idle_reader;
    if (txn) {
        store.idle_reader = nullptr;
        int rc = mdb_txn_renew(txn);
        if (rc != 0) {
            mdb_txn_abort(txn);
            throw StoreError(rc);
        }
    } else {
        int rc = mdb_txn_begin(store.env, nullptr, MDB_RDONLY, &txn);
        if (rc != 0) throw StoreError(rc);
    }
    return Txn(store, txn, true);
}

Txn Txn::write(Store& store) {
    MDB_txn* txn;
    int rc = mdb_txn_begin(store.env, nullptr, 0, &txn);
    if (rc != 0) throw StoreError(rc);
    return Txn(store, txn, false);
}

Txn::Txn(Txn&& other) noexcept
    : store_(other.store_), txn_(other.txn_), readonly_(other.readonly_) {
    other.txn_ = nullptr;
}

Txn::~Txn() {
    if (!txn_) return;
    if (readonly_ && store_->idle_reader == nullptr) {
        mdb_txn_reset(txn_);
        store_->idle_reader = txn_;
    } else {
        mdb_txn_abort(txn_);
    }
}

bool Txn::get(MDB_dbi dbi, std::string_view key, std::string_view* val) {
    MDB_val k = to_val(key), v;
    int rc = mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) throw StoreError(rc);
    *val = from_val(v);
    return true;
}

bool Txn::put(MDB_dbi dbi, std::string_view key, std::string_view val, unsigned flags) {
    MDB_val k = to_val(key), v = to_val(val);
    int rc = mdb_put(txn_, dbi, &k, &v, flags);
    if (rc == MDB_KEYEXIST) return false;
    if (rc != 0) throw StoreError(rc);
    return true;
}

bool Txn::del(MDB_dbi dbi, std::string_view key) {
    MDB_val k = to_val(key);
    int rc = mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) throw StoreError(rc);
    return true;
}

bool Txn::del_if(MDB_dbi dbi, std::string_view key, std::string_view expected) {
    std::string_view v;
    if (!get(dbi, key, &v) || v != expected) return false;
    return del(dbi, key);
}

bool Txn::put_dup(MDB_dbi dbi, std::string_view key, std::string_view val) {
    MDB_val k = to_val(key), v = to_val(val);
    int rc = mdb_put(txn_, dbi, &k, &v, MDB_NODUPDATA);
    if (rc == MDB_KEYEXIST) return false;
    if (rc != 0) throw StoreError(rc);
    return true;
}

bool Txn::del_dup(MDB_dbi dbi, std::string_view key, std::string_view val) {
    MDB_val k = to_val(key), v = to_val(val);
    int rc = mdb_del(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) throw StoreError(rc);
    return true;
}

void Txn::commit() {
    MDB_txn* txn = txn_;
    txn_ = nullptr;
    int rc = mdb_txn_commit(txn);
    if (rc != 0) throw StoreError(rc);
}

uint64_t Txn::id() const { return mdb_txn_id(txn_); }

PrefixCursor::PrefixCursor(Txn& txn, MDB_dbi dbi, std::string prefix) : prefix_(std::move(prefix)) {
    int rc = mdb_cursor_open(txn.handle(), dbi, &cursor_);
    if (rc != 0) throw StoreError(rc);
}

PrefixCursor::~PrefixCursor() {
    if (cursor_) mdb_cursor_close(cursor_);
}

bool PrefixCursor::next() {
    int rc;
    if (!started_) {
        started_ = true;
        key_ = to_val(prefix_);
        // LMDB refuses an empty key; an empty prefix means "from the first".
        rc = mdb_cursor_get(cursor_, &key_, &val_, prefix_.empty() ? MDB_FIRST : MDB_SET_RANGE);
    } else {
        rc = mdb_cursor_get(cursor_, &key_, &val_, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) throw StoreError(rc);
    std::string_view k = from_val(key_);
    return k.size() >= prefix_.size() && k.compare(0, prefix_.size(), prefix_) == 0;
}

std::string resource_prefix(std::string_view dir, std::string_view type) {
    std::string k;
    k.reserve(dir.size() + type.size() + 2);
    k.append(dir).push_back('\0');
    k.append(type).push_back('\0');
    return k;
}

std::string resource_key(std::string_view dir, std::string_view type, std::string_view id) {
    return resource_prefix(dir, type).append(id);
}

std::string unique_key(std::string_view dir, std::string_view type, std::string_view attr,
                       std::string_view value) {
    std::string k = resource_prefix(dir, type);
    k.append(attr).push_back('\0');
    // LMDB's default key limit is 511 bytes; directory names are at most 64.
    if (value.size() > 400) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), md);
        k.append("#sha256:").append(hex(md, sizeof(md)));
    } else {
        k.append(value);
    }
    return k;
}

std::string count_key(std::string_view dir, std::string_view type) {
    std::string k = "count";
    k.push_back('\0');
    return k.append(resource_prefix(dir, type));
}

uint64_t read_count(Txn& txn, const Store& store, std::string_view dir, std::string_view type) {
    std::string_view v;
    if (!txn.get(store.meta, count_key(dir, type), &v)) return 0;
    return std::strtoull(std::string(v).c_str(), nullptr, 10);
}

void add_to_count(Txn& txn, const Store& store, std::string_view dir, std::string_view type,
                  int64_t delta) {
    int64_t n = static_cast<int64_t>(read_count(txn, store, dir, type)) + delta;
    txn.put(store.meta, count_key(dir, type), std::to_string(n < 0 ? 0 : n));
}

std::string members_prefix(std::string_view dir, std::string_view group) {
    std::string k = resource_prefix(dir, "G");
    k.append(group).push_back('\0');
    return k;
}

std::string member_key(std::string_view dir, std::string_view group, std::string_view member) {
    return members_prefix(dir, group).append(member);
}

std::string member_of_prefix(std::string_view dir, std::string_view member) {
    std::string k = resource_prefix(dir, "M");
    k.append(member).push_back('\0');
    return k;
}

std::string member_of_key(std::string_view dir, std::string_view member, std::string_view group) {
    return member_of_prefix(dir, member).append(group);
}

}  // namespace scim

using namespace scim;

static int check_directory(const char* path, char* err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        set_error(err, errlen, "\"%s\" does not exist or cannot be reached: %s", path,
                  strerror(e));
        return e == ENOENT ? ENOENT : e;
    }
    if (!S_ISDIR(st.st_mode)) {
        set_error(err, errlen, "\"%s\" is not a directory", path);
        return SCIM_ENOTDIR;
    }
    return SCIM_OK;
}

// Opens the named databases in txn; create: make the missing ones (a
// read-only transaction cannot, and a store without them is refused).
static int open_databases(Txn& txn, Store& store, const char* path, bool create, char* err,
                          size_t errlen) {
    struct {
        const char* name;
        MDB_dbi* dbi;
        unsigned flags;
    } dbs[] = {{"meta", &store.meta, 0},
               {"resources", &store.resources, 0},
               {"unique", &store.unique, 0},
               {"index", &store.index, MDB_DUPSORT},
               {"members", &store.members, 0},
               {"sessions", &store.sessions, 0},
               {"replay", &store.replay, 0},
               {"expiry", &store.expiry, 0}};
    for (auto& d : dbs) {
        int rc = mdb_dbi_open(txn.handle(), d.name, (create ? MDB_CREATE : 0) | d.flags, d.dbi);
        if (rc == MDB_NOTFOUND) {
            set_error(err, errlen,
                      "\"%s\" is an LMDB environment without the \"%s\" database: not a store "
                      "of ngx_scim_module, or one nginx has not opened since an upgrade",
                      path, d.name);
            return SCIM_EFORMAT;
        }
        if (rc != 0) {
            set_error(err, errlen, "cannot open database \"%s\" in \"%s\": %s", d.name, path,
                      mdb_strerror(rc));
            return rc;
        }
    }
    return SCIM_OK;
}

static int format_error(const char* path, std::string_view format, char* err, size_t errlen) {
    set_error(err, errlen, "\"%s\" holds a store of format %.*s; this build reads format %s", path,
              static_cast<int>(format.size()), format.data(), kFormat);
    return SCIM_EFORMAT;
}

extern "C" int scim_store_open(const char* path, size_t max_size, scim_store_t** out, char* err,
                               size_t errlen) noexcept {
    try {
        *out = nullptr;
        if (max_size < SCIM_STORE_MIN_MAX_SIZE) {
            set_error(err, errlen, "max_size must be at least 1m");
            return SCIM_EINVAL;
        }
        int rc = check_directory(path, err, errlen);
        if (rc != SCIM_OK) return rc;

        auto store = std::make_unique<Store>();
        if ((rc = mdb_env_create(&store->env)) != 0 ||
            (rc = mdb_env_set_maxdbs(store->env, 16)) != 0 ||
            (rc = mdb_env_set_mapsize(store->env, max_size)) != 0) {
            set_error(err, errlen, "cannot create the LMDB environment: %s", mdb_strerror(rc));
            return rc;
        }
        // MDB_NOTLS: reader slots belong to transactions, not threads, which
        // lets a worker keep one reset reader for renewal.
        rc = mdb_env_open(store->env, path, MDB_NOTLS, 0600);
        if (rc != 0) {
            set_error(err, errlen, "cannot open the LMDB environment in \"%s\": %s", path,
                      mdb_strerror(rc));
            return rc;
        }
        int dead = 0;
        mdb_reader_check(store->env, &dead);

        Txn txn = Txn::write(*store);
        rc = open_databases(txn, *store, path, true, err, errlen);
        if (rc != SCIM_OK) return rc;
        std::string_view format;
        if (txn.get(store->meta, "format", &format) && (format == "1" || format == "2")) {
            reindex_all(txn, *store);
            txn.put(store->meta, "format", kFormat);
        } else if (txn.get(store->meta, "format", &format)) {
            if (format != kFormat) return format_error(path, format, err, errlen);
        } else {
            txn.put(store->meta, "format", kFormat);
        }
        txn.commit();
        *out = store.release();
        return SCIM_OK;
    } catch (const StoreError& e) {
        set_error(err, errlen, "store \"%s\": %s", path, e.what());
        return e.code;
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" int scim_store_open_readonly(const char* path, scim_store_t** out, char* err,
                                        size_t errlen) noexcept {
    try {
        *out = nullptr;
        int rc = check_directory(path, err, errlen);
        if (rc != SCIM_OK) return rc;

        // mdb_env_open() creates lock.mdb before it finds data.mdb missing:
        // look first, so that a mistyped path is left as it was.
        std::string data = std::string(path) + "/data.mdb";
        struct stat st;
        if (stat(data.c_str(), &st) != 0) {
            int e = errno;
            if (e == ENOENT)
                set_error(err, errlen,
                          "\"%s\" holds no store (no data.mdb): give the scim_store directory "
                          "of the nginx configuration",
                          path);
            else
                set_error(err, errlen, "cannot reach \"%s\": %s", data.c_str(), strerror(e));
            return e;
        }

        auto store = std::make_unique<Store>();
        if ((rc = mdb_env_create(&store->env)) != 0 ||
            (rc = mdb_env_set_maxdbs(store->env, 16)) != 0) {
            set_error(err, errlen, "cannot create the LMDB environment: %s", mdb_strerror(rc));
            return rc;
        }
        // No map size: LMDB takes the one recorded in the file.
        rc = mdb_env_open(store->env, path, MDB_NOTLS | MDB_RDONLY, 0600);
        if (rc != 0) {
            set_error(err, errlen, "cannot open the LMDB environment in \"%s\" read-only: %s",
                      path, mdb_strerror(rc));
            return rc;
        }

        // Handles opened in a read-only transaction outlive its commit.
        Txn txn = Txn::read(*store);
        rc = open_databases(txn, *store, path, false, err, errlen);
        if (rc != SCIM_OK) return rc;
        std::string_view format;
        if (!txn.get(store->meta, "format", &format)) {
            set_error(err, errlen,
                      "\"%s\" is an LMDB environment without a format record: not a store of "
                      "ngx_scim_module",
                      path);
            return SCIM_EFORMAT;
        }
        // Formats 1 and 2 are upgraded by nginx's read-write open only.
        if (format != kFormat) return format_error(path, format, err, errlen);
        txn.commit();
        *out = store.release();
        return SCIM_OK;
    } catch (const StoreError& e) {
        set_error(err, errlen, "store \"%s\": %s", path, e.what());
        return e.code;
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" void scim_store_close(scim_store_t* store) noexcept { delete store; }

// Whether uid (primary group gid) may access a file with the given bits.
static bool may(const struct stat& st, uint32_t uid, uint32_t gid, mode_t user_bits,
                mode_t group_bits, mode_t other_bits) {
    if (uid == 0) return true;
    if (st.st_uid == uid) return (st.st_mode & user_bits) == user_bits;
    bool in_group = st.st_gid == gid;
    if (!in_group) {
        struct passwd pw, *res = nullptr;
        std::vector<char> buf(16384);
        if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res) {
            int n = 64;
            std::vector<gid_t> groups(static_cast<size_t>(n));
            if (getgrouplist(pw.pw_name, gid, groups.data(), &n) < 0) {
                groups.resize(static_cast<size_t>(n));
                getgrouplist(pw.pw_name, gid, groups.data(), &n);
            }
            for (int i = 0; i < n; i++)
                if (groups[static_cast<size_t>(i)] == st.st_gid) in_group = true;
        }
    }
    if (in_group) return (st.st_mode & group_bits) == group_bits;
    return (st.st_mode & other_bits) == other_bits;
}

extern "C" int scim_store_check_access(const char* path, uint32_t uid, uint32_t gid, char* err,
                                       size_t errlen) noexcept {
    try {
        int rc = check_directory(path, err, errlen);
        if (rc != SCIM_OK) return rc;
        struct stat st;
        // Every directory above the store must be searchable, or the
        // workers cannot reach it whatever the store's own permissions.
        char* real = realpath(path, nullptr);
        if (real) {
            std::string dir(real);
            free(real);
            for (size_t slash = dir.rfind('/'); slash != std::string::npos && slash > 0;
                 slash = dir.rfind('/')) {
                dir.resize(slash);
                if (stat(dir.c_str(), &st) == 0 && !may(st, uid, gid, S_IXUSR, S_IXGRP, S_IXOTH)) {
                    set_error(err, errlen,
                              "\"%s\" cannot be searched by uid %u, so \"%s\" cannot be reached",
                              dir.c_str(), uid, path);
                    return SCIM_EACCESS;
                }
            }
        }
        stat(path, &st);
        if (!may(st, uid, gid, S_IWUSR | S_IXUSR, S_IWGRP | S_IXGRP, S_IWOTH | S_IXOTH)) {
            set_error(err, errlen, "\"%s\" is not writable by uid %u", path, uid);
            return SCIM_EACCESS;
        }
        for (const char* name : {"data.mdb", "lock.mdb"}) {
            std::string file = std::string(path) + "/" + name;
            if (stat(file.c_str(), &st) != 0) continue;
            if (!may(st, uid, gid, S_IRUSR | S_IWUSR, S_IRGRP | S_IWGRP, S_IROTH | S_IWOTH)) {
                set_error(err, errlen, "\"%s\" is not writable by uid %u", file.c_str(), uid);
                return SCIM_EACCESS;
            }
        }
        return SCIM_OK;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" int scim_store_chown(const char* path, uint32_t uid, uint32_t gid, char* err,
                                size_t errlen) noexcept {
    try {
        for (const char* name : {"data.mdb", "lock.mdb"}) {
            std::string file = std::string(path) + "/" + name;
            if (chown(file.c_str(), uid, gid) != 0 && errno != ENOENT) {
                int e = errno;
                set_error(err, errlen, "chown(\"%s\") failed: %s", file.c_str(), strerror(e));
                return e;
            }
        }
        return SCIM_OK;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" int scim_store_stat(scim_store_t* store, const char* directory,
                               scim_store_stat_t* stat) noexcept {
    try {
        Txn txn = Txn::read(*store);
        std::string_view v;
        stat->users = read_count(txn, *store, directory, "User");
        stat->groups = read_count(txn, *store, directory, "Group");
        // The counters are written with a directory's first record and
        // kept when they go back to zero.
        stat->known = txn.get(store->meta, count_key(directory, "User"), &v) ||
                      txn.get(store->meta, count_key(directory, "Group"), &v);
        return SCIM_OK;
    } catch (const StoreError& e) {
        return e.code;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

namespace scim {

static uint64_t read_generation(Txn& txn, Store& store) {
    std::string_view v;
    uint64_t g = 0;
    if (txn.get(store.meta, "generation", &v) && v.size() == sizeof(g)) std::memcpy(&g, v.data(), sizeof(g));
    return g;
}

void bump_generation(Txn& txn, Store& store) {
    uint64_t g = read_generation(txn, store) + 1;
    txn.put(store.meta, "generation", std::string_view(reinterpret_cast<const char*>(&g), sizeof(g)));
}

}  // namespace scim

extern "C" int scim_store_generation(scim_store_t* store, uint64_t* generation) noexcept {
    try {
        // LMDB's last committed transaction: when no process has written
        // since the last call, the counter cannot have moved.
        MDB_envinfo info;
        int rc = mdb_env_info(store->env, &info);
        if (rc != 0) return rc;
        if (info.me_last_txnid != store->generation_txnid) {
            Txn txn = Txn::read(*store);
            store->generation = read_generation(txn, *store);
            store->generation_txnid = info.me_last_txnid;
        }
        *generation = store->generation;
        return SCIM_OK;
    } catch (const StoreError& e) {
        return e.code;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}

extern "C" int scim_store_directories(scim_store_t* store, char* buf, size_t len) noexcept {
    try {
        if (len == 0) return SCIM_EINVAL;
        Txn txn = Txn::read(*store);
        // count_key(): "count" NUL dir NUL type NUL
        const std::string prefix = std::string("count") + '\0';
        std::string names, last;
        PrefixCursor c(txn, store->meta, prefix);
        while (c.next()) {
            std::string_view rest = c.key().substr(prefix.size());
            std::string_view name = rest.substr(0, rest.find('\0'));
            if (name == last) continue;
            last = std::string(name);
            if (!names.empty()) names.append(", ");
            names.append(name);
        }
        if (names.size() >= len) {
            // cut, and say so when there is room for it
            names.resize(len - 1);
            if (len > 4) names.replace(len - 4, 3, "...");
        }
        std::memcpy(buf, names.data(), names.size());
        buf[names.size()] = '\0';
        return SCIM_OK;
    } catch (const StoreError& e) {
        return e.code;
    } catch (...) {
        return SCIM_EINTERNAL;
    }
}
