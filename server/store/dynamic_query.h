#pragma once
// Queries whose WHERE clause is built from the filters a caller set (the fleet and audit pages):
// the SQL text and its parameters are collected together, so each ?N always matches its value.
// Each distinct text is prepared once and cached by the connection; filters have few shapes.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

class DynamicQuery {
 public:
  using Value = std::variant<std::string, int64_t>;

  // "?N" for a new parameter holding `value`.
  std::string Param(Value value) {
    values_.push_back(std::move(value));
    return "?" + std::to_string(values_.size());
  }
  // Adds `term` to the WHERE clause (terms are joined by AND).
  void Where(std::string term) { terms_.push_back(std::move(term)); }
  // " WHERE a AND b", or "" without terms.
  std::string WhereClause() const {
    std::string where;
    for (const auto& term : terms_) where += (where.empty() ? " WHERE " : " AND ") + term;
    return where;
  }

  // Runs `sql` with the parameters so far, calling on_row(const db::Statement&) for each row.
  template <class F>
  [[nodiscard]] Status Run(db::Database& db, const std::string& sql, F&& on_row) const {
    auto stmt = db.Cached(sql);
    if (!stmt) return Fail(stmt.error());
    db::Statement& s = **stmt;
    for (size_t i = 0; i < values_.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      auto bound =
          std::visit([&s, index](const auto& value) { return s.Bind(index, value); }, values_[i]);
      if (!bound) return bound;
    }
    while (true) {
      auto row = s.Step();  // resets the statement when done or on error
      if (!row) return Fail(row.error());
      if (!*row) return {};
      on_row(static_cast<const db::Statement&>(s));
    }
  }

 private:
  std::vector<Value> values_;
  std::vector<std::string> terms_;
};

}  // namespace sluice::store
