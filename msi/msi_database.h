#pragma once
// A thin owner of a libmsi database: SQL over MSI tables, the summary information stream and
// commit. Every libmsi GError becomes an Error carrying libmsi's message.
//
// libmsi documents no thread-safety; callers serialize all use (see LibmsiLock()).

#include <libmsi.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/base/c_ptr.h"
#include "common/base/error.h"

namespace sluice::msi {

// One column value: null, a string column or an integer column.
using MsiField = std::variant<std::monostate, std::string, int>;
using MsiRow = std::vector<MsiField>;

// The process-wide lock that every user of libmsi holds while a database is open.
std::mutex& LibmsiLock();

class MsiDatabase {
 public:
  enum class Mode { kReadOnly, kTransact };

  // Opens `path`. kTransact writes changes only on Commit(); libmsi stages them in
  // "<path>.tmp" and renames it over `path`. Errors: kIo when the file is missing or is not an
  // MSI database.
  [[nodiscard]] static Result<MsiDatabase> Open(const std::string& path, Mode mode);

  MsiDatabase(MsiDatabase&&) noexcept;
  MsiDatabase& operator=(MsiDatabase&&) noexcept;
  ~MsiDatabase();  // an uncommitted kTransact database discards its changes

  // Runs a SELECT and returns every row in order. Errors: kDatabase with libmsi's message.
  [[nodiscard]] Result<std::vector<MsiRow>> Select(const std::string& sql);

  // Runs INSERT / UPDATE / DELETE with `?` markers bound to `params` in order (a monostate
  // binds NULL). Beware: libmsi's DELETE removes only part of a multi-row match; delete rows
  // one at a time by their full primary key. Errors: kDatabase with libmsi's message.
  [[nodiscard]] Status Execute(const std::string& sql, const MsiRow& params = {});

  // Summary information (PID_* properties); an absent string reads as "".
  [[nodiscard]] Result<std::string> GetSummaryString(LibmsiProperty property);
  // Sets a summary string; written by Commit(). kDatabase on failure.
  [[nodiscard]] Status SetSummaryString(LibmsiProperty property, const std::string& value);

  // Persists summary information and every change. kDatabase/kIo on failure.
  [[nodiscard]] Status Commit();

 private:
  struct Handles;
  explicit MsiDatabase(std::unique_ptr<Handles> handles);

  [[nodiscard]] Result<LibmsiSummaryInfo*> Summary(bool for_write);

  std::unique_ptr<Handles> handles_;
};

}  // namespace sluice::msi
