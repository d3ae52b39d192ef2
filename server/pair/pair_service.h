#pragma once
// This server's side of a failover pair (docs/admin.md, "Failover pair"): the admin commands
// (set-key, establish, status, break, sync-now, become-primary), the requests the peer sends
// over pair connections (pair_channel.h), and the backup's syncs.
//
// The role is read once at start and fixed for the process: a role change, and the apply of a
// sync on the backup, end in Host::restart, and the server comes up again in its new state (one
// wiring model: every service learns the role from the server's start). A backup serves no
// clients, runs no throttle and writes nothing of its own into the synced database.
//
// A sync on the backup: ask the primary for a snapshot (a backup file it makes of itself),
// fetch it into pair/incoming (resumed from what is there), verify it, fetch the packages it
// names that this server lacks, stage it like a restore, then restart: the staged state is
// committed once the database is closed (restore_journal.h), so a crash at any point leaves the
// previous synced state or the new one.

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "common/uv/worker_thread.h"
#include "server/pair/pair_channel.h"
#include "server/pair/pair_state.h"
#include "server/store/store.h"

namespace sluice::pair {

struct PairOptions {
  // The backup's first sync after the relationship is made (60 s in production).
  int64_t first_sync_delay_ms = 60'000;
  // A failed sync is tried again after this long.
  int64_t retry_ms = 60'000;
  // How long a takeover that did not bring every lease grants nothing (the lease lifetime).
  int64_t lease_ttl_ms = 120'000;
  // How often a primary looks at its peer (a peer that took over makes it step down).
  int64_t probe_ms = 30'000;
};

class PairService final : public RequestHandler {
 public:
  static constexpr int kConnectRetries = 10;
  struct Host {
    uv::Loop* loop = nullptr;
    store::Store* store = nullptr;
    Clock* clock = nullptr;
    std::string data_root{};  // absolute
    // The HOST:PORT written into client configurations: the site's shared name, which may not
    // be used as a pair address.
    std::string advertised{};
    std::function<std::string()> site_version{};
    std::function<int()> sync_every_minutes{};
    // Ends the server and starts it again; `after_close` runs once its database is closed (a
    // sync's commit) and may fail (the server then stops and says why).
    std::function<void(std::function<Status()> after_close)> restart{};
    // The primary hands over: no more grants, clients refused and sent away (not_primary).
    std::function<void()> stop_client_work{};
    // A primary starts with grants held until it has looked at its peer (which may have taken
    // over while this server was away); then this releases them (respecting a takeover fence).
    std::function<void()> confirmed_primary{};
  };

  // Reads pair/ (made if missing). Errors: kIo, kCorrupt for an unreadable state file.
  [[nodiscard]] static Result<std::unique_ptr<PairService>> Open(Host host, PairOptions options);
  ~PairService() override;

  Role role() const { return state_.role; }
  // False on a backup and on a primary handing over: clients are answered not_primary.
  bool serves_clients() const { return state_.role != Role::kBackup && !handing_over_; }
  // Grants are held until then after a takeover that did not bring every lease (0: none).
  int64_t grant_fence_until_ms() const { return state_.grant_fence_until_ms; }
  // A synced copy that starts writing (after a takeover or a break) moves its audit and lease
  // ids to a new range first (store/pair_repo.h). Startup only, before the throttle loads
  // (blocks on the store).
  [[nodiscard]] Status ApplyPendingIdRange();
  // Starts the backup's sync timer and the primary's probe. Loop thread, after the server is up.
  void Start();

  // The listening side of a pair connection (the client port routes sluice-pair/1 here).
  std::shared_ptr<PairChannel> Accept(net::TlsConnection& connection);

  using Done = std::function<void(Result<nlohmann::json>)>;
  // --- Admin commands (server/admin/pair_commands.h); each answers once. ---
  [[nodiscard]] Status SetKey(const std::string& key);
  void Establish(const std::string& peer, const std::string& reverse, Done done);
  void ShowStatus(Done done);
  void Break(Done done);
  void SyncNow(Done done);
  void BecomePrimary(bool sync_first, bool force, Done done);

  // --- For the guided pair upgrade (pair_upgrade.h). ---
  const State& state() const { return state_; }
  // The peer's `hello` (reachable even while the pair is broken: the key still holds).
  void PeerHello(Done done);
  // A line in the relationship's history (and the log).
  void RecordEvent(std::string event, std::string detail) {
    Record(std::move(event), std::move(detail));
  }

  void OnPairRequest(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                     const std::string& op, const nlohmann::json& body) override;

 private:
  struct SyncProgress {
    std::string phase{};  // snapshot, fetch, packages, stage
    uint64_t done = 0;
    uint64_t total = 0;
    int64_t started_ms = 0;
  };
  struct Snapshot {  // the primary's latest, served to its backup
    std::string name{};
    uint64_t size = 0;
    std::string sha256{};
    int64_t made_ms = 0;
  };

  PairService(Host host, PairOptions options, PairFiles files, State state);
  [[nodiscard]] Result<ChannelIdentity> Identity() const;
  // Dials the peer and proves the key; a refused connection is tried `retries` more times.
  void Connect(const std::string& address,
               std::function<void(Result<std::shared_ptr<PairChannel>>)> ready,
               int retries = kConnectRetries);
  void Save(const std::function<void(State&)>& change);
  void Record(std::string event, std::string detail);
  nlohmann::json StatusJson() const;
  [[nodiscard]] bool FromPeer(const PairChannel& channel) const;

  // Peer requests.
  void ServeHello(const std::shared_ptr<PairChannel>& channel, uint64_t id);
  void ServeEstablish(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                      const nlohmann::json& body);
  void ServeSnapshot(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                     const nlohmann::json& body);
  void ServeFetch(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                  const nlohmann::json& body);
  void ServeBecomeBackup(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                         const nlohmann::json& body);

  // The backup's sync, in steps; `finished` runs once with the sync's record or why it failed.
  void ScheduleSync();
  void RunSync(std::function<void(Result<SyncRecord>)> finished);
  void RequestSnapshot(const std::shared_ptr<PairChannel>& channel);
  // Sends this backup's writes the primary lacks (State::merge_since_ms), then `then`.
  void Merge(const std::shared_ptr<PairChannel>& channel, std::function<void()> then);
  void MergeAudit(const std::shared_ptr<PairChannel>& channel, nlohmann::json tops,
                  int64_t after_seq, std::function<void()> then);
  void MergeClients(const std::shared_ptr<PairChannel>& channel, std::string after_id,
                    std::function<void()> then);
  void ServeMerge(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                  const nlohmann::json& body);
  // When this server, becoming a backup of `primary_id`, holds writes to merge: the time its
  // data last matched the primary's (minus a margin), or nullopt for nothing to merge.
  std::optional<int64_t> MergeSince(const std::string& primary_id) const;
  void FetchSnapshot(const std::shared_ptr<PairChannel>& channel, nlohmann::json snapshot);
  void FetchPackages(const std::shared_ptr<PairChannel>& channel, std::vector<std::string> missing,
                     std::vector<std::string> all);
  void StageAndCommit(std::vector<std::string> packages);
  void EndSync(Result<SyncRecord> result);
  // Applies what a sync staged (if any) and the state `change` by restarting the server.
  void RestartWith(std::optional<std::string> staging, const std::function<void(State&)>& change,
                   std::string restart_reason);
  void TakeOver(bool all_leases, std::string why, Done done);
  // A primary that finds its peer took over steps down; otherwise (and when the peer cannot be
  // reached) it confirms itself once, releasing its grants.
  void Probe();
  bool confirmed_ = false;
  // Dials the peer, sends one request and closes: `done` gets the answer or why not.
  void AskPeer(const std::string& op, const nlohmann::json& body, int retries, Done done);
  // The relationship ends here (a break from either side); a backup restarts to serve alone.
  void EndRelationship(const std::string& detail);

  Host host_;
  PairOptions options_;
  PairFiles files_;
  State state_;
  bool handing_over_ = false;
  bool restarting_ = false;
  std::optional<State> restart_state_;  // what the pending restart writes
  std::optional<Snapshot> snapshot_;
  std::vector<Done> snapshot_waiters_;  // requests waiting for the snapshot being made
  bool making_snapshot_ = false;
  // The backup's sync in progress.
  std::optional<SyncProgress> sync_;
  std::vector<std::function<void(Result<SyncRecord>)>> sync_waiters_;
  std::shared_ptr<PairChannel> sync_channel_;
  std::string sync_snapshot_name_;
  uint64_t sync_bytes_ = 0;
  uint64_t sync_packages_ = 0;
  std::string sync_site_version_;
  uint64_t merged_rows_ = 0;
  uint64_t merged_clients_ = 0;
  std::optional<std::string> staged_;  // a staging dir ready to commit
  std::optional<SyncRecord> synced_;   // what staged_ holds, recorded once applied
  uv::HandlePtr<uv::Timer> sync_timer_;
  uv::HandlePtr<uv::Timer> probe_timer_;
  uv::HandlePtr<uv::Timer> restart_timer_;
  std::vector<uv::HandlePtr<uv::Timer>> retry_timers_;  // Connect's pending retries
  // Every channel opened or accepted, closed when this service goes (a restart reuses the loop).
  std::vector<std::weak_ptr<PairChannel>> channels_;
  uv::WorkerThread worker_;
  uv::Lifetime lifetime_;
};

}  // namespace sluice::pair
