#include "common/db/db_error.h"

#include <string>

namespace sluice::db::internal {
namespace {

constexpr size_t kSqlExcerptChars = 80;

Errc CodeFor(int extended_rc) {
  switch (extended_rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return Errc::kAlreadyExists;
    default:
      return Errc::kDatabase;
  }
}

}  // namespace

Error SqliteError(sqlite3* db, int rc, std::string_view what, std::string_view sql) {
  int extended_rc = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  // sqlite3_errmsg describes the connection's most recent failure; fall back to the generic
  // text when the failing call left no message of its own (or there is no connection).
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if ((extended_rc & 0xff) != (rc & 0xff)) {
    extended_rc = rc;
    detail = sqlite3_errstr(rc);
  }
  std::string message(what);
  message += ": ";
  message += detail != nullptr ? detail : "unknown SQLite error";
  if (!sql.empty()) {
    message += " (sql: ";
    message += sql.substr(0, kSqlExcerptChars);
    if (sql.size() > kSqlExcerptChars) message += "...";
    message += ")";
  }
  return Error(CodeFor(extended_rc), std::move(message));
}

}  // namespace sluice::db::internal
