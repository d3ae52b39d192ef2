#pragma once
// A copy of a live database, made a few pages at a time with SQLite's online backup API.
//
// Writes made through the source connection between steps are carried into the copy as they
// happen; writes through any other connection restart the copy's pass. The copy is therefore of
// one moment: the moment its last step ran. Between steps the source connection is free for
// other work, so a large copy never holds it for long. A step must not run while the source
// connection has a write transaction open (SQLite refuses it: kDatabase, "locked").
// Not thread-safe: use it on the source connection's thread.

#include <cstdint>
#include <memory>
#include <string>

#include "common/base/error.h"
#include "common/db/database.h"

struct sqlite3_backup;

namespace sluice::db {

class OnlineBackup {
 public:
  // Creates `path` (which must not exist: kAlreadyExists) and starts the copy of `source`.
  // Errors: kDatabase or kIo naming the file; nothing is left at `path`.
  [[nodiscard]] static Result<std::unique_ptr<OnlineBackup>> Start(Database& source,
                                                                   const std::string& path);
  // An unfinished copy is abandoned and its file removed.
  ~OnlineBackup();
  OnlineBackup(const OnlineBackup&) = delete;
  OnlineBackup& operator=(const OnlineBackup&) = delete;

  // Copies up to `pages` more pages. True once the copy is complete and closed (synced); the
  // object is then finished. Errors leave nothing at `path`.
  [[nodiscard]] Result<bool> Step(int pages);
  // Pages copied and the source's page count, as of the last step (for progress).
  uint64_t pages_done() const;
  uint64_t page_count() const;
  const std::string& path() const { return path_; }

 private:
  OnlineBackup(SqlitePtr dest, sqlite3_backup* backup, std::string path);
  void Abandon();

  SqlitePtr dest_;
  sqlite3_backup* backup_;
  std::string path_;
  bool finished_ = false;
  uint64_t last_page_count_ = 0;
};

}  // namespace sluice::db
