#include "server/admin/backup_commands.h"

#include "common/base/time_format.h"
#include "server/admin/admin_args.h"

namespace sluice::server {
namespace {

using nlohmann::json;

json StatusJson(const backup::BackupService::Job& job) {
  std::string state = "none";
  if (job.id != 0) state = job.running ? "running" : job.made ? "done" : "failed";
  json status = {{"id", job.id},
                 {"state", state},
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

}  // namespace

void RegisterBackupCommands(admin::AdminServer& admin, backup::BackupService& backups) {
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
    auto id = backups.Start(std::move(password), !*no_history);
    if (!id) return reply(Fail(id.error()));
    reply(json{{"id", *id}});
  });
  admin.Register("backup-status", [&backups](const json&, admin::Reply reply) {
    reply(StatusJson(backups.Current()));
  });
}

}  // namespace sluice::server
