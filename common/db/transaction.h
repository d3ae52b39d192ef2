#pragma once
// RAII transactions: Transaction (BEGIN/COMMIT) and Savepoint (SAVEPOINT/RELEASE). Both roll
// back on destruction unless committed, so an early `return` on error undoes the work.

#include <string>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::db {

class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate, kExclusive };

  // Starts a transaction on `db`, which must outlive the Transaction and have none open.
  // Errors: kDatabase (already in a transaction, or busy past the busy timeout).
  [[nodiscard]] static Result<Transaction> Begin(Database& db, Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // Rolls back if neither Commit() nor Rollback() succeeded.
  ~Transaction();

  // Commits. On failure the transaction stays open (if SQLite kept it) and the destructor
  // rolls it back. Errors: kDatabase; kInternal if already finished.
  [[nodiscard]] Status Commit();
  // Rolls back now. Errors: kDatabase; kInternal if already finished.
  [[nodiscard]] Status Rollback();

 private:
  explicit Transaction(Database& db) : db_(&db) {}

  Database* db_;  // null once committed, rolled back or moved from
};

// A nestable savepoint; works inside a Transaction or on its own (it then starts one).
// Savepoints must end in the reverse order they began.
class Savepoint {
 public:
  // Errors: kDatabase.
  [[nodiscard]] static Result<Savepoint> Begin(Database& db);

  Savepoint(Savepoint&& other) noexcept;
  Savepoint& operator=(Savepoint&&) = delete;
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  // Rolls back to the savepoint and releases it, unless already released or rolled back.
  ~Savepoint();

  // RELEASE: keeps the changes (they become durable when the enclosing transaction commits).
  [[nodiscard]] Status Release();
  // ROLLBACK TO + RELEASE: undoes the changes made since Begin and ends the savepoint.
  [[nodiscard]] Status Rollback();

 private:
  Savepoint(Database& db, std::string name) : db_(&db), name_(std::move(name)) {}

  Database* db_;  // null once released, rolled back or moved from
  std::string name_;
};

}  // namespace sluice::db
