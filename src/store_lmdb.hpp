// The LMDB store: environment, named databases, transactions and key layout.
//
// Databases (all keys start with the directory name and a NUL byte, so one
// environment holds any number of directories):
//   meta       "format" -> "3"
//              "count" \0 dir \0 type -> number of resources (decimal), so a
//              list's totalResults costs a lookup, not a walk
//   resources  dir \0 type \0 id              -> the record (record.hpp)
//   unique     dir \0 type \0 attr \0 value   -> id   (uniqueness + lookup)
//   index      dir \0 type \0 attr \0 value   -> ids  (DUPSORT; lookups of
//                                                   multi-valued attributes)
//   members    dir \0 "G" \0 group \0 member  -> member type ("User"/"Group")
//              dir \0 "M" \0 member \0 group  -> ""   (the reverse direction)
// Membership lives outside the group's record so that adding or removing
// a member costs the change, never the group's size.
//   sessions, replay, expiry: SAML sessions, assertion replay records and
//              their expiry index (layout in saml_session.cpp)
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

struct scim_store_s {
    MDB_env* env = nullptr;
    MDB_dbi meta = 0;
    MDB_dbi resources = 0;
    MDB_dbi unique = 0;
    MDB_dbi index = 0;
    MDB_dbi members = 0;
    MDB_dbi sessions = 0;
    MDB_dbi replay = 0;
    MDB_dbi expiry = 0;
    // A reset read-only transaction kept for mdb_txn_renew(): a renew costs a
    // fraction of a fresh mdb_txn_begin() on the read path.
    MDB_txn* idle_reader = nullptr;
    // scim_store_generation()'s last answer, and the transaction it read.
    size_t generation_txnid = 0;
    uint64_t generation = 0;
    ~scim_store_s();
};

namespace scim {

using Store = scim_store_s;

// An LMDB failure inside a core operation; the API border turns it into a
// 500 (507 when the map is full) and the caller's error log line.
struct StoreError : std::runtime_error {
    int code;
    explicit StoreError(int c);
};

inline MDB_val to_val(std::string_view s) {
    return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view from_val(const MDB_val& v) {
    return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

class Txn {
public:
    static Txn read(Store& store);
    static Txn write(Store& store);
    Txn(Txn&& other) noexcept;
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    ~Txn();

    // Found: true and *val (valid until the transaction ends); absent: false.
    bool get(MDB_dbi dbi, std::string_view key, std::string_view* val);
    // Returns false (and writes nothing) when flags has MDB_NOOVERWRITE and the key exists.
    bool put(MDB_dbi dbi, std::string_view key, std::string_view val, unsigned flags = 0);
    // Returns false when the key was absent.
    bool del(MDB_dbi dbi, std::string_view key);
    // Deletes the key only while it holds `expected` (a uniqueness claim
    // is released only by its owner).
    bool del_if(MDB_dbi dbi, std::string_view key, std::string_view expected);
    // DUPSORT databases: add one value under a key (false if it was there),
    // remove one value (false if it was not).
    bool put_dup(MDB_dbi dbi, std::string_view key, std::string_view val);
    bool del_dup(MDB_dbi dbi, std::string_view key, std::string_view val);
    void commit();
    uint64_t id() const;
    MDB_txn* handle() const { return txn_; }

private:
    Txn(Store& store, MDB_txn* txn, bool readonly) : store_(&store), txn_(txn), readonly_(readonly) {}
    Store* store_;
    MDB_txn* txn_;
    bool readonly_;
};

// Moves the directory generation (see scim_store_generation()); called by
// every write of users or groups before it commits.
void bump_generation(Txn& txn, Store& store);

// Iterates keys that start with a prefix, in key order.
class PrefixCursor {
public:
    PrefixCursor(Txn& txn, MDB_dbi dbi, std::string prefix);
    ~PrefixCursor();
    PrefixCursor(const PrefixCursor&) = delete;
    PrefixCursor& operator=(const PrefixCursor&) = delete;
    // Advances to the next entry; false at the end of the prefix range.
    bool next();
    std::string_view key() const { return from_val(key_); }
    std::string_view value() const { return from_val(val_); }

private:
    MDB_cursor* cursor_ = nullptr;
    std::string prefix_;
    MDB_val key_{0, nullptr}, val_{0, nullptr};
    bool started_ = false;
};

std::string resource_prefix(std::string_view dir, std::string_view type);
std::string resource_key(std::string_view dir, std::string_view type, std::string_view id);
// Values longer than LMDB's key limit allows are replaced by their SHA-256,
// so any value can be indexed; the lookup side applies the same rule.
std::string unique_key(std::string_view dir, std::string_view type, std::string_view attr,
                       std::string_view value);
// The resource counter of a directory and type in the meta database.
std::string count_key(std::string_view dir, std::string_view type);
uint64_t read_count(Txn& txn, const Store& store, std::string_view dir, std::string_view type);
void add_to_count(Txn& txn, const Store& store, std::string_view dir, std::string_view type,
                  int64_t delta);

// Keys of the members database.
std::string members_prefix(std::string_view dir, std::string_view group);
std::string member_key(std::string_view dir, std::string_view group, std::string_view member);
std::string member_of_prefix(std::string_view dir, std::string_view member);
std::string member_of_key(std::string_view dir, std::string_view member, std::string_view group);

}  // namespace scim
