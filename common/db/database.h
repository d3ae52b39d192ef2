#pragma once
// One SQLite connection with a per-connection cache of prepared statements.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/base/c_ptr.h"
#include "common/base/error.h"
#include "common/db/statement.h"

namespace sluice::db {

using SqlitePtr = CPtr<sqlite3, sqlite3_close_v2>;

struct OpenOptions {
  bool wal = true;             // journal_mode=WAL with synchronous=NORMAL
  int busy_timeout_ms = 5000;  // how long a statement waits for another connection's lock
  bool create = true;          // create the file if it does not exist
  // Open for reading only (no journal mode change; writes fail). Another connection made the
  // file and its WAL.
  bool read_only = false;
};

// A connection. Thread-confined: every call, and destruction, on the thread that uses it.
// Errors from SQLite carry sqlite3_errmsg and the first 80 characters of the SQL; the code is
// kAlreadyExists for PRIMARY KEY / UNIQUE violations, kDatabase otherwise.
class Database {
 public:
  // Opens (or, with options.create, creates) the database at `path` (":memory:" works) and
  // applies foreign_keys=ON, the busy timeout and, with options.wal, WAL + synchronous=NORMAL.
  // Errors: kDatabase if the file cannot be opened or WAL cannot be enabled.
  [[nodiscard]] static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                              const OpenOptions& options = {});

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more ';'-separated statements without parameters, discarding any rows.
  [[nodiscard]] Status Exec(std::string_view sql);

  // Returns the prepared statement for `sql` (exactly one statement), preparing it on first
  // use. The statement comes back reset with every parameter NULL. The Database keeps
  // ownership; the pointer stays valid until the Database is destroyed, but the next Cached()
  // call with the same SQL resets it again, so do not nest uses of one SQL text.
  // Errors: kDatabase for SQL that does not compile, kInvalidArgument for empty SQL or more
  // than one statement.
  [[nodiscard]] Result<Statement*> Cached(std::string_view sql);

  // Binds args to ?1..?N of the cached `sql` and steps it to completion (rows are ignored).
  template <class... A>
  [[nodiscard]] Status Run(std::string_view sql, const A&... args) {
    auto stmt = Cached(sql);
    if (!stmt) return Fail(stmt.error());
    if (auto bound = (*stmt)->BindAll(args...); !bound) return bound;
    while (true) {
      auto row = (*stmt)->Step();
      if (!row) return Fail(row.error());
      if (!*row) return {};
    }
  }

  // Binds args to the cached `sql` and calls on_row(const Statement&) for each row. on_row
  // returns void, or Status to stop early with that error. The statement is reset afterwards
  // either way. on_row must not run the same SQL text again.
  template <class F, class... A>
  [[nodiscard]] Status Query(std::string_view sql, F&& on_row, const A&... args) {
    auto stmt = Cached(sql);
    if (!stmt) return Fail(stmt.error());
    Statement& s = **stmt;
    if (auto bound = s.BindAll(args...); !bound) return bound;
    while (true) {
      auto row = s.Step();
      if (!row) return Fail(row.error());
      if (!*row) return {};
      if constexpr (std::is_void_v<std::invoke_result_t<F&, const Statement&>>) {
        on_row(static_cast<const Statement&>(s));
      } else {
        if (Status status = on_row(static_cast<const Statement&>(s)); !status) {
          s.Reset();
          return status;
        }
      }
    }
  }

  // Rowid of the most recent successful INSERT on this connection.
  int64_t LastInsertRowId() const;
  // Rows changed by the most recent INSERT / UPDATE / DELETE on this connection.
  int Changes() const;
  // True while a transaction (BEGIN or SAVEPOINT) is open on this connection.
  bool InTransaction() const;
  const std::string& path() const { return path_; }

  // The raw handle, for SQLite features this wrapper does not cover (sessions).
  sqlite3* handle() const { return db_.get(); }

 private:
  Database(SqlitePtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  [[nodiscard]] Status ApplyOptions(const OpenOptions& options);

  SqlitePtr db_;  // declared first so that the cached statements are finalized before close
  std::string path_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache_;
};

}  // namespace sluice::db
