#pragma once
// A prepared SQLite statement: bind parameters, step through rows, read columns.

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/c_ptr.h"
#include "common/base/error.h"

namespace sluice::db {

using StmtPtr = CPtr<sqlite3_stmt, sqlite3_finalize>;

// Owns one sqlite3_stmt. Usually obtained from Database::Cached(), which keeps ownership.
// Thread-confined to the thread that owns its Database. Parameter indexes are 1-based (as in
// SQL's ?1), column indexes 0-based (as in sqlite3_column_*).
class Statement {
 public:
  explicit Statement(StmtPtr stmt) : stmt_(std::move(stmt)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds parameter `index`. Text and blobs are copied, so the argument need not outlive the
  // call. Errors: kDatabase for an index out of range or a statement being stepped.
  [[nodiscard]] Status Bind(int index, int64_t value);
  [[nodiscard]] Status Bind(int index, int value) { return Bind(index, int64_t{value}); }
  [[nodiscard]] Status Bind(int index, double value);
  [[nodiscard]] Status Bind(int index, std::string_view value);
  [[nodiscard]] Status Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  [[nodiscard]] Status Bind(int index, const char* value) {
    return Bind(index, std::string_view(value));
  }
  // An empty view binds a zero-length blob, never NULL.
  [[nodiscard]] Status Bind(int index, ByteView value);
  [[nodiscard]] Status Bind(int index, const Bytes& value) { return Bind(index, ByteView(value)); }
  [[nodiscard]] Status Bind(int index, std::nullptr_t);
  // std::nullopt binds NULL.
  template <class T>
  [[nodiscard]] Status Bind(int index, const std::optional<T>& value) {
    return value.has_value() ? Bind(index, *value) : Bind(index, nullptr);
  }

  // Binds args to parameters 1..N in order; stops at the first failure.
  template <class... A>
  [[nodiscard]] Status BindAll(const A&... args) {
    Status status;
    int index = 0;
    (void)((status = Bind(++index, args), status.has_value()) && ...);
    return status;
  }

  // Advances: true when a row is available, false when the statement is done. When done or on
  // error the statement is reset (bindings kept), so it holds no read snapshot afterwards.
  // Errors carry SQLite's message and the start of the SQL; constraint violations on a
  // PRIMARY KEY or UNIQUE column are kAlreadyExists, other failures kDatabase.
  [[nodiscard]] Result<bool> Step();

  // Column getters for the current row (only valid after Step() returned true). NULL reads
  // as 0 / 0.0 / "" / {}; use IsNull() to tell it apart.
  int64_t Int64(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  Bytes Blob(int column) const;
  bool IsNull(int column) const;
  int ColumnCount() const;

  // Rewinds to before the first row, keeping bindings.
  void Reset();
  // Sets every parameter back to NULL.
  void ClearBindings();
  // The SQL text this statement was prepared from.
  std::string_view Sql() const;

 private:
  [[nodiscard]] Status BindResult(int rc, int index);

  StmtPtr stmt_;
};

}  // namespace sluice::db
