#pragma once
// What a server knows about its failover pair (docs/admin.md, "Failover pair"), kept in
// DATA_DIR/pair/ — a server-owned folder, so neither a backup nor a sync ever carries it:
//   pair/server-id   this data dir's random identity (made once)
//   pair/psk         the inter-server pre-shared key (0600), set with `pair set-key`
//   pair/state.json  the relationship: role, peer, epoch, last sync, history
// Every write is atomic (a crash leaves the old file or the new one).

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::pair {

enum class Role { kNone, kPrimary, kBackup };
std::string_view ToString(Role role);

inline constexpr size_t kMinKeyBytes = 16;
inline constexpr size_t kMaxKeyBytes = 4096;
inline constexpr size_t kHistoryKept = 100;

struct HistoryEntry {
  int64_t at_ms = 0;
  std::string event{};  // established, sync, sync_failed, broken, became_primary, ...
  std::string detail{};
};

struct SyncRecord {
  int64_t finished_ms = 0;
  int64_t duration_ms = 0;
  uint64_t bytes = 0;     // moved over the wire: the snapshot and the packages it lacked
  uint64_t packages = 0;  // packages fetched
  std::string site_version{};
};

struct State {
  Role role = Role::kNone;
  // The other server: where a primary reaches its backup, and where a backup reaches its
  // primary (the "reverse" address given at establish).
  std::string peer{};
  std::string peer_server_id{};
  // Where the peer reaches this server (given at establish), for establishing again.
  std::string self_address{};
  // Grows with every change of the relationship; a peer with an older epoch is out of date.
  uint64_t epoch = 0;
  int64_t established_ms = 0;
  std::optional<SyncRecord> last_sync{};  // the backup's last successful sync
  // After a takeover that did not bring every lease, no upgrade slot is granted before this
  // (docs/admin.md, "The limit across a failover").
  int64_t grant_fence_until_ms = 0;
  // Set when this synced copy is to start writing: the audit event that moves its ids to a new
  // range at the next start (store/pair_repo.h); cleared once done.
  std::string pending_id_range{};
  // Set when this server became a backup holding writes its new primary may lack (it was a
  // primary, or stood alone after a break): its next sync first merges its audit rows and the
  // clients it saw since this time into the primary (docs/admin.md, "Data written while the
  // pair was broken"); cleared once merged.
  std::optional<int64_t> merge_since_ms{};
  std::deque<HistoryEntry> history{};  // oldest first, at most kHistoryKept

  void Record(int64_t at_ms, std::string event, std::string detail);
};

class PairFiles {
 public:
  // Creates DATA_DIR/pair (0700) and the server id when missing. Errors: kIo.
  [[nodiscard]] static Result<PairFiles> Open(const std::string& data_root);

  const std::string& server_id() const { return server_id_; }
  const std::string& dir() const { return dir_; }

  // The pre-shared key; kNotFound when none was set.
  [[nodiscard]] Result<std::string> ReadKey() const;
  // kInvalidArgument unless kMinKeyBytes..kMaxKeyBytes long.
  [[nodiscard]] Status WriteKey(std::string_view key) const;

  // The relationship; a missing file is Role::kNone. kCorrupt for an unreadable file.
  [[nodiscard]] Result<State> ReadState() const;
  [[nodiscard]] Status WriteState(const State& state) const;

  // Where a sync's downloads are kept until applied (resumable across restarts).
  std::string incoming_dir() const { return dir_ + "/incoming"; }
  // Where the primary keeps the snapshots it serves.
  std::string outgoing_dir() const { return dir_ + "/outgoing"; }

 private:
  PairFiles(std::string dir, std::string server_id)
      : dir_(std::move(dir)), server_id_(std::move(server_id)) {}
  std::string dir_;
  std::string server_id_;
};

// Drops the relationship of the data dir at `data_root` (a restore: the restored site stands
// alone), keeping its key and identity. No pair folder: nothing to do.
[[nodiscard]] Status ForgetRelationship(const std::string& data_root);

}  // namespace sluice::pair
