#pragma once
// The client side of an upgrade: download with resume, verify against the signed manifest,
// stage into versions/<V>, switch `current`, health-check the new payload, roll back if it
// fails, and keep the result until the server has acknowledged it.
//
// The lifecycle is the state machine of update_state.h. Every transition is written to
// DIR/update.json before the step's side effect, and every step is idempotent, so a process
// killed at any point finishes or undoes the update in Recover() on its next start:
// `current` always names an installed version (or is absent: the configured installed version).
//
// Synchronous blocking file I/O and a bounded child process; no event loop. Not thread-safe: the
// agent calls it from one thread. Only one Updater may use a state dir at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/state/state_dir.h"
#include "client/update/part_file.h"
#include "client/update/stager.h"
#include "client/update/update_record.h"
#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/proto/messages.h"

namespace sluice::client {

struct UpdaterOptions {
  std::string state_dir{};
  std::string installed_version{};  // from the client config, for clients never upgraded
  Bytes site_public_key{};          // pinned Ed25519 key (32 bytes)
  std::string payload_name = "sluice-client";
  // Health check of the NEW version: "{payload}" in any argument becomes the staged payload's
  // absolute path.
  std::vector<std::string> health_check = {"{payload}", "--self-test"};
  std::chrono::milliseconds health_timeout{30'000};
  // Health checks started for one version before a check that keeps killing the process
  // counts as failed (the update is then rolled back without running it again).
  uint32_t max_health_attempts = 3;
  // Download progress is fsynced and recorded in update.json at least this often.
  uint64_t progress_sync_bytes = 1 << 20;

  // Fault injection for tests. after_persist(S) runs right after state S is written to
  // update.json, before S's side effect; after_effect(S) right after S's side effect, before the
  // next state is written. Returning false stops the machine there as if the process had died:
  // the caller must then destroy this Updater and Open the state dir again.
  std::function<bool(UpdateState)> after_persist{};
  std::function<bool(UpdateState)> after_effect{};
};

class Updater {
 public:
  // Creates the state dir if needed and loads update.json (a corrupt one is set aside as
  // update.json.corrupt and treated as idle). Does not resume anything: call Recover().
  // Errc::kInvalidArgument for a key that is not 32 bytes, an empty health check or a bad
  // payload name; kIo if the state dir cannot be created.
  [[nodiscard]] static Result<std::unique_ptr<Updater>> Open(UpdaterOptions options);
  ~Updater();
  Updater(const Updater&) = delete;
  Updater& operator=(const Updater&) = delete;

  // A grant arrived. Verifies the manifest's signature with the pinned key, that its fields are
  // sane and match the grant, and that it is not the running version nor older than it (unless
  // the manifest allows a downgrade). Returns the offset to request: the size of the partial
  // download kept for the same package (same sha256 and size, under this or an earlier lease),
  // else 0. A grant replaces an unfinished download of another package and drops an
  // undelivered report, except a repeated grant for the finished lease: that returns the
  // package size, and Apply() then returns the pending report unchanged. Errors (the agent reports
  // verify_failed with the message): kCrypto for a bad signature, kCorrupt for bad or mismatched
  // fields, kInvalidArgument for a refused version, kInternal while an apply awaits Recover(), kIo
  // for file-system failures.
  [[nodiscard]] Result<uint64_t> BeginDownload(const proto::UpgradeGrant& grant);

  // Appends one chunk of the granted package. Returns true once the package's declared size
  // is reached. Errc::kProtocol if no download is open, the lease differs, the chunk is not at
  // the current offset or the package is already complete; kIo if writing fails.
  [[nodiscard]] Result<bool> AddChunk(const proto::Chunk& chunk);

  // After the last chunk: verifies size and SHA-256 (a mismatch deletes the .part and yields
  // verify_failed with versions/ and `current` untouched), stages into versions/<V>, switches
  // `current`, runs the health check and rolls back if it fails. Returns the outcome to report
  // (applied / verify_failed / apply_failed / rolled_back), which stays pending until
  // ReportDelivered. Blocks for at most about health_timeout plus the file work. Never throws.
  // If update.json cannot be written the machine stops where it was recorded and this returns
  // apply_failed naming the reason; Recover() carries on from the recorded state later.
  proto::UpgradeResult Apply();

  // On startup: finishes or undoes what a killed process left half-done (an interrupted apply
  // is driven to applied or rolled back; a download is kept for resume). Returns the result
  // still to be reported to the server, if any.
  std::optional<proto::UpgradeResult> Recover();

  // The server acknowledged the report for `lease_id`: forget it. Other leases are ignored.
  // A failure to record this is logged; the report is then offered again after a restart.
  void ReportDelivered(uint64_t lease_id);

  // The finished update's result while it awaits acknowledgement.
  std::optional<proto::UpgradeResult> PendingReport() const;

  // The version this client runs: `current`'s target, else the configured installed version.
  std::string CurrentVersion() const;

  // The persisted record, for diagnostics and tests.
  const UpdateRecord& record() const { return record_; }

 private:
  // What one step's side effect led to.
  struct StepResult {
    UpdateEvent event;
    std::optional<proto::UpgradeOutcome> outcome;  // set when the step decides the outcome
    std::string detail;
  };

  Updater(UpdaterOptions options, StateDir state, UpdateRecord record);

  std::string RecordPath() const;
  std::string DownloadsDir() const;
  std::string PartPath(uint64_t lease_id) const;
  [[nodiscard]] Status Persist(const UpdateRecord& record);
  bool HookAllows(const std::function<bool(UpdateState)>& hook, UpdateState state) const;
  [[nodiscard]] Result<uint64_t> OpenPart(const UpdateRecord& previous, bool resume);
  // Applies `event` to the record, persists it and runs after_persist. An error: stop driving
  // (its message is the report's detail).
  [[nodiscard]] Status Advance(const StepResult& step);
  proto::UpgradeResult Drive();
  proto::UpgradeResult Stopped(std::string detail) const;
  StepResult RunStep(UpdateState state);
  StepResult Verify();
  StepResult Stage();
  StepResult Switch();
  StepResult CheckHealth();
  StepResult RollBack();
  void CleanUpAfter(UpdateState state);
  void RepairCurrentLink();

  UpdaterOptions options_;
  StateDir state_;
  Stager stager_;
  UpdateRecord record_;
  std::optional<PartFile> part_;
};

}  // namespace sluice::client
