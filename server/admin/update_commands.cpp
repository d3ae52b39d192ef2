#include "server/admin/update_commands.h"

#include <algorithm>
#include <filesystem>

#include "common/base/time_format.h"
#include "server/admin/admin_args.h"
#include "server/admin/admin_audit.h"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultKeyMinutes = 2400;
constexpr int64_t kMaxKeyMinutes = 366 * 24 * 60;

json HeaderJson(const update::BundleHeader& header) {
  return {{"id", header.id},
          {"kind", header.kind},
          {"version", header.version},
          {"depends_on", header.depends_on},
          {"created", FormatIsoUtc(header.created_ms)},
          {"packages", update::BundlePackagesJson(header.packages)}};
}

// {"source", "base_version", "site_version", "updates": [UPDATE + "missing", "file"], "problems"}
json CheckJson(const UpdateCheck& check) {
  json updates = json::array();
  for (const Candidate& candidate : check.updates) {
    json entry = HeaderJson(candidate.entry.header);
    entry["missing"] = candidate.missing;
    entry["file"] = candidate.entry.where.path;
    updates.push_back(std::move(entry));
  }
  return {{"source", check.source},
          {"base_version", check.base_version},
          {"site_version", check.site_version},
          {"updates", std::move(updates)},
          {"problems", check.problems}};
}

// INSTALLED (docs/admin.md): the update's header, the backup, the file and the new versions.
json InstalledJson(const UpdateInstalled& installed) {
  json result = HeaderJson(installed.header);
  result["backup"] = installed.backup;
  result["file"] = installed.file;
  result["site_version"] = installed.site_version;
  result["base_version"] = installed.base_version;
  return result;
}

// PROGRESS (docs/admin.md): the running install's step, and how the last one ended.
json ProgressJson(const InstallProgressView& view, int64_t now_ms) {
  json result = {{"installing", view.installing}};
  if (view.installing) {
    result["what"] = view.what;
    result["update"] = view.update;
    result["update_no"] = view.update_no;
    result["updates"] = view.updates;
    result["step"] = InstallStepName(view.step);
    result["step_no"] = static_cast<int>(view.step);
    result["steps"] = kInstallSteps;
    result["started"] = FormatIsoUtc(view.started_ms);
    result["elapsed_ms"] = std::max<int64_t>(0, now_ms - view.started_ms);
  }
  if (!view.last_what.empty()) {
    result["last"] = {{"what", view.last_what},
                      {"ok", view.last_ok},
                      {"error", view.last_error},
                      {"finished", FormatIsoUtc(view.last_finished_ms)}};
  }
  return result;
}

json FileInstalledJson(const FileInstalled& file) {
  json installed = json::array();
  for (const UpdateInstalled& one : file.installed) installed.push_back(InstalledJson(one));
  return {{"site_id", file.site_id},
          {"installed", std::move(installed)},
          {"skipped", file.skipped},
          {"site_version", file.site_version},
          {"base_version", file.base_version}};
}

json DownloadKeyJson(const IssuedDownloadKey& key) {
  return {{"key", key.key},
          {"site_id", key.site_id},
          {"expires", FormatIsoUtc(key.fields.expires_ms)},
          {"base_version", key.fields.base_version},
          {"site_version", key.fields.site_version},
          {"installed", key.fields.installed}};
}

json InstalledListJson(const std::vector<InstalledUpdate>& rows) {
  json list = json::array();
  for (const InstalledUpdate& row : rows) {
    list.push_back({{"id", row.id},
                    {"kind", row.kind},
                    {"version", row.version},
                    {"depends_on", row.depends_on},
                    {"installed", FormatIsoUtc(row.installed_ms)},
                    {"bundle_sha256", row.bundle_sha256},
                    {"backup", row.backup}});
  }
  return {{"updates", std::move(list)}};
}

// Answers `reply` with `to_json` of a successful result, or the error.
template <typename T>
Done<T> Answer(admin::Reply reply, json (*to_json)(const T&)) {
  return [reply = std::move(reply), to_json](Result<T> result) {
    if (!result) return reply(Fail(result.error()));
    reply(to_json(*result));
  };
}

void AuditInstalled(store::Store& store, Clock& clock, const UpdateInstalled& installed,
                    const json& args) {
  AuditAdminChange(store, clock,
                   {.event = store::audit_event::kUpdateInstall,
                    .version = installed.site_version,
                    .detail = "id=" + installed.header.id},
                   args);
}

}  // namespace

void RegisterUpdateCommands(admin::AdminServer& admin, UpdateManager& updates, store::Store& store,
                            Clock& clock) {
  admin.Register("update-check", [&updates](const json&, admin::Reply reply) {
    updates.Check(Answer(std::move(reply), CheckJson));
  });
  admin.Register("updates", [&updates](const json&, admin::Reply reply) {
    updates.Installed(Answer(std::move(reply), InstalledListJson));
  });
  admin.Register("update-install",
                 [&updates, &store, &clock](const json& args, admin::Reply reply) {
                   auto id = NonEmptyStringArg(args, "id");
                   if (!id) return reply(Fail(id.error()));
                   updates.Install(std::move(*id), [&store, &clock, args, reply = std::move(reply)](
                                                       Result<UpdateInstalled> installed) {
                     if (!installed) return reply(Fail(installed.error()));
                     AuditInstalled(store, clock, *installed, args);
                     reply(InstalledJson(*installed));
                   });
                 });
  admin.Register("update-progress", [&updates, &clock](const json&, admin::Reply reply) {
    reply(ProgressJson(updates.Progress(), clock.WallMs()));
  });
  admin.Register(
      "update-install-file", [&updates, &store, &clock](const json& args, admin::Reply reply) {
        auto path = NonEmptyStringArg(args, "path");
        if (!path) return reply(Fail(path.error()));
        // sluiced reads the file itself: a relative path would resolve against its own directory.
        if (!std::filesystem::path(*path).is_absolute()) {
          return reply(Fail(Errc::kInvalidArgument, "path '" + *path + "' must be absolute"));
        }
        updates.InstallFile(std::move(*path), [&store, &clock, args, reply = std::move(reply)](
                                                  Result<FileInstalled> file) {
          if (!file) return reply(Fail(file.error()));
          for (const UpdateInstalled& one : file->installed)
            AuditInstalled(store, clock, one, args);
          reply(FileInstalledJson(*file));
        });
      });
  admin.Register("update-download-key", [&updates](const json& args, admin::Reply reply) {
    int64_t minutes = kDefaultKeyMinutes;
    if (auto it = args.find("valid_for_minutes"); it != args.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
          it->get<int64_t>() > kMaxKeyMinutes) {
        return reply(
            Fail(Errc::kInvalidArgument, "valid_for_minutes must be a whole number from 1 to " +
                                             std::to_string(kMaxKeyMinutes)));
      }
      minutes = it->get<int64_t>();
    }
    updates.IssueDownloadKey(minutes, Answer(std::move(reply), DownloadKeyJson));
  });
}

}  // namespace sluice::server
