#include "common/db/database.h"

#include <unistd.h>

#include <cctype>
#include <string>

#include "common/db/db_error.h"

namespace sluice::db {
namespace {

bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0 && c != ';') return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const OpenOptions& options) {
  int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqlitePtr handle(raw);  // sqlite3_open_v2 may allocate a handle even when it fails
  if (rc != SQLITE_OK) {
    return Context(internal::SqliteError(raw, rc, "open", {}), "opening database " + path);
  }
  sqlite3_extended_result_codes(raw, 1);
  std::unique_ptr<Database> db(new Database(std::move(handle), path));
  if (auto applied = db->ApplyOptions(options); !applied) {
    return Context(applied.error(), "opening database " + path);
  }
  return db;
}

Status Database::ApplyOptions(const OpenOptions& options) {
  int rc = sqlite3_busy_timeout(db_.get(), options.busy_timeout_ms);
  if (rc != SQLITE_OK) return Fail(internal::SqliteError(db_.get(), rc, "busy_timeout", {}));
  if (auto fk = Exec("PRAGMA foreign_keys = ON"); !fk) return fk;
  if (!options.wal || options.read_only) return {};

  std::string mode;
  auto read_mode =
      Query("PRAGMA journal_mode = WAL", [&mode](const Statement& row) { mode = row.Text(0); });
  if (!read_mode) return read_mode;
  // In-memory databases cannot use WAL and report "memory"; that is not an error.
  if (mode != "wal" && mode != "memory") {
    return Fail(Errc::kDatabase, "could not enable WAL (journal_mode is " + mode + ")");
  }
  return Exec("PRAGMA synchronous = NORMAL");
}

Database::~Database() = default;

Status Database::Exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* message = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  sqlite3_free(message);  // sqlite3_errmsg(db_) holds the same text
  return Fail(internal::SqliteError(db_.get(), rc, "exec", sql));
}

Result<Statement*> Database::Cached(std::string_view sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    it->second->Reset();
    it->second->ClearBindings();
    return it->second.get();
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return Fail(internal::SqliteError(db_.get(), rc, "prepare", sql));
  if (stmt == nullptr) {
    return Fail(Errc::kInvalidArgument,
                "prepare: no SQL statement in \"" + std::string(sql.substr(0, 80)) + "\"");
  }
  size_t consumed = static_cast<size_t>(tail - sql.data());
  if (!IsBlank(sql.substr(consumed))) {
    return Fail(Errc::kInvalidArgument,
                "prepare: more than one statement (sql: " + std::string(sql.substr(0, 80)) + ")");
  }
  auto owned = std::make_unique<Statement>(std::move(stmt));
  Statement* result = owned.get();
  cache_.emplace(std::string(sql), std::move(owned));
  return result;
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_.get()); }

int Database::Changes() const { return sqlite3_changes(db_.get()); }

bool Database::InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

}  // namespace sluice::db
