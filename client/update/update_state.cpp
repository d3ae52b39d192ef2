#include "client/update/update_state.h"

#include <array>
#include <string>
#include <utility>

namespace sluice::client {
namespace {

using S = UpdateState;
using E = UpdateEvent;

struct Row {
  UpdateState from;
  UpdateEvent event;
  UpdateState to;
};

// The whole update lifecycle. Anything not listed is refused by Transition().
constexpr std::array kTable = {
    // A grant starts a download, resumes one, or replaces an undelivered report.
    Row{S::kIdle, E::kGrant, S::kDownloading},
    Row{S::kDownloading, E::kGrant, S::kDownloading},
    Row{S::kDone, E::kGrant, S::kDownloading},
    Row{S::kFailed, E::kGrant, S::kDownloading},
    Row{S::kRolledBack, E::kGrant, S::kDownloading},
    // Apply: verify, stage, switch, check.
    Row{S::kDownloading, E::kApply, S::kVerifying},
    Row{S::kVerifying, E::kStepOk, S::kStaging},
    Row{S::kVerifying, E::kStepFailed, S::kFailed},
    Row{S::kStaging, E::kStepOk, S::kSwitched},
    Row{S::kStaging, E::kStepFailed, S::kFailed},
    Row{S::kSwitched, E::kStepOk, S::kCheckingHealth},
    Row{S::kSwitched, E::kUnhealthy, S::kRollingBack},
    Row{S::kCheckingHealth, E::kHealthy, S::kDone},
    Row{S::kCheckingHealth, E::kUnhealthy, S::kRollingBack},
    // Undo.
    Row{S::kRollingBack, E::kStepOk, S::kRolledBack},
    Row{S::kRollingBack, E::kRollbackFailed, S::kFailed},
    // The server has the report.
    Row{S::kDone, E::kReportDelivered, S::kIdle},
    Row{S::kFailed, E::kReportDelivered, S::kIdle},
    Row{S::kRolledBack, E::kReportDelivered, S::kIdle},
};

constexpr std::array<std::pair<UpdateState, std::string_view>, 10> kStateNames = {{
    {S::kIdle, "idle"},
    {S::kDownloading, "downloading"},
    {S::kVerifying, "verifying"},
    {S::kStaging, "staging"},
    {S::kSwitched, "switched"},
    {S::kCheckingHealth, "checking_health"},
    {S::kRollingBack, "rolling_back"},
    {S::kDone, "done"},
    {S::kFailed, "failed"},
    {S::kRolledBack, "rolled_back"},
}};

constexpr std::array<std::pair<UpdateEvent, std::string_view>, 8> kEventNames = {{
    {E::kGrant, "grant"},
    {E::kApply, "apply"},
    {E::kStepOk, "step_ok"},
    {E::kStepFailed, "step_failed"},
    {E::kHealthy, "healthy"},
    {E::kUnhealthy, "unhealthy"},
    {E::kRollbackFailed, "rollback_failed"},
    {E::kReportDelivered, "report_delivered"},
}};

}  // namespace

std::string_view ToString(UpdateState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "?";
}

std::string_view ToString(UpdateEvent event) {
  for (const auto& [value, name] : kEventNames) {
    if (value == event) return name;
  }
  return "?";
}

std::optional<UpdateState> ParseUpdateState(std::string_view text) {
  for (const auto& [value, name] : kStateNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

Result<UpdateState> Transition(UpdateState state, UpdateEvent event) {
  for (const Row& row : kTable) {
    if (row.from == state && row.event == event) return row.to;
  }
  return Fail(Errc::kInternal, "update state machine: no transition from '" +
                                   std::string(ToString(state)) + "' on '" +
                                   std::string(ToString(event)) + "'");
}

bool IsFinished(UpdateState state) {
  return state == S::kDone || state == S::kFailed || state == S::kRolledBack;
}

bool IsApplying(UpdateState state) {
  return state == S::kVerifying || state == S::kStaging || state == S::kSwitched ||
         state == S::kCheckingHealth || state == S::kRollingBack;
}

}  // namespace sluice::client
