#include "server/backup/backup_service.h"

#include "common/base/log.h"
#include "server/backup/backup_schedule.h"
#include "server/store/audit_repo.h"

namespace sluice::backup {

BackupService::BackupService(Host host) : host_(std::move(host)), worker_(*host_.loop) {}

BackupService::~BackupService() = default;

Result<uint64_t> BackupService::Start(std::string password, bool history, const std::string& by) {
  return StartJob(std::move(password), history, std::nullopt, by);
}

void BackupService::Tick(int every_hours, int keep) {
  if (job_.running) return;
  const int64_t now_ms = host_.clock->WallMs();
  if (failed_scheduled_ms_ != 0 && now_ms - failed_scheduled_ms_ < kScheduledRetryMs) return;
  // Read from disk once (restarts do not shift the schedule), then kept as backups are made.
  if (!last_scheduled_ms_) last_scheduled_ms_ = LastBackupMs(out_dir());
  if (!ScheduledBackupDue(every_hours, *last_scheduled_ms_, now_ms)) return;
  auto password = ReadSchedulePassword(host_.data_root);
  if (!password || !password->has_value()) {
    if (!reported_missing_password_) {
      Log("backup")->error(
          "scheduled backups are on (every {} h) but have no password: run "
          "sluicectl backup schedule{}",
          every_hours, password ? "" : " (" + password.error().message() + ")");
    }
    reported_missing_password_ = true;
    return;
  }
  reported_missing_password_ = false;
  (void)StartJob(std::move(**password), /*history=*/true, keep);
}

Result<uint64_t> BackupService::StartJob(std::string password, bool history,
                                         std::optional<int> keep_scheduled, const std::string& by) {
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
  if (job_.id != 0) {
    ended_.push_back(job_);
    if (ended_.size() > kJobsRemembered) ended_.pop_front();
  }
  job_ = Job{.id = job_.id + 1,
             .running = true,
             .scheduled = keep_scheduled.has_value(),
             .started_ms = options.now_ms};
  progress_ = std::make_shared<BackupProgress>();
  Log("backup")->info("backup {} started protected={} history={} scheduled={}", job_.id,
                      !options.password.empty(), history, job_.scheduled);
  worker_.Run<BackupMade>(
      [store = host_.store, options = std::move(options), progress = progress_, keep_scheduled,
       &cancel = worker_.cancelled()]() -> Result<BackupMade> {
        auto made = CreateBackup(*store, options, *progress, cancel);
        if (made && keep_scheduled) KeepNewestBackups(options.out_dir, *keep_scheduled);
        return made;
      },
      [this, id = job_.id, keep_scheduled, by](Result<BackupMade> made) {
        if (job_.id != id) return;
        job_.running = false;
        job_.ended_ms = host_.clock->WallMs();
        job_.done = progress_->done;
        job_.total = progress_->total;
        if (made) {
          host_.store->Detach<void>(
              "backup: recording backup " + std::to_string(id),
              [row = store::AuditRow{
                   .wall_ms = host_.clock->WallMs(),
                   .event = store::audit_event::kBackup,
                   .detail = store::WithActor(
                       "backup " + std::to_string(id) + " " + made->path +
                           " protected=" + (made->manifest.is_protected ? "yes" : "no") +
                           " history=" + (made->manifest.history ? "yes" : "no") +
                           (keep_scheduled ? " scheduled" : ""),
                       by)}](db::Database& db) { return store::AppendAuditRow(db, row); });
          if (keep_scheduled) last_scheduled_ms_ = job_.ended_ms;
          job_.made = std::move(*made);
        } else {
          Log("backup")->error("backup {} failed: {}", id, made.error().ToString());
          job_.error = made.error();
        }
        failed_scheduled_ms_ = keep_scheduled && !made ? job_.ended_ms : 0;
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

std::optional<BackupService::Job> BackupService::Find(uint64_t id) const {
  if (id == job_.id) return Current();
  for (const Job& job : ended_) {
    if (job.id == id) return job;
  }
  return std::nullopt;
}

}  // namespace sluice::backup
