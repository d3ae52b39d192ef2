#include "server/installer/installer_service.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "common/base/log.h"
#include "common/base/version.h"
#include "common/crypto/random.h"
#include "common/installer/installer_key.h"
#include "server/pkg/package_repo.h"

namespace sluice::server {
namespace {

bool Allows(const std::vector<std::string>& overrides, std::string_view name) {
  return std::find(overrides.begin(), overrides.end(), name) != overrides.end();
}

installer::InstallerKey KeyFor(const InstallerRecord& record, const InstallerServiceOptions& o,
                               const std::string& site_version, int64_t expires_ms) {
  return installer::InstallerKey{.id = record.id,
                                 .endpoint = o.endpoint,
                                 .pin = o.certificate_pin,
                                 .signing_key = o.signing_key->PublicKey(),
                                 .kind = record.kind,
                                 .mode = record.mode,
                                 .jump_group = record.jump_group,
                                 .tag = record.tag,
                                 .expires_ms = expires_ms,
                                 .site_version = site_version,
                                 .overrides = record.overrides};
}

// What the worker needs to build `record`'s MSI with a key for `site_version` and `expires_ms`.
BuildRequest RequestFor(const InstallerRecord& record, const InstallerServiceOptions& o,
                        const std::string& site_version, int64_t expires_ms, int64_t now_ms) {
  return BuildRequest{.installers_dir = o.installers_dir,
                      .templates_dir = o.templates_dir,
                      .client = {},
                      .key = KeyFor(record, o, site_version, expires_ms),
                      .signing_key = o.signing_key,
                      .code_signing = o.code_signing,
                      .now_ms = now_ms};
}

// Compares dotted versions; unparsable text compares as equal (it was validated on the way in).
int CompareVersions(const std::string& a, const std::string& b) {
  auto va = Version::Parse(a);
  auto vb = Version::Parse(b);
  if (!va || !vb) return 0;
  return *va < *vb ? -1 : (*vb < *va ? 1 : 0);
}

EnrollDecision Refuse(proto::ErrorCode code, std::string message) {
  return EnrollDecision{.refusal = code,
                        .message = std::move(message),
                        .installer_id = {},
                        .jump_group = {},
                        .tag = {}};
}

// The refusal for a kind, mode, jump group or tag the key does not allow to change, if any.
std::optional<EnrollDecision> CheckOverrides(const proto::Enroll& enroll,
                                             const installer::InstallerKey& key) {
  if (proto::ToString(enroll.kind) != key.kind) {
    return Refuse(proto::ErrorCode::kInstallerOverrideRefused,
                  "this installer makes " + key.kind + " clients, not " +
                      std::string(proto::ToString(enroll.kind)));
  }
  struct Override {
    std::string_view name;
    std::string wanted;
    const std::string& given;
  };
  const std::string mode(proto::ToString(enroll.mode));
  for (const Override& o :
       {Override{installer::kOverrideMode, mode, key.mode},
        Override{installer::kOverrideJumpGroup, enroll.jump_group, key.jump_group},
        Override{installer::kOverrideTag, enroll.tag, key.tag}}) {
    if (o.wanted.empty() || o.wanted == o.given || Allows(key.overrides, o.name)) continue;
    return Refuse(proto::ErrorCode::kInstallerOverrideRefused,
                  "installer " + key.id + " does not allow overriding " + std::string(o.name));
  }
  return std::nullopt;
}

}  // namespace

InstallerService::InstallerService(InstallerServiceOptions options)
    : options_(std::move(options)), worker_(std::make_unique<uv::WorkerThread>(*options_.loop)) {}

InstallerService::~InstallerService() = default;

void InstallerService::Create(InstallerParams params, RecordDone done) {
  if (options_.signing_key == nullptr) {
    done(Fail(Errc::kInternal, "the site signing key is not loaded"));
    return;
  }
  if (auto valid = ValidateInstallerParams(params, options_.min_validity_ms); !valid) {
    done(Fail(valid.error()));
    return;
  }
  const std::string current = options_.site_version();
  if (params.site_version.empty()) params.site_version = current;
  if (CompareVersions(params.site_version, current) < 0) {
    done(Fail(Errc::kInvalidArgument, "site version " + params.site_version +
                                          " is older than the site's version " + current));
    return;
  }
  const int64_t now = options_.clock->WallMs();
  InstallerRecord record{.id = "inst-" + crypto::RandomHex(6),
                         .created_ms = now,
                         .creator = params.creator,
                         .kind = params.kind,
                         .mode = params.mode,
                         .jump_group = params.jump_group,
                         .tag = params.tag,
                         .comments = params.comments,
                         .overrides = params.overrides,
                         .upgrade_code = {},
                         .build = {},
                         .deleted = false,
                         .enrolled_clients = 0};
  BuildRequest request =
      RequestFor(record, options_, params.site_version, now + params.valid_for_ms, now);
  store::Store* store = options_.store;
  Build(std::move(request),
      [record = std::move(record), store,
       done = std::move(done)](Result<BuildOutcome> built) mutable {
        if (!built) {
          done(Fail(built.error()));
          return;
        }
        record.upgrade_code = built->upgrade_code;
        record.build = built->build;
        store->Submit<InstallerRecord>(
            [record](db::Database& db) -> Result<InstallerRecord> {
              if (auto inserted = InsertInstaller(db, record); !inserted) {
                return Fail(inserted.error());
              }
              return record;
            },
            [done = std::move(done), file = record.build.file](Result<InstallerRecord> stored) {
              if (!stored) {
                std::error_code ignored;
                std::filesystem::remove(file, ignored);
                std::filesystem::remove(std::filesystem::path(file).parent_path(), ignored);
              } else {
                Log("installer")
                    ->info(
                        "installer created id={} kind={} site_version={} "
                        "product_code={} creator={}",
                        stored->id, stored->kind, stored->build.site_version,
                        stored->build.product_code, stored->creator);
              }
              done(std::move(stored));
            });
      });
}

void InstallerService::Rebuild(InstallerRecord record, std::string site_version, int64_t expires_ms,
                               std::string reason, RecordDone done) {
  const int64_t now = options_.clock->WallMs();
  BuildRequest request = RequestFor(record, options_, site_version, expires_ms, now);
  store::Store* store = options_.store;
  Build(std::move(request),
      [record = std::move(record), store, now, reason = std::move(reason),
       done = std::move(done)](Result<BuildOutcome> built) mutable {
        if (!built) {
          done(Context(built.error(), "rebuilding installer " + record.id));
          return;
        }
        const std::string replaced = record.build.product_code;
        record.build = built->build;
        // Copied before `record` is moved into the completion (argument order is unspecified).
        std::string id = record.id;
        InstallerBuild build = record.build;
        store->Submit<bool>(
            [id = std::move(id), replaced, build = std::move(build), reason,
             now](db::Database& db) {
              return ReplaceInstallerBuild(db, id, replaced, build, reason, now);
            },
            [record = std::move(record), done = std::move(done)](Result<bool> replaced) {
              if (!replaced || !*replaced) {
                std::error_code ignored;
                std::filesystem::remove(record.build.file, ignored);
                done(!replaced ? Result<InstallerRecord>(Fail(replaced.error()))
                               : Fail(Errc::kNotFound, "installer " + record.id +
                                                           " was deleted or rebuilt meanwhile"));
                return;
              }
              done(record);
            });
      });
}

void InstallerService::Build(BuildRequest request,
                             std::function<void(Result<BuildOutcome>)> done) {
  std::string kind = request.key.kind;
  std::string version = request.key.site_version;
  options_.store->Submit<std::optional<PackageRecord>>(
      [kind, version](db::Database& db) {
        return FindPackage(db, kind, kInstallerPlatform, version);
      },
      [this, alive = lifetime_.Token(), request = std::move(request), kind, version,
       done = std::move(done)](Result<std::optional<PackageRecord>> found) mutable {
        if (!alive.lock()) return;
        if (!found) {
          done(Context(found.error(), "finding the " + kind + " client to embed"));
          return;
        }
        if (!*found) {
          done(Fail(Errc::kNotFound,
                    "no " + kind + " package for " + std::string(kInstallerPlatform) +
                        " at version " + version + " to put in the installer: add one with " +
                        "`sluicectl package add --kind " + kind + " --platform " +
                        std::string(kInstallerPlatform) + " --version " + version +
                        " FILE`, or install a site update that has it"));
          return;
        }
        request.client = std::move(**found);
        worker_->Run<BuildOutcome>(
            [request = std::move(request)] { return BuildInstallerFile(request); },
            std::move(done));
      });
}

void InstallerService::Extend(const std::string& id, int64_t valid_for_ms, RecordDone done) {
  if (auto valid = ValidateValidity(valid_for_ms, options_.min_validity_ms); !valid) {
    done(Fail(valid.error()));
    return;
  }
  options_.store->Submit<std::optional<InstallerRecord>>(
      [id](db::Database& db) { return FindInstaller(db, id); },
      [this, alive = lifetime_.Token(), id, valid_for_ms,
       done = std::move(done)](Result<std::optional<InstallerRecord>> found) mutable {
        if (!alive.lock()) return;
        if (!found) {
          done(Fail(found.error()));
          return;
        }
        if (!*found || (*found)->deleted) {
          done(Fail(Errc::kNotFound, "no installer " + id));
          return;
        }
        const int64_t expires = options_.clock->WallMs() + valid_for_ms;
        std::string version = (*found)->build.site_version;
        Rebuild(std::move(**found), std::move(version), expires, "extended", std::move(done));
      });
}

void InstallerService::Delete(const std::string& id, RecordDone done) {
  options_.store->Submit<std::pair<InstallerRecord, std::vector<ArchivedInstaller>>>(
      [id](db::Database& db) -> Result<std::pair<InstallerRecord, std::vector<ArchivedInstaller>>> {
        std::vector<ArchivedInstaller> archived;
        auto deleted = DeleteInstaller(db, id, &archived);
        if (!deleted) return Fail(deleted.error());
        return std::pair{std::move(*deleted), std::move(archived)};
      },
      [this, alive = lifetime_.Token(), done = std::move(done)](
          Result<std::pair<InstallerRecord, std::vector<ArchivedInstaller>>> deleted) mutable {
        if (!alive.lock()) return;
        if (!deleted) {
          done(Fail(deleted.error()));
          return;
        }
        InstallerRecord record = std::move(deleted->first);
        Log("installer")->info("installer deleted id={}", record.id);
        // Removing the files is disk work: the worker does it, then answers.
        const std::string folder =
            (std::filesystem::path(options_.installers_dir) / record.id).string();
        worker_->Run<void>(
            [folder]() -> Status {
              std::error_code ignored;
              std::filesystem::remove_all(folder, ignored);
              return {};
            },
            [record = std::move(record), done = std::move(done)](Status) mutable {
              done(std::move(record));
            });
      });
}

void InstallerService::List(
    std::function<
        void(Result<std::pair<std::vector<InstallerRecord>, std::vector<ArchivedInstaller>>>)>
        done) {
  using Lists = std::pair<std::vector<InstallerRecord>, std::vector<ArchivedInstaller>>;
  options_.store->Submit<Lists>(
      [](db::Database& db) -> Result<Lists> {
        auto live = ListInstallers(db);
        if (!live) return Fail(live.error());
        auto archived = ListInstallerArchive(db);
        if (!archived) return Fail(archived.error());
        return Lists{std::move(*live), std::move(*archived)};
      },
      std::move(done));
}

void InstallerService::RegenerateOutdated(const std::string& version) {
  options_.store->Submit<std::vector<InstallerRecord>>(
      [](db::Database& db) { return ListInstallers(db); },
      [this, alive = lifetime_.Token(), version](Result<std::vector<InstallerRecord>> live) {
        if (!alive.lock()) return;
        if (!live) {
          Log("installer")
              ->error("cannot list installers to regenerate: {}", live.error().ToString());
          return;
        }
        for (InstallerRecord& record : *live) {
          // Pre-staged installers for this version or a later one stay as they are.
          if (CompareVersions(record.build.site_version, version) >= 0) continue;
          ++pending_rebuilds_;
          const int64_t expires = record.build.expires_ms;
          std::string id = record.id;
          Rebuild(std::move(record), version, expires, "site-version",
                  [this, alive = lifetime_.Token(), id, version](Result<InstallerRecord> rebuilt) {
                    if (!alive.lock()) return;
                    --pending_rebuilds_;
                    if (!rebuilt) {
                      Log("installer")
                          ->error("installer regeneration failed id={} version={}: {}", id, version,
                                  rebuilt.error().ToString());
                      return;
                    }
                    Log("installer")
                        ->info(
                            "installer regenerated id={} site_version={} product_code={} "
                            "product_version={}",
                            id, version, rebuilt->build.product_code,
                            rebuilt->build.product_version);
                  });
        }
      });
}

void InstallerService::AuthorizeEnroll(const proto::Enroll& enroll,
                                       std::function<void(EnrollDecision)> done) {
  if (options_.signing_key == nullptr) {
    done(Refuse(proto::ErrorCode::kInternal, "the site signing key is not loaded"));
    return;
  }
  auto key = installer::VerifyInstallerKey(enroll.installer_key, options_.signing_key->PublicKey());
  if (!key) {
    done(Refuse(proto::ErrorCode::kEnrollmentRefused, key.error().message()));
    return;
  }
  if (auto refused = CheckOverrides(enroll, *key)) {
    done(std::move(*refused));
    return;
  }
  EnrollDecision accepted{
      .refusal = std::nullopt,
      .message = {},
      .installer_id = key->id,
      .jump_group = enroll.jump_group.empty() ? key->jump_group : enroll.jump_group,
      .tag = enroll.tag.empty() ? key->tag : enroll.tag};
  // Copied before `key` is moved into the completion (argument order is unspecified).
  std::string installer_id = key->id;
  options_.store->Submit<std::optional<InstallerRecord>>(
      [id = std::move(installer_id)](db::Database& db) { return FindInstaller(db, id); },
      [this, alive = lifetime_.Token(), key = std::move(*key), accepted = std::move(accepted),
       done = std::move(done)](Result<std::optional<InstallerRecord>> found) mutable {
        if (!alive.lock()) return;
        if (!found) {
          done(Refuse(proto::ErrorCode::kInternal, "could not read the installer record"));
          return;
        }
        if (!*found || (*found)->deleted) {
          done(Refuse(proto::ErrorCode::kInstallerRevoked,
                      "installer " + key.id + " was deleted by the site administrator"));
          return;
        }
        if (options_.clock->WallMs() > (*found)->build.expires_ms) {
          done(Refuse(proto::ErrorCode::kInstallerExpired,
                      "installer " + key.id + " has expired; ask for a new installer"));
          return;
        }
        const std::string site = options_.site_version();
        if (CompareVersions(key.site_version, site) != 0) {
          done(Refuse(proto::ErrorCode::kInstallerOutdated,
                      "installer " + key.id + " was made for site version " + key.site_version +
                          " but the site runs " + site +
                          (CompareVersions(key.site_version, site) < 0
                               ? "; use the regenerated installer"
                               : "; it is accepted once the site is upgraded")));
          return;
        }
        done(std::move(accepted));
      });
}

}  // namespace sluice::server
