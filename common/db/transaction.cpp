#include "common/db/transaction.h"

#include <cstdint>

#include "common/base/log.h"

namespace sluice::db {
namespace {

const char* BeginSql(Transaction::Mode mode) {
  switch (mode) {
    case Transaction::Mode::kDeferred:
      return "BEGIN DEFERRED";
    case Transaction::Mode::kImmediate:
      return "BEGIN IMMEDIATE";
    case Transaction::Mode::kExclusive:
      return "BEGIN EXCLUSIVE";
  }
  return "BEGIN";
}

std::unexpected<Error> Finished(std::string_view what) {
  return Fail(Errc::kInternal, std::string(what) + " already finished");
}

}  // namespace

Result<Transaction> Transaction::Begin(Database& db, Mode mode) {
  if (auto begun = db.Exec(BeginSql(mode)); !begun) return Fail(begun.error());
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }

Transaction::~Transaction() {
  // SQLite rolls the whole transaction back by itself after some errors (I/O, full disk);
  // there is then nothing left to roll back.
  if (db_ == nullptr || !db_->InTransaction()) return;
  if (auto rolled_back = db_->Exec("ROLLBACK"); !rolled_back) {
    Log("db")->warn("rollback failed path={} error=\"{}\"", db_->path(),
                    rolled_back.error().message());
  }
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Finished("transaction");
  if (auto committed = db_->Exec("COMMIT"); !committed) return committed;
  db_ = nullptr;
  return {};
}

Status Transaction::Rollback() {
  if (db_ == nullptr) return Finished("transaction");
  Database* db = db_;
  db_ = nullptr;
  if (!db->InTransaction()) return {};
  return db->Exec("ROLLBACK");
}

Result<Savepoint> Savepoint::Begin(Database& db) {
  // Names only need to be unique among the savepoints open on one connection at a time, and a
  // connection is confined to one thread.
  thread_local uint64_t next_id = 0;
  std::string name = "sluice_sp_" + std::to_string(++next_id);
  if (auto begun = db.Exec("SAVEPOINT " + name); !begun) return Fail(begun.error());
  return Savepoint(db, std::move(name));
}

Savepoint::Savepoint(Savepoint&& other) noexcept : db_(other.db_), name_(std::move(other.name_)) {
  other.db_ = nullptr;
}

Savepoint::~Savepoint() {
  if (db_ == nullptr) return;
  const Database* db = db_;
  if (auto rolled_back = Rollback(); !rolled_back) {
    Log("db")->warn("savepoint rollback failed path={} error=\"{}\"", db->path(),
                    rolled_back.error().message());
  }
}

Status Savepoint::Release() {
  if (db_ == nullptr) return Finished("savepoint");
  if (auto released = db_->Exec("RELEASE " + name_); !released) return released;
  db_ = nullptr;
  return {};
}

Status Savepoint::Rollback() {
  if (db_ == nullptr) return Finished("savepoint");
  Database* db = db_;
  db_ = nullptr;
  // After SQLite rolled back the whole transaction by itself the savepoint no longer exists.
  if (!db->InTransaction()) return {};
  if (auto rolled_back = db->Exec("ROLLBACK TO " + name_); !rolled_back) return rolled_back;
  return db->Exec("RELEASE " + name_);
}

}  // namespace sluice::db
