#include "server/admin/package_commands.h"

#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "common/base/log.h"
#include "common/base/time_format.h"
#include "common/pkg/manifest.h"
#include "common/uv/worker_thread.h"
#include "server/admin/admin_args.h"
#include "server/pkg/package_import.h"
#include "server/pkg/package_repo.h"
#include "server/store/audit_repo.h"

namespace sluice::server {
namespace {

using nlohmann::json;

// The source file and what to store it as, from package-add's args.
Result<std::pair<std::string, PackageSpec>> ParseAddArgs(const json& args) {
  PackageSpec spec;
  for (auto [name, out] :
       {std::pair{"kind", &spec.kind}, {"platform", &spec.platform}, {"version", &spec.version}}) {
    auto value = StringArg(args, name);
    if (!value) return Fail(value.error());
    *out = std::move(*value);
  }
  auto downgrade = OptionalBoolArg(args, "allow_downgrade");
  if (!downgrade) return Fail(downgrade.error());
  spec.allow_downgrade = *downgrade;
  auto path = StringArg(args, "path");
  if (!path) return Fail(path.error());
  // The server reads the file: a relative path would resolve against its working directory.
  if (!std::filesystem::path(*path).is_absolute()) {
    return Fail(Errc::kInvalidArgument, "package path '" + *path + "' must be absolute");
  }
  // Cheap checks now, so a typo is not queued behind a long import.
  if (auto valid = ValidatePackageSpec(spec); !valid) return Fail(valid.error());
  return std::pair{std::move(*path), std::move(spec)};
}

// Records an imported package and answers with the stored row (the first one, when the same
// package was added before). Loop thread.
void RecordPackage(store::Store& store, PackageRecord record, const PackageAdded& added,
                   const std::string& actor, admin::Reply reply) {
  store::AuditRow audit{.wall_ms = record.created_ms,
                        .event = store::audit_event::kPackageAdd,
                        .scope = record.kind,
                        .version = record.version,
                        .detail = store::WithActor(
                            "platform=" + record.platform + "; sha256=" + record.sha256, actor)};
  store.Submit<PackageRecord>(
      [record = std::move(record), audit](db::Database& db) -> Result<PackageRecord> {
        if (auto inserted = InsertPackage(db, record); !inserted) return Fail(inserted.error());
        if (auto audited = store::AppendAuditRow(db, audit); !audited) {
          return Fail(audited.error());
        }
        auto stored = FindPackage(db, record.kind, record.platform, record.version);
        if (!stored) return Fail(stored.error());
        if (!*stored) return Fail(Errc::kInternal, "package vanished after insert");
        return std::move(**stored);
      },
      [added, reply = std::move(reply)](Result<PackageRecord> stored) {
        if (!stored) {
          reply(Fail(stored.error()));
          return;
        }
        Log("pkg")->info("package added kind={} platform={} version={} sha256={} size={}",
                         stored->kind, stored->platform, stored->version, stored->sha256,
                         stored->size);
        reply(json{{"package", PackageJson(*stored)}});
        if (added) added(*stored);
      });
}

// Imports off the loop thread, then records. An import in progress when `worker` is destroyed
// stops within one chunk and leaves no temp file; its reply is dropped. Loop thread.
void AddPackage(uv::WorkerThread& worker, const std::string& packages_dir,
                const crypto::SigningKey& key, store::Store& store, Clock& clock,
                const PackageAdded& added, const json& args, admin::Reply reply) {
  auto parsed = ParseAddArgs(args);
  if (!parsed) {
    reply(Fail(parsed.error()));
    return;
  }
  auto& [path, spec] = *parsed;
  worker.Run<PackageRecord>(
      [packages_dir, path = std::move(path), spec = std::move(spec), &key, now = clock.WallMs(),
       &cancel = worker.cancelled()] {
        return ImportPackage(packages_dir, path, spec, key, now, &cancel);
      },
      [&store, added, actor = admin::ActorOf(args),
       reply = std::move(reply)](Result<PackageRecord> imported) mutable {
        if (!imported) {
          reply(Fail(imported.error()));
          return;
        }
        RecordPackage(store, std::move(*imported), added, actor, std::move(reply));
      });
}

void ListAll(store::Store& store, admin::Reply reply) {
  store.Submit<std::vector<PackageRecord>>(
      [](db::Database& db) { return ListPackages(db); },
      [reply = std::move(reply)](Result<std::vector<PackageRecord>> packages) {
        if (!packages) {
          reply(Fail(packages.error()));
          return;
        }
        json list = json::array();
        for (const auto& record : *packages) {
          json entry = PackageJson(record);
          entry["file"] = PackageFileState(record);
          list.push_back(std::move(entry));
        }
        reply(json{{"packages", std::move(list)}});
      });
}

}  // namespace

json PackageJson(const PackageRecord& record) {
  auto manifest = pkg::ParseManifest(record.manifest);
  return {{"kind", record.kind},
          {"platform", record.platform},
          {"version", record.version},
          {"sha256", record.sha256},
          {"size", record.size},
          {"allow_downgrade", manifest && manifest->allow_downgrade},
          {"created", FormatIsoUtc(record.created_ms)}};
}

void RegisterPackageCommands(admin::AdminServer& admin, uv::Loop& loop, store::Store& store,
                             const DataDir& dir, Clock& clock, PackageAdded added) {
  admin.Register("packages",
                 [&store](const json&, admin::Reply reply) { ListAll(store, std::move(reply)); });
  if (!dir.signing_key) {
    admin.Register("package-add", [](const json&, admin::Reply reply) {
      reply(Fail(Errc::kInternal, "the site signing key is not loaded"));
    });
    return;
  }
  // Owned by the handler: destroyed (cancelling and joining its thread) with the AdminServer.
  auto worker = std::make_shared<uv::WorkerThread>(loop);
  admin.Register("package-add", [worker, packages_dir = dir.packages_dir, &key = *dir.signing_key,
                                 &store, &clock, added = std::move(added)](const json& args,
                                                                          admin::Reply reply) {
    AddPackage(*worker, packages_dir, key, store, clock, added, args, std::move(reply));
  });
}

}  // namespace sluice::server
