#pragma once
// Backups of the running site, one at a time on their own worker thread (docs/admin.md,
// "Backups"). The admin command starts one and polls its status, so a backup of any size needs
// no long-lived request and shows its progress.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/uv/loop.h"
#include "common/uv/worker_thread.h"
#include "server/backup/backup_create.h"
#include "server/store/store.h"

namespace sluice::backup {

class BackupService {
 public:
  struct Host {
    uv::Loop* loop = nullptr;
    store::Store* store = nullptr;
    Clock* clock = nullptr;
    std::string data_root{};  // absolute; backups are made in <data_root>/backups/full
    crypto::ScryptParams scrypt{};
  };

  // What a status request reports: the latest backup (running or ended) since the start.
  struct Job {
    uint64_t id = 0;  // 0: none yet
    bool running = false;
    bool scheduled = false;  // taken by the schedule, kept in out_dir()
    int64_t started_ms = 0;
    int64_t ended_ms = 0;
    uint64_t done = 0;
    uint64_t total = 0;
    std::optional<BackupMade> made{};
    std::optional<Error> error{};
  };

  explicit BackupService(Host host);
  ~BackupService();  // a running backup is cancelled; its partial file is removed

  // Starts a backup; its `backup` audit row ends with "; by=<by>" (who asked; "" for none).
  // Errors: kAlreadyExists while one runs. Loop thread.
  [[nodiscard]] Result<uint64_t> Start(std::string password, bool history,
                                       const std::string& by = {});
  Job Current() const;  // loop thread
  // The backup `id` if it is the current one or one of the last kJobsRemembered before it (so a
  // caller following its own backup is not confused by a scheduled one started after it).
  std::optional<Job> Find(uint64_t id) const;
  static constexpr size_t kJobsRemembered = 8;

  // Takes a scheduled backup if one is due (backup_schedule.h): every `every_hours` (0: off),
  // then keeps the newest `keep` in out_dir() (pruned on the worker). A schedule without a
  // stored password logs an error once and takes none. Loop thread; the server calls it every
  // minute and on changes; it reads the disk only on its first call.
  void Tick(int every_hours, int keep);

  std::string out_dir() const { return host_.data_root + "/backups/full"; }
  const std::string& data_root() const { return host_.data_root; }

 private:
  [[nodiscard]] Result<uint64_t> StartJob(std::string password, bool history,
                                          std::optional<int> keep_scheduled,
                                          const std::string& by = {});

  Host host_;
  Job job_;
  std::deque<Job> ended_;  // the last kJobsRemembered before job_, oldest first
  bool reported_missing_password_ = false;
  // A failed scheduled backup (a full disk, say) is tried again after this long, not every
  // minute.
  static constexpr int64_t kScheduledRetryMs = 15 * 60 * 1000;
  int64_t failed_scheduled_ms_ = 0;
  std::optional<int64_t> last_scheduled_ms_;  // when the newest scheduled backup was made
  std::shared_ptr<BackupProgress> progress_;
  uv::WorkerThread worker_;
};

}  // namespace sluice::backup
