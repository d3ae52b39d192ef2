#pragma once
// Internal to common/db: turns a failed SQLite call into an Error. Not for use outside it.

#include <sqlite3.h>

#include <string_view>

#include "common/base/error.h"

namespace sluice::db::internal {

// Builds "<what>: <sqlite message> (sql: <first 80 chars of sql>)". The code is
// kAlreadyExists for PRIMARY KEY / UNIQUE violations and kDatabase for everything else.
// `db` may be null (the message then comes from sqlite3_errstr(rc)); `sql` may be empty.
Error SqliteError(sqlite3* db, int rc, std::string_view what, std::string_view sql);

}  // namespace sluice::db::internal
