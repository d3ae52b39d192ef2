#include "server/backup/backup_service.h"

#include "common/base/log.h"

namespace sluice::backup {

BackupService::BackupService(Host host) : host_(std::move(host)), worker_(*host_.loop) {}

BackupService::~BackupService() = default;

Result<uint64_t> BackupService::Start(std::string password, bool history) {
  if (job_.running) {
    return Fail(Errc::kAlreadyExists, "backup " + std::to_string(job_.id) +
                                          " is still running; wait for it (backup status)");
  }
  BackupOptions options{.data_root = host_.data_root,
                        .out_dir = out_dir(),
                        .password = std::move(password),
                        .history = history,
                        .now_ms = host_.clock->WallMs(),
                        .scrypt = host_.scrypt};
  job_ = Job{.id = job_.id + 1, .running = true, .started_ms = options.now_ms};
  progress_ = std::make_shared<BackupProgress>();
  Log("backup")->info("backup {} started protected={} history={}", job_.id,
                      !options.password.empty(), history);
  worker_.Run<BackupMade>(
      [store = host_.store, options = std::move(options), progress = progress_,
       &cancel = worker_.cancelled()]() {
        return CreateBackup(*store, options, *progress, cancel);
      },
      [this, id = job_.id](Result<BackupMade> made) {
        if (job_.id != id) return;
        job_.running = false;
        job_.ended_ms = host_.clock->WallMs();
        job_.done = progress_->done;
        job_.total = progress_->total;
        if (made) {
          job_.made = std::move(*made);
        } else {
          Log("backup")->error("backup {} failed: {}", id, made.error().ToString());
          job_.error = made.error();
        }
      });
  return job_.id;
}

BackupService::Job BackupService::Current() const {
  Job job = job_;
  if (job.running && progress_) {
    job.done = progress_->done;
    job.total = progress_->total;
  }
  return job;
}

}  // namespace sluice::backup
