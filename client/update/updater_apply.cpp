// Updater: Apply, Recover and the steps of the state machine (update_state.h). Each step is the
// side effect of one persisted state and is safe to repeat after a crash.

#include <sys/stat.h>
#include <unistd.h>

#include "client/update/health_check.h"
#include "client/update/updater.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"

namespace sluice::client {
namespace {

using proto::UpgradeOutcome;

// "{payload}" anywhere in an argument becomes `payload`.
std::vector<std::string> HealthArgv(const std::vector<std::string>& pattern,
                                    const std::string& payload) {
  static constexpr std::string_view kPlaceholder = "{payload}";
  std::vector<std::string> argv;
  for (std::string arg : pattern) {
    for (size_t at = arg.find(kPlaceholder); at != std::string::npos;
         at = arg.find(kPlaceholder, at + payload.size())) {
      arg.replace(at, kPlaceholder.size(), payload);
    }
    argv.push_back(std::move(arg));
  }
  return argv;
}

// Lowercase hex SHA-256 of a file, or the read error.
Result<std::string> FileDigest(const std::string& path) {
  auto digest = crypto::Sha256File(path);
  if (!digest) return Fail(digest.error());
  return crypto::HexEncode(*digest);
}

}  // namespace

proto::UpgradeResult Updater::Apply() {
  if (IsFinished(record_.state)) return *PendingReport();
  if (record_.state == UpdateState::kDownloading) {
    if (part_) {
      (void)part_->Sync();  // verification reads the file back either way
      part_.reset();
    }
    if (auto advanced = Advance({UpdateEvent::kApply, std::nullopt, ""}); !advanced) {
      return Stopped(advanced.error().message());
    }
  } else if (!IsApplying(record_.state)) {
    return proto::UpgradeResult{.lease_id = 0,
                                .version = "",
                                .outcome = UpgradeOutcome::kApplyFailed,
                                .detail = "no download to apply"};
  }
  return Drive();
}

std::optional<proto::UpgradeResult> Updater::Recover() {
  if (IsApplying(record_.state)) {
    Log("update")->info("resuming interrupted update lease={} version={} state={}",
                        record_.lease_id, record_.version, ToString(record_.state));
    Drive();
  } else if (IsFinished(record_.state)) {
    CleanUpAfter(record_.state);  // in case the process died before the cleanup
  }
  if (!IsApplying(record_.state)) RepairCurrentLink();
  return PendingReport();
}

proto::UpgradeResult Updater::Drive() {
  while (IsApplying(record_.state)) {
    const UpdateState state = record_.state;
    StepResult step = RunStep(state);
    if (!HookAllows(options_.after_effect, state)) {
      return Stopped("stopped by test hook after " + std::string(ToString(state)));
    }
    if (auto advanced = Advance(step); !advanced) return Stopped(advanced.error().message());
  }
  CleanUpAfter(record_.state);
  if (auto report = PendingReport()) return *report;
  return Stopped("update ended without an outcome");
}

Status Updater::Advance(const StepResult& step) {
  auto to = Transition(record_.state, step.event);
  if (!to) return Fail(to.error());
  UpdateRecord next = record_;
  next.state = *to;
  if (step.outcome) {
    next.outcome = step.outcome;
    next.detail = step.detail;
  }
  if (*to == UpdateState::kCheckingHealth) next.health_attempts = 0;
  Log("update")->info("lease={} version={} {} --{}--> {}{}{}", record_.lease_id, record_.version,
                      ToString(record_.state), ToString(step.event), ToString(*to),
                      step.detail.empty() ? "" : " detail=", step.detail);
  if (auto saved = Persist(next); !saved)
    return Context(saved.error(), "cannot record update state");
  if (!HookAllows(options_.after_persist, *to)) {
    return Fail(Errc::kClosed,
                "stopped by test hook after persisting " + std::string(ToString(*to)));
  }
  return {};
}

// The caller gets apply_failed; update.json still holds the last recorded state, and Recover()
// takes over from there on the next start.
proto::UpgradeResult Updater::Stopped(std::string detail) const {
  return proto::UpgradeResult{.lease_id = record_.lease_id,
                              .version = record_.version,
                              .outcome = UpgradeOutcome::kApplyFailed,
                              .detail = std::move(detail)};
}

Updater::StepResult Updater::RunStep(UpdateState state) {
  switch (state) {
    case UpdateState::kVerifying:
      return Verify();
    case UpdateState::kStaging:
      return Stage();
    case UpdateState::kSwitched:
      return Switch();
    case UpdateState::kCheckingHealth:
      return CheckHealth();
    case UpdateState::kRollingBack:
      return RollBack();
    default:
      return {UpdateEvent::kStepFailed, UpgradeOutcome::kApplyFailed,
              "no step for state " + std::string(ToString(state))};
  }
}

Updater::StepResult Updater::Verify() {
  const std::string part = PartPath(record_.lease_id);
  auto reject = [&](std::string why) {
    (void)RemoveAll(part);
    return StepResult{UpdateEvent::kStepFailed, UpgradeOutcome::kVerifyFailed, std::move(why)};
  };
  struct stat st {};
  if (::stat(part.c_str(), &st) != 0) return reject("the downloaded package is missing");
  if (static_cast<uint64_t>(st.st_size) != record_.size) {
    return reject("package is " + std::to_string(st.st_size) + " bytes, the manifest says " +
                  std::to_string(record_.size));
  }
  auto digest = FileDigest(part);
  if (!digest) return reject("reading the package: " + digest.error().message());
  if (*digest != record_.sha256) {
    return reject("package SHA-256 " + *digest + " does not match the manifest's " +
                  record_.sha256);
  }
  return {UpdateEvent::kStepOk, std::nullopt, ""};
}

Updater::StepResult Updater::Stage() {
  const std::string part = PartPath(record_.lease_id);
  const bool moved_before = ::access(part.c_str(), F_OK) != 0;
  auto fail = [&](std::string why) {
    (void)stager_.RemoveVersion(record_.version);
    return StepResult{UpdateEvent::kStepFailed, UpgradeOutcome::kApplyFailed, std::move(why)};
  };
  if (auto staged = stager_.Stage(part, record_.version); !staged) {
    return fail("staging: " + staged.error().message());
  }
  if (moved_before) {
    // A repeated step: make sure what sits in versions/<V> is still the verified package.
    auto digest = FileDigest(stager_.PayloadPath(record_.version));
    if (!digest || *digest != record_.sha256) {
      return fail("staged payload no longer matches the manifest");
    }
  }
  return {UpdateEvent::kStepOk, std::nullopt, ""};
}

Updater::StepResult Updater::Switch() {
  if (auto switched = stager_.Switch(record_.version); !switched) {
    return {UpdateEvent::kUnhealthy, UpgradeOutcome::kApplyFailed,
            "switching current: " + switched.error().message()};
  }
  return {UpdateEvent::kStepOk, std::nullopt, ""};
}

Updater::StepResult Updater::CheckHealth() {
  if (record_.health_attempts >= options_.max_health_attempts) {
    return {UpdateEvent::kUnhealthy, UpgradeOutcome::kRolledBack,
            "health check never completed in " + std::to_string(record_.health_attempts) +
                " attempts (the process died during it)"};
  }
  UpdateRecord attempt = record_;
  ++attempt.health_attempts;
  if (auto saved = Persist(attempt); !saved) {
    return {UpdateEvent::kUnhealthy, UpgradeOutcome::kApplyFailed,
            "cannot record the health check: " + saved.error().message()};
  }
  const auto argv = HealthArgv(options_.health_check, stager_.PayloadPath(record_.version));
  if (auto healthy = RunHealthCheck({.argv = argv, .timeout = options_.health_timeout}); !healthy) {
    return {UpdateEvent::kUnhealthy, UpgradeOutcome::kRolledBack, healthy.error().message()};
  }
  return {UpdateEvent::kHealthy, UpgradeOutcome::kApplied, ""};
}

Updater::StepResult Updater::RollBack() {
  const std::string& previous = record_.previous_version;
  // Back to the previous installed folder, or to no link at all: the configured version.
  Status back = stager_.HasVersion(previous) ? stager_.Switch(previous) : stager_.RemoveCurrent();
  if (back) back = stager_.RemoveVersion(record_.version);
  if (!back) {
    return {UpdateEvent::kRollbackFailed, UpgradeOutcome::kApplyFailed,
            record_.detail + "; rollback failed: " + back.error().message()};
  }
  return {UpdateEvent::kStepOk, std::nullopt, ""};
}

// Best effort after a finished update: stale downloads go, and versions other than the one
// running and the one before it are pruned.
void Updater::CleanUpAfter(UpdateState state) {
  Status cleaned = RemoveAll(DownloadsDir());
  if (cleaned && state == UpdateState::kDone) {
    cleaned = stager_.PruneExcept({record_.version, record_.previous_version});
  }
  if (!cleaned) {
    Log("update")->warn("cleanup after update lease={} failed: {}", record_.lease_id,
                        cleaned.error().ToString());
  }
}

// A `current` that names no installed folder (removed by hand, or a foreign crash) would hide
// the configured version behind a dangling link: drop it.
void Updater::RepairCurrentLink() {
  auto target = stager_.CurrentTarget();
  if (!target || stager_.HasVersion(*target)) return;
  Log("update")->warn("removing dangling current link target={}", *target);
  if (auto removed = stager_.RemoveCurrent(); !removed) {
    Log("update")->warn("could not remove dangling current link: {}", removed.error().ToString());
  }
}

}  // namespace sluice::client
