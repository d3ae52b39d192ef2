// The primary's side of a sync (pair_service.h): the snapshot it makes of itself, the files
// its backup fetches, and the rows a backup merges into it.

#include <filesystem>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/hash.h"
#include "server/backup/backup_create.h"
#include "server/pair/pair_json.h"
#include "server/pair/pair_service.h"
#include "server/pair/test_kill_point.h"
#include "server/store/client_repo.h"
#include "server/store/pair_repo.h"

namespace sluice::pair {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A snapshot younger than this is served again to a backup resuming its fetch.
constexpr int64_t kSnapshotReuseMs = 3600 * 1000;

}  // namespace

void PairService::ServeSnapshot(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                                const json& body) {
  if (state_.role != Role::kPrimary) {
    channel->Reply(id, Fail(Errc::kInvalidArgument, "this server is not the primary"));
    return;
  }
  auto answer = [](const Snapshot& snapshot, const std::string& site_version) {
    return json{{"name", snapshot.name},
                {"size", snapshot.size},
                {"sha256", snapshot.sha256},
                {"site_version", site_version}};
  };
  const std::string resume = body.value("resume", "");
  const int64_t now = host_.clock->WallMs();
  if (snapshot_ && !resume.empty() && resume == snapshot_->sha256 &&
      now - snapshot_->made_ms < kSnapshotReuseMs && !handing_over_) {
    channel->Reply(id, answer(*snapshot_, host_.site_version()));
    return;
  }
  snapshot_waiters_.push_back([channel, id](Result<json> made) { channel->Reply(id, made); });
  if (making_snapshot_) return;
  making_snapshot_ = true;
  const std::string out_dir = files_.outgoing_dir();
  worker_.Run<Snapshot>(
      [store = host_.store, root = host_.data_root, out_dir, now,
       cancel = &worker_.cancelled()]() -> Result<Snapshot> {
        // Only the newest snapshot is kept.
        (void)RemoveAll(out_dir);
        backup::BackupProgress progress;
        auto made = backup::CreateBackup(*store,
                                         backup::BackupOptions{.data_root = root,
                                                               .out_dir = out_dir,
                                                               .password = "",
                                                               .history = true,
                                                               .now_ms = now,
                                                               .scrypt = {}},
                                         progress, *cancel);
        if (!made) return Fail(made.error());
        auto sha = crypto::Sha256FileHex(made->path);
        if (!sha) return Fail(sha.error());
        return Snapshot{.name = fs::path(made->path).filename().string(),
                        .size = made->size,
                        .sha256 = *sha,
                        .made_ms = now};
      },
      [this, answer, alive = lifetime_.Token()](Result<Snapshot> made) {
        if (alive.expired()) return;
        making_snapshot_ = false;
        if (made) {
          snapshot_ = *made;
          Log("pair")->info("snapshot for the backup: {} ({} bytes)", made->name, made->size);
        }
        auto waiters = std::move(snapshot_waiters_);
        snapshot_waiters_.clear();
        for (auto& waiter : waiters) {
          waiter(made ? Result<json>(answer(*made, host_.site_version())) : Fail(made.error()));
        }
      });
}

void PairService::ServeFetch(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                             const json& body) {
  const std::string what = body.value("what", "");
  const std::string name = body.value("name", "");
  const uint64_t offset = body.value("offset", uint64_t{0});
  std::string path;
  if (what == "snapshot" && snapshot_ && name == snapshot_->name) {
    path = files_.outgoing_dir() + "/" + name;
  } else if (what == "package" && IsSha256Hex(name)) {
    TestKillPoint("serve");
    path = host_.data_root + "/packages/" + name;
  } else {
    channel->Reply(id, Fail(Errc::kNotFound, "no " + what + " '" + name + "' to fetch"));
    return;
  }
  channel->SendFile(id, path, offset, json{{"size", FileSizeOr0(path)}});
}

void PairService::ServeMerge(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                             const json& body) {
  std::vector<store::AuditRow> audit;
  std::vector<store::ClientRow> clients;
  try {
    for (const json& row : body.value("audit", json::array()))
      audit.push_back(AuditRowFromJson(row));
    for (const json& row : body.value("clients", json::array())) {
      clients.push_back(ClientRowFromJson(row));
    }
  } catch (const json::exception& e) {
    channel->Reply(id, Fail(Errc::kProtocol, std::string("a bad merge batch: ") + e.what()));
    return;
  }
  host_.store->Submit<int>(
      [audit = std::move(audit), clients = std::move(clients)](db::Database& db) -> Result<int> {
        for (const store::ClientRow& client : clients) {
          if (auto merged = store::MergeClient(db, client); !merged) return Fail(merged.error());
        }
        return store::InsertAuditRows(db, audit);
      },
      [channel, id](Result<int> inserted) {
        if (!inserted) {
          channel->Reply(id, Fail(inserted.error()));
          return;
        }
        channel->Reply(id, json{{"audit_inserted", *inserted}});
      });
}

}  // namespace sluice::pair
