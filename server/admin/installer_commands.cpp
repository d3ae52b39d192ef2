#include "server/admin/installer_commands.h"

#include "common/base/time_format.h"
#include "server/admin/admin_args.h"
#include "server/admin/admin_audit.h"

namespace sluice::server {
namespace {

using nlohmann::json;

Result<InstallerParams> ParseCreateArgs(const json& args) {
  InstallerParams params;
  auto kind = NonEmptyStringArg(args, "kind");
  if (!kind) return Fail(kind.error());
  params.kind = *kind;
  for (auto [name, out] : {std::pair{"mode", &params.mode},
                           {"jump_group", &params.jump_group},
                           {"tag", &params.tag},
                           {"comments", &params.comments},
                           {"site_version", &params.site_version},
                           {"creator", &params.creator}}) {
    if (auto ok = OptionalStringArg(args, name, out); !ok) return Fail(ok.error());
  }
  if (params.mode.empty()) params.mode = "active";
  if (auto ok = OptionalMsArg(args, "valid_for_ms", &params.valid_for_ms); !ok)
    return Fail(ok.error());
  if (auto it = args.find("overrides"); it != args.end() && !it->is_null()) {
    bool valid = it->is_array();
    for (const json& name : *it) valid = valid && name.is_string();
    if (!valid) {
      return Fail(Errc::kInvalidArgument, "argument 'overrides' must be an array of strings");
    }
    for (const json& name : *it) params.overrides.push_back(name.get<std::string>());
  }
  return params;
}

// Answers {"installer": INSTALLER} or the error; a success is audited as `event` with the
// actor of `args`.
InstallerService::RecordDone ReplyRecord(admin::Reply reply, Clock& clock, store::Store& store,
                                         const char* event, const json& args) {
  return [reply = std::move(reply), &clock, &store, event, args](Result<InstallerRecord> record) {
    if (!record) {
      reply(Fail(record.error()));
      return;
    }
    AuditAdminChange(store, clock,
                     {.event = event,
                      .scope = record->kind,
                      .version = record->build.site_version,
                      .detail = "id=" + record->id},
                     args);
    reply(json{{"installer", InstallerJson(*record, clock.WallMs())}});
  };
}

json ArchivedJson(const ArchivedInstaller& a) {
  return {{"id", a.installer_id},
          {"site_version", a.site_version},
          {"product_code", a.product_code},
          {"product_version", a.product_version},
          {"file", a.file},
          {"archived", FormatIsoUtc(a.archived_ms)},
          {"reason", a.reason}};
}

}  // namespace

json InstallerJson(const InstallerRecord& r, int64_t now_ms) {
  return {{"id", r.id},
          {"kind", r.kind},
          {"mode", r.mode},
          {"jump_group", r.jump_group},
          {"tag", r.tag},
          {"comments", r.comments},
          {"overrides", r.overrides},
          {"creator", r.creator},
          {"created", FormatIsoUtc(r.created_ms)},
          {"expires", FormatIsoUtc(r.build.expires_ms)},
          {"expires_ms", r.build.expires_ms},
          {"expired", now_ms > r.build.expires_ms},
          {"site_version", r.build.site_version},
          {"upgrade_code", r.upgrade_code},
          {"product_code", r.build.product_code},
          {"product_version", r.build.product_version},
          {"built", FormatIsoUtc(r.build.built_ms)},
          {"file", r.build.file},
          {"key_info", r.build.key_info},
          {"enrolled_clients", r.enrolled_clients},
          {"deleted", r.deleted}};
}

void RegisterInstallerCommands(admin::AdminServer& admin, InstallerService& service, Clock& clock,
                               store::Store& store) {
  admin.Register(
      "installer-create", [&service, &clock, &store](const json& args, admin::Reply reply) {
        auto params = ParseCreateArgs(args);
        if (!params) {
          reply(Fail(params.error()));
          return;
        }
        // Who made it: sluicectl names its local user; otherwise the caller (e.g. "web:alice").
        if (params->creator.empty()) params->creator = admin::ActorOf(args);
        service.Create(std::move(*params), ReplyRecord(std::move(reply), clock, store,
                                                       store::audit_event::kInstallerCreate, args));
      });
  admin.Register("installers", [&service, &clock](const json&, admin::Reply reply) {
    service.List(
        [reply = std::move(reply), &clock](
            Result<std::pair<std::vector<InstallerRecord>, std::vector<ArchivedInstaller>>> lists) {
          if (!lists) {
            reply(Fail(lists.error()));
            return;
          }
          json live = json::array();
          json archive = json::array();
          const int64_t now = clock.WallMs();
          for (const auto& record : lists->first) live.push_back(InstallerJson(record, now));
          for (const auto& archived : lists->second) archive.push_back(ArchivedJson(archived));
          reply(json{{"installers", std::move(live)}, {"archive", std::move(archive)}});
        });
  });
  admin.Register("installer-extend", [&service, &clock, &store](const json& args,
                                                                admin::Reply reply) {
    auto id = NonEmptyStringArg(args, "id");
    int64_t valid_for_ms = 0;
    if (!id) {
      reply(Fail(id.error()));
      return;
    }
    if (auto ok = OptionalMsArg(args, "valid_for_ms", &valid_for_ms); !ok || valid_for_ms == 0) {
      reply(Fail(Errc::kInvalidArgument, "argument 'valid_for_ms' is required"));
      return;
    }
    service.Extend(
        *id, valid_for_ms,
        ReplyRecord(std::move(reply), clock, store, store::audit_event::kInstallerExtend, args));
  });
  admin.Register("installer-delete",
                 [&service, &clock, &store](const json& args, admin::Reply reply) {
                   auto id = NonEmptyStringArg(args, "id");
                   if (!id) {
                     reply(Fail(id.error()));
                     return;
                   }
                   service.Delete(*id, ReplyRecord(std::move(reply), clock, store,
                                                   store::audit_event::kInstallerDelete, args));
                 });
}

}  // namespace sluice::server
