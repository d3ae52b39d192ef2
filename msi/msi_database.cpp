#include "msi/msi_database.h"

#include <array>

namespace sluice::msi {
namespace {

using GErrorPtr = CPtr<GError, g_error_free>;
using QueryPtr = CPtr<LibmsiQuery, g_object_unref>;
using RecordPtr = CPtr<LibmsiRecord, g_object_unref>;

std::string ResultName(int code) {
  static constexpr std::array<const char*, 19> kNames = {
      "SUCCESS",           "ACCESS_DENIED",    "INVALID_HANDLE",
      "NOT_ENOUGH_MEMORY", "INVALID_DATA",     "OUTOFMEMORY",
      "INVALID_PARAMETER", "OPEN_FAILED",      "CALL_NOT_IMPLEMENTED",
      "MORE_DATA",         "NOT_FOUND",        "CONTINUE",
      "UNKNOWN_PROPERTY",  "BAD_QUERY_SYNTAX", "INVALID_FIELD",
      "FUNCTION_FAILED",   "INVALID_TABLE",    "DATATYPE_MISMATCH",
      "INVALID_DATATYPE"};
  if (code >= 0 && static_cast<size_t>(code) < kNames.size()) return kNames[code];
  return "code " + std::to_string(code);
}

// Takes ownership of `raw` (may be null: libmsi sometimes fails without setting it, in which
// case `fallback` says what the failure most likely means).
Error FromGError(GError* raw, Errc code, const std::string& what,
                 const char* fallback = "libmsi reported failure without details") {
  GErrorPtr error(raw);
  std::string message = what + ": ";
  if (!error) {
    message += fallback;
  } else {
    message += error->message != nullptr ? error->message : "(no message)";
    if (error->domain == LIBMSI_RESULT_ERROR) message += " (" + ResultName(error->code) + ")";
  }
  return Error(code, std::move(message));
}

std::string TakeString(gchar* raw) {
  std::string value = raw != nullptr ? raw : "";
  g_free(raw);
  return value;
}

}  // namespace

std::mutex& LibmsiLock() {
  static std::mutex mutex;
  return mutex;
}

struct MsiDatabase::Handles {
  // Declared first so it is released last: the summary object refers to the database.
  CPtr<LibmsiDatabase, g_object_unref> db;
  CPtr<LibmsiSummaryInfo, g_object_unref> summary;
  bool summary_writable = false;
};

MsiDatabase::MsiDatabase(std::unique_ptr<Handles> handles) : handles_(std::move(handles)) {}
MsiDatabase::MsiDatabase(MsiDatabase&&) noexcept = default;
MsiDatabase& MsiDatabase::operator=(MsiDatabase&&) noexcept = default;
MsiDatabase::~MsiDatabase() = default;

Result<MsiDatabase> MsiDatabase::Open(const std::string& path, Mode mode) {
  GError* error = nullptr;
  guint flags = mode == Mode::kReadOnly ? LIBMSI_DB_FLAGS_READONLY : LIBMSI_DB_FLAGS_TRANSACT;
  LibmsiDatabase* db = libmsi_database_new(path.c_str(), flags, nullptr, &error);
  if (db == nullptr) {
    return Fail(FromGError(error, Errc::kIo, "opening MSI " + path,
                           "missing, unreadable or not an MSI database"));
  }
  g_clear_error(&error);
  auto handles = std::make_unique<Handles>();
  handles->db.reset(db);
  return MsiDatabase(std::move(handles));
}

Result<std::vector<MsiRow>> MsiDatabase::Select(const std::string& sql) {
  GError* error = nullptr;
  QueryPtr query(libmsi_query_new(handles_->db.get(), sql.c_str(), &error));
  if (!query) return Fail(FromGError(error, Errc::kDatabase, "preparing '" + sql + "'"));
  if (!libmsi_query_execute(query.get(), nullptr, &error)) {
    return Fail(FromGError(error, Errc::kDatabase, "executing '" + sql + "'"));
  }
  RecordPtr types(libmsi_query_get_column_info(query.get(), LIBMSI_COL_INFO_TYPES, &error));
  if (!types) return Fail(FromGError(error, Errc::kDatabase, "column types of '" + sql + "'"));
  guint columns = libmsi_record_get_field_count(types.get());
  std::vector<bool> is_int(columns + 1, false);
  for (guint i = 1; i <= columns; ++i) {
    std::string type = TakeString(libmsi_record_get_string(types.get(), i));
    is_int[i] = !type.empty() && (type[0] == 'i' || type[0] == 'I');
  }

  std::vector<MsiRow> rows;
  while (true) {
    RecordPtr record(libmsi_query_fetch(query.get(), &error));
    if (!record) break;
    MsiRow row;
    row.reserve(columns);
    for (guint i = 1; i <= columns; ++i) {
      if (libmsi_record_is_null(record.get(), i)) {
        row.emplace_back(std::monostate{});
      } else if (is_int[i]) {
        row.emplace_back(libmsi_record_get_int(record.get(), i));
      } else {
        row.emplace_back(TakeString(libmsi_record_get_string(record.get(), i)));
      }
    }
    rows.push_back(std::move(row));
  }
  // libmsi ends iteration with a null record; an error set alongside it is a real failure.
  if (error != nullptr) return Fail(FromGError(error, Errc::kDatabase, "fetching '" + sql + "'"));
  if (!libmsi_query_close(query.get(), &error)) {
    return Fail(FromGError(error, Errc::kDatabase, "closing '" + sql + "'"));
  }
  return rows;
}

Status MsiDatabase::Execute(const std::string& sql, const MsiRow& params) {
  GError* error = nullptr;
  QueryPtr query(libmsi_query_new(handles_->db.get(), sql.c_str(), &error));
  if (!query) return Fail(FromGError(error, Errc::kDatabase, "preparing '" + sql + "'"));
  RecordPtr record;
  if (!params.empty()) {
    record.reset(libmsi_record_new(static_cast<guint>(params.size())));
    for (size_t i = 0; i < params.size(); ++i) {
      guint field = static_cast<guint>(i + 1);
      if (const auto* text = std::get_if<std::string>(&params[i])) {
        libmsi_record_set_string(record.get(), field, text->c_str());
      } else if (const auto* number = std::get_if<int>(&params[i])) {
        libmsi_record_set_int(record.get(), field, *number);
      }  // monostate: the field stays NULL
    }
  }
  if (!libmsi_query_execute(query.get(), record.get(), &error)) {
    return Fail(FromGError(error, Errc::kDatabase, "executing '" + sql + "'"));
  }
  if (!libmsi_query_close(query.get(), &error)) {
    return Fail(FromGError(error, Errc::kDatabase, "closing '" + sql + "'"));
  }
  return {};
}

Result<LibmsiSummaryInfo*> MsiDatabase::Summary(bool for_write) {
  if (handles_->summary && (handles_->summary_writable || !for_write)) {
    return handles_->summary.get();
  }
  GError* error = nullptr;
  // The update count bounds how many properties may change; 20 covers every PID.
  LibmsiSummaryInfo* summary =
      libmsi_summary_info_new(handles_->db.get(), for_write ? 20 : 0, &error);
  if (summary == nullptr) {
    return Fail(FromGError(error, Errc::kDatabase, "reading summary information"));
  }
  handles_->summary.reset(summary);
  handles_->summary_writable = for_write;
  return summary;
}

Result<std::string> MsiDatabase::GetSummaryString(LibmsiProperty property) {
  auto summary = Summary(false);
  if (!summary) return Fail(summary.error());
  GError* error = nullptr;
  LibmsiPropertyType type = libmsi_summary_info_get_property_type(*summary, property, &error);
  if (error != nullptr) {
    return Fail(FromGError(error, Errc::kDatabase, "summary property type"));
  }
  if (type == LIBMSI_PROPERTY_TYPE_EMPTY) return std::string();
  const gchar* value = libmsi_summary_info_get_string(*summary, property, &error);
  if (value == nullptr) {
    return Fail(FromGError(error, Errc::kDatabase, "reading a summary string"));
  }
  return std::string(value);  // owned by the summary object
}

Status MsiDatabase::SetSummaryString(LibmsiProperty property, const std::string& value) {
  auto summary = Summary(true);
  if (!summary) return Fail(summary.error());
  GError* error = nullptr;
  if (!libmsi_summary_info_set_string(*summary, property, value.c_str(), &error)) {
    return Fail(FromGError(error, Errc::kDatabase, "setting a summary string"));
  }
  return {};
}

Status MsiDatabase::Commit() {
  GError* error = nullptr;
  if (handles_->summary && handles_->summary_writable &&
      !libmsi_summary_info_persist(handles_->summary.get(), &error)) {
    return Fail(FromGError(error, Errc::kDatabase, "writing summary information"));
  }
  if (!libmsi_database_commit(handles_->db.get(), &error)) {
    return Fail(FromGError(error, Errc::kIo, "committing the MSI database"));
  }
  return {};
}

}  // namespace sluice::msi
