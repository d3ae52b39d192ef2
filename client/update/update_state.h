#pragma once
// The client update state machine as one table: (state, event) -> state.
//
// A state names the step the updater is in. The updater persists the new state in update.json
// *before* doing the step's side effect, and every side effect is idempotent, so a process killed
// anywhere resumes by re-running the persisted state's step (Updater::Recover).
//
//   idle --grant--> downloading --apply--> verifying --ok--> staging --ok--> switched
//   switched --ok--> checking_health --healthy--> done
//   checking_health --unhealthy--> rolling_back --ok--> rolled_back
//   verifying/staging --fail--> failed;  switched --fail--> rolling_back
//   done/failed/rolled_back (the report is pending) --report_delivered--> idle
//
// All functions are pure and thread-safe.

#include <optional>
#include <string_view>

#include "common/base/error.h"

namespace sluice::client {

enum class UpdateState {
  kIdle,            // nothing in progress, no report pending
  kDownloading,     // receiving chunks into downloads/<lease>.part
  kVerifying,       // checking the .part's size and SHA-256 against the signed manifest
  kStaging,         // moving the verified payload into versions/<V>/
  kSwitched,        // pointing `current` at versions/<V> (the record says: staged, now switch)
  kCheckingHealth,  // running the new payload's health check
  kRollingBack,     // pointing `current` back at the previous version, removing versions/<V>
  kDone,            // applied; report pending
  kFailed,          // verify_failed / apply_failed without a switch; report pending
  kRolledBack,      // back on the previous version; report pending
};

enum class UpdateEvent {
  kGrant,            // BeginDownload accepted a grant (new or resumed)
  kApply,            // the download is complete; Apply() starts
  kStepOk,           // the current step's side effect succeeded
  kStepFailed,       // verifying or staging failed: nothing was switched
  kHealthy,          // the health check passed
  kUnhealthy,        // the health check failed, hung, or a switch failed: undo
  kRollbackFailed,   // the undo itself failed (I/O): give up with apply_failed
  kReportDelivered,  // the server acknowledged the result
};

std::string_view ToString(UpdateState state);
std::string_view ToString(UpdateEvent event);
// The state whose ToString is `text`, or nullopt.
std::optional<UpdateState> ParseUpdateState(std::string_view text);

// The state `event` leads to from `state`. Errc::kInternal naming both if the table has no such
// transition (a programming error or a call in the wrong state).
[[nodiscard]] Result<UpdateState> Transition(UpdateState state, UpdateEvent event);

// done, failed and rolled_back: the update is over and its report waits for delivery.
bool IsFinished(UpdateState state);
// verifying .. rolling_back: Apply()/Recover() must drive the machine on.
bool IsApplying(UpdateState state);

}  // namespace sluice::client
