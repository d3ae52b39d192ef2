// The backup's side of a sync (pair_service.h): when it runs, the merge of what this server
// wrote that the primary lacks, the fetch of the snapshot and the missing packages, and the
// staging that the restart commits.

#include <filesystem>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/hash.h"
#include "server/backup/backup_archive.h"
#include "server/backup/restore.h"
#include "server/pair/file_sink.h"
#include "server/pair/pair_json.h"
#include "server/pair/pair_service.h"
#include "server/pair/test_kill_point.h"
#include "server/store/client_repo.h"
#include "server/store/pair_repo.h"

namespace sluice::pair {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kMergeBatch = 500;
// A merge request stays well under the pair protocol's largest body (kMaxPairBodyBytes),
// whatever the rows' text holds: a batch ends early once its JSON would pass this.
constexpr size_t kMaxMergeBatchBytes = proto::kMaxPairBodyBytes / 2;
// Clients seen shortly before the last sync are sent too: newest-wins makes extras harmless.
constexpr int64_t kMergeMarginMs = 10 * 60 * 1000;

}  // namespace

void PairService::ScheduleSync() {
  if (state_.role != Role::kBackup || !sync_timer_) return;
  const int64_t now = host_.clock->WallMs();
  int64_t due = state_.established_ms + options_.first_sync_delay_ms;
  if (state_.last_sync) {
    due = state_.last_sync->finished_ms + static_cast<int64_t>(host_.sync_every_minutes()) * 60'000;
  }
  sync_timer_->Start(static_cast<uint64_t>(std::max<int64_t>(due - now, 0)), 0, [this] {
    RunSync([this](Result<SyncRecord> synced) {
      if (synced) {
        RestartWith(
            staged_, [&](State&) {}, "applying the sync");
        return;
      }
      Log("pair")->warn("sync failed, retrying in {} s: {}", options_.retry_ms / 1000,
                        synced.error().ToString());
      sync_timer_->Start(static_cast<uint64_t>(options_.retry_ms), 0, [this] { ScheduleSync(); });
    });
  });
}

void PairService::SyncNow(Done done) {
  if (state_.role == Role::kPrimary) {
    AskPeer("sync_now", json::object(), kConnectRetries, [this, done](Result<json> synced) {
      if (!synced)
        return done(Context(synced.error(), "asking the backup at " + state_.peer + " to sync"));
      done(std::move(synced));
    });
    return;
  }
  if (state_.role != Role::kBackup) {
    done(Fail(Errc::kNotFound, "this server is in no pair"));
    return;
  }
  RunSync([this, done = std::move(done)](Result<SyncRecord> synced) {
    if (!synced) {
      done(Fail(synced.error()));
      return;
    }
    done(SyncJson(*synced));
    RestartWith(
        staged_, [](State&) {}, "applying the sync");
  });
}

void PairService::RunSync(std::function<void(Result<SyncRecord>)> finished) {
  if (restarting_) {
    finished(Fail(Errc::kClosed, "the server is restarting"));
    return;
  }
  sync_waiters_.push_back(std::move(finished));
  if (sync_) return;  // joins the running one
  if (sync_timer_) sync_timer_->Stop();
  sync_ =
      SyncProgress{.phase = "snapshot", .done = 0, .total = 0, .started_ms = host_.clock->WallMs()};
  sync_bytes_ = 0;
  sync_packages_ = 0;
  Log("pair")->info("sync started from {}", state_.peer);
  Connect(
      state_.peer, [this, alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
        if (alive.expired()) return;
        if (!channel)
          return EndSync(Context(channel.error(), "reaching the primary at " + state_.peer));
        if ((*channel)->peer_server_id() != state_.peer_server_id) {
          return EndSync(
              Fail(Errc::kInvalidArgument, state_.peer + " is another server than the primary"));
        }
        sync_channel_ = *channel;
        // What an earlier, interrupted sync fetched is resumed if the primary still has it.
        std::string resume;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(files_.incoming_dir(), ec)) {
          const std::string name = entry.path().filename().string();
          if (name.ends_with(".part")) resume = name.substr(0, name.size() - 5);
        }
        auto snapshot = [this, resume, alive] {
          sync_channel_->Call("snapshot", {{"resume", resume}}, [this, alive](Result<json> made) {
            if (alive.expired()) return;
            if (!made) return EndSync(Context(made.error(), "the primary's snapshot"));
            FetchSnapshot(sync_channel_, std::move(*made));
          });
        };
        // What this server wrote that the primary lacks goes there first.
        if (state_.merge_since_ms) return Merge(sync_channel_, snapshot);
        snapshot();
      });
}

std::optional<int64_t> PairService::MergeSince(const std::string& primary_id) const {
  // Only a server whose data came from this primary shares its history: a new server's own
  // rows are not the site's.
  if (state_.peer_server_id != primary_id) return std::nullopt;
  if (!state_.last_sync) return int64_t{0};
  return std::max<int64_t>(
      state_.last_sync->finished_ms - state_.last_sync->duration_ms - kMergeMarginMs, 0);
}

void PairService::Merge(const std::shared_ptr<PairChannel>& channel, std::function<void()> then) {
  sync_->phase = "merge";
  merged_rows_ = 0;
  merged_clients_ = 0;
  channel->Call("merge_tops", json::object(),
                [this, channel, then, alive = lifetime_.Token()](Result<json> tops) {
                  if (alive.expired()) return;
                  if (!tops) return EndSync(Context(tops.error(), "merging into the primary"));
                  MergeAudit(channel, (*tops)["tops"], 0, then);
                });
}

void PairService::MergeAudit(const std::shared_ptr<PairChannel>& channel, json tops,
                             int64_t after_seq, std::function<void()> then) {
  std::map<int64_t, int64_t> held;
  for (const json& top : tops) held[top.at(0).get<int64_t>()] = top.at(1).get<int64_t>();
  host_.store->Submit<std::vector<store::AuditRow>>(
      [held, after_seq](db::Database& db) {
        return store::AuditRowsBeyond(db, held, after_seq, kMergeBatch);
      },
      [this, channel, tops, then,
       alive = lifetime_.Token()](Result<std::vector<store::AuditRow>> rows) {
        if (alive.expired()) return;
        if (!rows) return EndSync(Context(rows.error(), "reading the audit rows to merge"));
        if (rows->empty()) return MergeClients(channel, "", then);
        json batch = json::array();
        int64_t last = 0;
        size_t bytes = 0;
        for (const store::AuditRow& row : *rows) {
          json one = AuditRowJson(row);
          bytes += one.dump().size() + 1;
          if (!batch.empty() && bytes > kMaxMergeBatchBytes) break;
          batch.push_back(std::move(one));
          last = row.seq;
        }
        channel->Call("merge", {{"audit", std::move(batch)}},
                      [this, channel, tops, last, then, alive](Result<json> merged) {
                        if (alive.expired()) return;
                        if (!merged) return EndSync(Context(merged.error(), "merging audit rows"));
                        merged_rows_ += merged->value("audit_inserted", uint64_t{0});
                        MergeAudit(channel, tops, last, then);
                      });
      });
}

void PairService::MergeClients(const std::shared_ptr<PairChannel>& channel, std::string after_id,
                               std::function<void()> then) {
  const int64_t since = state_.merge_since_ms.value_or(0);
  host_.store->Submit<std::vector<store::ClientRow>>(
      [since, after_id](db::Database& db) {
        return store::ListClientsSeenSince(db, since, after_id, kMergeBatch);
      },
      [this, channel, then, alive = lifetime_.Token()](Result<std::vector<store::ClientRow>> rows) {
        if (alive.expired()) return;
        if (!rows) return EndSync(Context(rows.error(), "reading the clients to merge"));
        if (rows->empty()) {
          Record("merged", std::to_string(merged_rows_) + " audit rows and " +
                               std::to_string(merged_clients_) +
                               " clients this server had and the primary lacked");
          Save([](State& state) { state.merge_since_ms.reset(); });
          sync_->phase = "snapshot";
          then();
          return;
        }
        json batch = json::array();
        std::string last;
        size_t bytes = 0;
        for (const store::ClientRow& row : *rows) {
          json one = ClientRowJson(row);
          bytes += one.dump().size() + 1;
          if (!batch.empty() && bytes > kMaxMergeBatchBytes) break;
          batch.push_back(std::move(one));
          last = row.id;
        }
        merged_clients_ += batch.size();
        channel->Call("merge", {{"clients", std::move(batch)}},
                      [this, channel, last, then, alive](Result<json> merged) {
                        if (alive.expired()) return;
                        if (!merged) return EndSync(Context(merged.error(), "merging clients"));
                        MergeClients(channel, last, then);
                      });
      });
}

void PairService::FetchSnapshot(const std::shared_ptr<PairChannel>& channel, json snapshot) {
  const std::string name = snapshot.value("name", "");
  const uint64_t size = snapshot.value("size", uint64_t{0});
  const std::string sha256 = snapshot.value("sha256", "");
  if (name.empty() || name.find('/') != std::string::npos || !IsSha256Hex(sha256)) {
    return EndSync(Fail(Errc::kProtocol, "the primary described its snapshot badly"));
  }
  sync_site_version_ = snapshot.value("site_version", "");
  if (auto made = EnsureDir(files_.incoming_dir(), 0700); !made) return EndSync(Fail(made.error()));
  // Named by content, so only the same snapshot is ever resumed; other files are earlier
  // snapshots the primary no longer has.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(files_.incoming_dir(), ec)) {
    const std::string file = entry.path().filename().string();
    if (entry.is_regular_file() && file != sha256 + ".part") fs::remove(entry.path(), ec);
  }
  const std::string part = files_.incoming_dir() + "/" + sha256 + ".part";
  uint64_t have = std::min(FileSizeOr0(part), size);
  auto sink = FileSink::Open(part, have);
  if (!sink) return EndSync(Fail(sink.error()));
  sync_->phase = "fetch";
  sync_->done = have;
  sync_->total = size;
  sync_snapshot_name_ = sha256;
  if (have > 0)
    Log("pair")->info("sync resumes the snapshot {} at {} of {} bytes", name, have, size);
  channel->Fetch(
      "fetch", {{"what", "snapshot"}, {"name", name}, {"offset", have}},
      [this, sink = *sink](uint64_t offset, ByteView data) -> Status {
        if (auto written = sink->Write(offset, data); !written) return written;
        sync_bytes_ += data.size();
        if (sync_) sync_->done = sink->size();
        TestKillPoint("snapshot");
        return {};
      },
      [this, sink = *sink, part, size, sha256, channel,
       alive = lifetime_.Token()](Result<json> fetched) {
        if (alive.expired()) return;
        if (!fetched) return EndSync(Context(fetched.error(), "fetching the snapshot"));
        if (sink->size() != size) {
          return EndSync(Fail(Errc::kCorrupt, "the snapshot arrived with " +
                                                  std::to_string(sink->size()) + " of " +
                                                  std::to_string(size) + " bytes"));
        }
        if (auto synced = sink->Sync(); !synced) return EndSync(Fail(synced.error()));
        sync_->phase = "verify";
        worker_.Run<std::vector<std::string>>(
            [part, sha256]() -> Result<std::vector<std::string>> {
              auto actual = crypto::Sha256FileHex(part);
              if (!actual) return Fail(actual.error());
              if (*actual != sha256) {
                (void)RemoveAll(part);
                return Fail(Errc::kCorrupt,
                            "the snapshot's SHA-256 does not match; fetched again next time");
              }
              auto manifest = backup::InspectBackup(part, "");
              if (!manifest) return Fail(manifest.error());
              std::vector<std::string> packages;
              for (const backup::OmittedFile& file : manifest->omitted) {
                if (file.reason == "package" && IsSha256Hex(file.sha256))
                  packages.push_back(file.sha256);
              }
              return packages;
            },
            [this, channel, alive](Result<std::vector<std::string>> packages) {
              if (alive.expired()) return;
              if (!packages) return EndSync(Context(packages.error(), "verifying the snapshot"));
              std::vector<std::string> missing;
              const std::string fetched_dir = files_.incoming_dir() + "/packages";
              for (const std::string& sha : *packages) {
                std::error_code ec;
                if (!fs::exists(host_.data_root + "/packages/" + sha, ec) &&
                    !fs::exists(fetched_dir + "/" + sha, ec)) {
                  missing.push_back(sha);
                }
              }
              FetchPackages(channel, std::move(missing), std::move(*packages));
            });
      });
}

void PairService::FetchPackages(const std::shared_ptr<PairChannel>& channel,
                                std::vector<std::string> missing, std::vector<std::string> all) {
  if (missing.empty()) {
    StageAndCommit(std::move(all));
    return;
  }
  const std::string sha = missing.back();
  missing.pop_back();
  const std::string dir = files_.incoming_dir() + "/packages";
  if (auto made = EnsureDir(dir, 0700); !made) return EndSync(Fail(made.error()));
  const std::string part = dir + "/" + sha + ".part";
  auto sink = FileSink::Open(part, 0);
  if (!sink) return EndSync(Fail(sink.error()));
  sync_->phase = "packages";
  channel->Fetch(
      "fetch", {{"what", "package"}, {"name", sha}, {"offset", 0}},
      [this, sink = *sink](uint64_t offset, ByteView data) -> Status {
        sync_bytes_ += data.size();
        if (auto written = sink->Write(offset, data); !written) return written;
        TestKillPoint("package");
        return {};
      },
      [this, sink = *sink, part, dir, sha, channel, missing = std::move(missing),
       all = std::move(all), alive = lifetime_.Token()](Result<json> fetched) mutable {
        if (alive.expired()) return;
        if (!fetched) return EndSync(Context(fetched.error(), "fetching package " + sha));
        if (auto synced = sink->Sync(); !synced) return EndSync(Fail(synced.error()));
        // Hashing a package of any size is worker work, not the loop's.
        worker_.Run<bool>(
            [part, dir, sha]() -> Result<bool> {
              auto actual = crypto::Sha256FileHex(part);
              if (!actual || *actual != sha) {
                return Fail(Errc::kCorrupt, "package " + sha + " arrived damaged");
              }
              if (auto moved = RenameDurably(part, dir + "/" + sha); !moved)
                return Fail(moved.error());
              return true;
            },
            [this, channel, missing = std::move(missing), all = std::move(all),
             alive](Result<bool> verified) mutable {
              if (alive.expired()) return;
              if (!verified) return EndSync(Fail(verified.error()));
              ++sync_packages_;
              FetchPackages(channel, std::move(missing), std::move(all));
            });
      });
}

void PairService::StageAndCommit(std::vector<std::string> packages) {
  sync_->phase = "stage";
  const std::string file = files_.incoming_dir() + "/" + sync_snapshot_name_ + ".part";
  worker_.Run<std::string>(
      [root = host_.data_root, file, packages = std::move(packages),
       fetched = files_.incoming_dir() + "/packages"]() {
        return backup::StageSync(root, file, packages, fetched);
      },
      [this, alive = lifetime_.Token()](Result<std::string> staging) {
        if (alive.expired()) return;
        if (!staging) return EndSync(Context(staging.error(), "staging the sync"));
        staged_ = *staging;
        TestKillPoint("staged");
        const int64_t now = host_.clock->WallMs();
        EndSync(SyncRecord{.finished_ms = now,
                           .duration_ms = now - sync_->started_ms,
                           .bytes = sync_bytes_,
                           .packages = sync_packages_,
                           .site_version = sync_site_version_});
      });
}

void PairService::EndSync(Result<SyncRecord> result) {
  if (result) {
    Log("pair")->info("sync done: {} bytes, {} packages, {} ms; applying it", result->bytes,
                      result->packages, result->duration_ms);
    // Recorded when applied (RestartWith): a status showing it means the data is there.
    synced_ = *result;
    // The primary shows it too.
    if (sync_channel_ && !sync_channel_->closed()) {
      sync_channel_->Call("synced", SyncJson(*result),
                          [channel = sync_channel_](Result<json>) { channel->Close(); });
    }
  } else {
    Record("sync_failed", result.error().message());
    if (sync_channel_) sync_channel_->Close();
  }
  sync_channel_.reset();
  sync_.reset();
  auto waiters = std::move(sync_waiters_);
  sync_waiters_.clear();
  for (auto& waiter : waiters) waiter(result);
}

}  // namespace sluice::pair
