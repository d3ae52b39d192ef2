#include "common/db/statement.h"

#include <string>

#include "common/db/db_error.h"

namespace sluice::db {

Status Statement::BindResult(int rc, int index) {
  if (rc == SQLITE_OK) return {};
  return Fail(internal::SqliteError(sqlite3_db_handle(stmt_.get()), rc,
                                    "binding parameter " + std::to_string(index), Sql()));
}

Status Statement::Bind(int index, int64_t value) {
  return BindResult(sqlite3_bind_int64(stmt_.get(), index, value), index);
}

Status Statement::Bind(int index, double value) {
  return BindResult(sqlite3_bind_double(stmt_.get(), index, value), index);
}

Status Statement::Bind(int index, std::string_view value) {
  // A null data pointer would bind NULL; an empty view must still bind ''.
  const char* data = value.data() != nullptr ? value.data() : "";
  return BindResult(
      sqlite3_bind_text64(stmt_.get(), index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
}

Status Statement::Bind(int index, ByteView value) {
  if (value.empty()) return BindResult(sqlite3_bind_zeroblob(stmt_.get(), index, 0), index);
  return BindResult(
      sqlite3_bind_blob64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT), index);
}

Status Statement::Bind(int index, std::nullptr_t) {
  return BindResult(sqlite3_bind_null(stmt_.get(), index), index);
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    sqlite3_reset(stmt_.get());
    return false;
  }
  Error error = internal::SqliteError(sqlite3_db_handle(stmt_.get()), rc, "step", Sql());
  sqlite3_reset(stmt_.get());
  return Fail(std::move(error));
}

int64_t Statement::Int64(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_.get(), column); }

std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return {};
  int size = sqlite3_column_bytes(stmt_.get(), column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

Bytes Statement::Blob(int column) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_.get(), column));
  if (data == nullptr) return {};
  int size = sqlite3_column_bytes(stmt_.get(), column);
  return Bytes(data, data + size);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_.get()); }

void Statement::Reset() { sqlite3_reset(stmt_.get()); }

void Statement::ClearBindings() { sqlite3_clear_bindings(stmt_.get()); }

std::string_view Statement::Sql() const {
  const char* sql = sqlite3_sql(stmt_.get());
  return sql != nullptr ? std::string_view(sql) : std::string_view();
}

}  // namespace sluice::db
