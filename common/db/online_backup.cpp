#include "common/db/online_backup.h"

#include <sqlite3.h>
#include <unistd.h>

#include <utility>

#include "common/db/db_error.h"

namespace sluice::db {

Result<std::unique_ptr<OnlineBackup>> OnlineBackup::Start(Database& source,
                                                          const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) {
    return Fail(Errc::kAlreadyExists, "backup target " + path + " already exists");
  }
  sqlite3* raw = nullptr;
  const int opened =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  SqlitePtr dest(raw);
  if (opened != SQLITE_OK) {
    Error error = internal::SqliteError(raw, opened, "creating " + path, {});
    dest.reset();
    ::unlink(path.c_str());
    return Fail(std::move(error));
  }
  sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", source.handle(), "main");
  if (backup == nullptr) {
    Error error = internal::SqliteError(dest.get(), sqlite3_errcode(dest.get()),
                                        "starting the backup to " + path, {});
    dest.reset();
    ::unlink(path.c_str());
    return Fail(std::move(error));
  }
  return std::unique_ptr<OnlineBackup>(new OnlineBackup(std::move(dest), backup, path));
}

OnlineBackup::OnlineBackup(SqlitePtr dest, sqlite3_backup* backup, std::string path)
    : dest_(std::move(dest)), backup_(backup), path_(std::move(path)) {}

OnlineBackup::~OnlineBackup() {
  if (!finished_) Abandon();
}

void OnlineBackup::Abandon() {
  if (backup_ != nullptr) sqlite3_backup_finish(backup_);
  backup_ = nullptr;
  dest_.reset();
  ::unlink(path_.c_str());
  finished_ = true;
}

Result<bool> OnlineBackup::Step(int pages) {
  if (finished_) return Fail(Errc::kInternal, "the backup to " + path_ + " is already finished");
  const int step = sqlite3_backup_step(backup_, pages);
  last_page_count_ = static_cast<uint64_t>(sqlite3_backup_pagecount(backup_));
  if (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED) {
    // BUSY/LOCKED: another connection holds a lock for now; the next step tries again.
    return false;
  }
  const int finished = sqlite3_backup_finish(backup_);
  backup_ = nullptr;
  if (step != SQLITE_DONE || finished != SQLITE_OK) {
    Error error = internal::SqliteError(dest_.get(), step != SQLITE_DONE ? step : finished,
                                        "backing up the database to " + path_, {});
    Abandon();
    return Fail(std::move(error));
  }
  // Closing the copy completes it; SQLite synced it at the end of the backup.
  if (sqlite3_close_v2(dest_.release()) != SQLITE_OK) {
    Abandon();
    return Fail(Errc::kIo, "closing the backup " + path_);
  }
  finished_ = true;
  return true;
}

uint64_t OnlineBackup::pages_done() const {
  if (backup_ == nullptr) return page_count();
  const int total = sqlite3_backup_pagecount(backup_);
  const int left = sqlite3_backup_remaining(backup_);
  return total > left ? static_cast<uint64_t>(total - left) : 0;
}

uint64_t OnlineBackup::page_count() const {
  if (backup_ == nullptr) return last_page_count_;
  return static_cast<uint64_t>(sqlite3_backup_pagecount(backup_));
}

}  // namespace sluice::db
