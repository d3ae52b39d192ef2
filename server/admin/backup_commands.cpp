#include "server/admin/backup_commands.h"

#include "common/base/time_format.h"
#include "server/admin/admin_args.h"
#include "server/admin/admin_audit.h"
#include "server/backup/backup_schedule.h"

namespace sluice::server {
namespace {

using nlohmann::json;

json ScheduleJson(backup::BackupService& backups, const SiteSettings& site) {
  auto password = backup::ReadSchedulePassword(backups.data_root());
  const std::string stored = !password || !password->has_value() ? "missing"
                             : (*password)->empty()              ? "unprotected"
                                                                 : "set";
  const int64_t last = backup::LastBackupMs(backups.out_dir());
  json schedule = {{"every_hours", site.backup_every_hours},
                   {"keep", site.backup_keep},
                   {"password", stored},
                   {"dir", backups.out_dir()},
                   {"files", backup::ListBackupFiles(backups.out_dir()).size()},
                   {"last", last ? FormatIsoUtc(last) : ""},
                   {"next", ""}};
  if (site.backup_every_hours > 0) {
    schedule["next"] =
        last ? FormatIsoUtc(last + int64_t{site.backup_every_hours} * 3600 * 1000) : "now";
  }
  return schedule;
}

json StatusJson(const backup::BackupService::Job& job) {
  std::string state = "none";
  if (job.id != 0) state = job.running ? "running" : job.made ? "done" : "failed";
  json status = {{"id", job.id},
                 {"state", state},
                 {"scheduled", job.scheduled},
                 {"done", job.done},
                 {"total", job.total},
                 {"started", job.started_ms ? FormatIsoUtc(job.started_ms) : ""},
                 {"ended", job.ended_ms ? FormatIsoUtc(job.ended_ms) : ""}};
  if (job.made) {
    status["file"] = job.made->path;
    status["size"] = job.made->size;
    status["manifest"] = backup::ManifestJson(job.made->manifest);
  }
  if (job.error) {
    status["error"] = {{"code", ErrcName(job.error->code())}, {"message", job.error->message()}};
  }
  return status;
}

// Sets the two schedule settings one after the other (each saved before it applies), then
// answers with the schedule.
void SetSchedule(SettingsService& settings, backup::BackupService& backups, int every_hours,
                 int keep, admin::Reply reply) {
  settings.Update(
      {.key = "backup_keep", .value = std::to_string(keep), .reconnect_clients = false},
      [&settings, &backups, every_hours, reply = std::move(reply)](Status kept) mutable {
        if (!kept) return reply(Fail(kept.error()));
        settings.Update({.key = "backup_every_hours",
                         .value = std::to_string(every_hours),
                         .reconnect_clients = false},
                        [&settings, &backups, reply = std::move(reply)](Status set) {
                          if (!set) return reply(Fail(set.error()));
                          reply(ScheduleJson(backups, settings.settings()));
                        });
      });
}

}  // namespace

void RegisterBackupCommands(admin::AdminServer& admin, backup::BackupService& backups,
                            SettingsService& settings, store::Store& store, Clock& clock) {
  admin.Register("backup-create", [&backups](const json& args, admin::Reply reply) {
    std::string password;
    if (auto read = OptionalStringArg(args, "password", &password); !read) {
      return reply(Fail(read.error()));
    }
    auto unprotected = OptionalBoolArg(args, "unprotected");
    if (!unprotected) return reply(Fail(unprotected.error()));
    auto no_history = OptionalBoolArg(args, "no_history");
    if (!no_history) return reply(Fail(no_history.error()));
    if (password.empty() == !*unprotected) {
      return reply(Fail(Errc::kInvalidArgument,
                        "give a password, or \"unprotected\": true for a backup anyone holding "
                        "the file can read (it contains the site's private keys)"));
    }
    auto id = backups.Start(std::move(password), !*no_history, admin::ActorOf(args));
    if (!id) return reply(Fail(id.error()));
    reply(json{{"id", *id}});
  });
  admin.Register("backup-status", [&backups, &settings](const json& args, admin::Reply reply) {
    backup::BackupService::Job job = backups.Current();
    if (auto it = args.find("id"); it != args.end() && !it->is_null()) {
      if (!it->is_number_unsigned()) {
        return reply(Fail(Errc::kInvalidArgument, "id must be a backup number"));
      }
      auto found = backups.Find(it->get<uint64_t>());
      if (!found) return reply(Fail(Errc::kNotFound, "no recent backup " + it->dump()));
      job = std::move(*found);
    }
    json status = StatusJson(job);
    // Following one backup (sluicectl polls it) needs no schedule, which reads the disk.
    if (!args.contains("id")) status["schedule"] = ScheduleJson(backups, settings.settings());
    reply(std::move(status));
  });
  admin.Register("backup-schedule", [&backups, &settings, &store, &clock](const json& args,
                                                                          admin::Reply reply) {
    const auto every = args.find("every_hours");
    if (every == args.end() || !every->is_number_integer()) {
      return reply(Fail(Errc::kInvalidArgument, "every_hours must be a whole number (0: off)"));
    }
    int keep = settings.settings().backup_keep;
    if (auto it = args.find("keep"); it != args.end() && !it->is_null()) {
      if (!it->is_number_integer()) {
        return reply(Fail(Errc::kInvalidArgument, "keep must be a whole number"));
      }
      keep = it->get<int>();
    }
    std::string password;
    if (auto read = OptionalStringArg(args, "password", &password); !read) {
      return reply(Fail(read.error()));
    }
    auto unprotected = OptionalBoolArg(args, "unprotected");
    if (!unprotected) return reply(Fail(unprotected.error()));
    const int every_hours = every->get<int>();
    SiteSettings probe = settings.settings();  // refused values change nothing, password included
    if (auto ok = probe.Set("backup_keep", std::to_string(keep)); !ok)
      return reply(Fail(ok.error()));
    if (auto ok = probe.Set("backup_every_hours", std::to_string(every_hours)); !ok) {
      return reply(Fail(ok.error()));
    }
    if (!password.empty() && *unprotected) {
      return reply(Fail(Errc::kInvalidArgument, "give a password or \"unprotected\", not both"));
    }
    if (!password.empty() || *unprotected) {
      if (auto stored = backup::WriteSchedulePassword(backups.data_root(), password); !stored) {
        return reply(Fail(stored.error()));
      }
    } else if (every_hours > 0) {
      auto stored = backup::ReadSchedulePassword(backups.data_root());
      if (!stored || !stored->has_value()) {
        return reply(Fail(Errc::kInvalidArgument,
                          "a schedule needs a password, or \"unprotected\": true (the backups "
                          "hold the site's private keys)"));
      }
    }
    // Audited once stored, as settings_change; never with the password, only whether one is set.
    const std::string detail = "backup_every_hours=" + std::to_string(every_hours) +
                               "; backup_keep=" + std::to_string(keep) + "; password=" +
                               (*unprotected       ? "unprotected"
                                : password.empty() ? "kept"
                                                   : "set");
    SetSchedule(settings, backups, every_hours, keep,
                [&store, &clock, detail, actor = json{{admin::kActorKey, admin::ActorOf(args)}},
                 reply = std::move(reply)](Result<json> result) {
                  if (result) {
                    AuditAdminChange(
                        store, clock,
                        {.event = store::audit_event::kSettingsChange, .detail = detail}, actor);
                  }
                  reply(std::move(result));
                });
  });
}

}  // namespace sluice::server
