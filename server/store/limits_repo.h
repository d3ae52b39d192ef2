#pragma once
// The throttle's knobs: per-scope max_concurrent (table `limits`, schema v3) and the global
// ones kept in the settings table (settings_repo.h) under these keys:
//   bandwidth_bytes_per_s   upgrade bytes per second shared by all running upgrades; 0 = unlimited
//   connection_rate_per_s   new client connections accepted per second (>= 1)
//   policy.<kind>           auto-upgrade policy: disabled | this-version-only | always
//   policy_version.<kind>   the version "this-version-only" allows ("" otherwise)
//   duration.<scope>        the learned upgrade duration: "<ms> <samples>"
//   canary.<scope>          the canary wave: "N" or "P%" ("" or absent: none)
//   halt_after.<scope>      the failure threshold that halts a rollout: "N" or "P%"
//   rollout_gate.<scope>    the current rollout's gate (sched::RolloutGate::Encode)
//   adaptive.<scope>        the adaptive limit's range: "<min> <max> <check-in p99 target ms>"
//                           ("" or absent: the scope's limit is fixed)
//
// Plain functions over a connection; call them from a store job (or any thread that owns the
// db::Database). Getters fall back to the given default when the knob was never set.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

// Defaults of a site that never changed them.
inline constexpr int kDefaultMaxConcurrent = 20;          // per scope
inline constexpr int64_t kDefaultBandwidthBytesPerS = 0;  // unlimited
inline constexpr int64_t kDefaultConnectionRatePerS = 50;

// Setting keys.
inline constexpr char kBandwidthKey[] = "bandwidth_bytes_per_s";
inline constexpr char kConnectionRateKey[] = "connection_rate_per_s";
std::string PolicyKey(std::string_view kind);         // "policy.<kind>"
std::string PolicyVersionKey(std::string_view kind);  // "policy_version.<kind>"

// --- Per-scope limits. ---

// Every scope's stored max_concurrent. Scopes never set are absent (they run on the default).
// Errors: kDatabase.
[[nodiscard]] Result<std::map<std::string, int>> LoadLimits(db::Database& db);

// Creates or replaces a scope's max_concurrent. Errors: kInvalidArgument for an empty scope or
// max_concurrent < 1; kDatabase.
[[nodiscard]] Status SaveLimit(db::Database& db, std::string_view scope, int max_concurrent);

// --- Global knobs. ---

// Errors (getters): kCorrupt if the stored value is not a non-negative integer; kDatabase.
// Errors (setters): kInvalidArgument for a negative bandwidth or a connection rate below 1;
// kDatabase.
[[nodiscard]] Result<int64_t> GetBandwidthBytesPerS(db::Database& db,
                                                    int64_t fallback = kDefaultBandwidthBytesPerS);
[[nodiscard]] Status SetBandwidthBytesPerS(db::Database& db, int64_t bytes_per_s);
[[nodiscard]] Result<int64_t> GetConnectionRatePerS(db::Database& db,
                                                    int64_t fallback = kDefaultConnectionRatePerS);
[[nodiscard]] Status SetConnectionRatePerS(db::Database& db, int64_t per_s);

// --- Auto-upgrade policy, per client kind. ---

enum class UpgradePolicy { kDisabled, kThisVersionOnly, kAlways };
inline constexpr UpgradePolicy kDefaultUpgradePolicy = UpgradePolicy::kAlways;

// "disabled", "this-version-only", "always".
std::string_view UpgradePolicyName(UpgradePolicy policy);
// Inverse of UpgradePolicyName; nullopt for anything else.
std::optional<UpgradePolicy> ParseUpgradePolicy(std::string_view name);

struct PolicySetting {
  UpgradePolicy mode = kDefaultUpgradePolicy;
  std::string version{};  // for kThisVersionOnly: the one version clients may upgrade to
  bool operator==(const PolicySetting&) const = default;
};

// The policy of `kind`; `fallback` if never set. Errors: kCorrupt for a stored mode that is
// not a policy name; kDatabase.
[[nodiscard]] Result<PolicySetting> GetPolicy(db::Database& db, std::string_view kind,
                                              PolicySetting fallback = {});
// Stores the policy of `kind` (both keys, atomically). Errors: kInvalidArgument for an empty
// kind, or kThisVersionOnly with an empty version; kDatabase.
[[nodiscard]] Status SetPolicy(db::Database& db, std::string_view kind,
                               const PolicySetting& policy);
// Every kind with a stored policy. Errors: kCorrupt; kDatabase.
[[nodiscard]] Result<std::map<std::string, PolicySetting>> LoadPolicies(db::Database& db);

// --- Learned upgrade durations, per scope (the scheduler's estimates). ---

struct DurationRecord {
  int64_t estimate_ms = 0;
  uint64_t samples = 0;  // finished upgrades behind the estimate
  bool operator==(const DurationRecord&) const = default;
};

// Errors: kInvalidArgument for an empty scope or a negative estimate; kDatabase.
[[nodiscard]] Status SaveDuration(db::Database& db, std::string_view scope,
                                  const DurationRecord& duration);
// Every scope with a stored duration. A malformed value is skipped (it is only an estimate).
// Errors: kDatabase.
[[nodiscard]] Result<std::map<std::string, DurationRecord>> LoadDurations(db::Database& db);

// --- Canary waves and automatic halts, per scope. ---

// Every scope's stored wave and threshold (each as typed: "5", "10%"); absent keys are "".
// Errors: kDatabase.
struct GateSettings {
  std::string canary, halt_after;
  bool operator==(const GateSettings&) const = default;
};
[[nodiscard]] Result<std::map<std::string, GateSettings>> LoadGateSettings(db::Database& db);
// Errors: kInvalidArgument for an empty scope; kDatabase.
[[nodiscard]] Status SaveGateSettings(db::Database& db, std::string_view scope,
                                      const GateSettings& settings);
// Every scope's stored gate text. Errors: kDatabase.
[[nodiscard]] Result<std::map<std::string, std::string>> LoadRolloutGates(db::Database& db);
[[nodiscard]] Status SaveRolloutGate(db::Database& db, std::string_view scope,
                                     std::string_view encoded);

// --- The adaptive limit, per scope (sched/adaptive_limit.h). ---

struct AdaptiveSetting {
  int min = 1;
  int max = 1;
  int64_t checkin_p99_target_ms = 500;
  bool operator==(const AdaptiveSetting&) const = default;
};

// Every scope whose limit is adaptive. Errors: kCorrupt naming the key of a malformed value;
// kDatabase.
[[nodiscard]] Result<std::map<std::string, AdaptiveSetting>> LoadAdaptive(db::Database& db);
// Makes the scope's limit adaptive (a setting) or fixed again (nullopt). Errors:
// kInvalidArgument for an empty scope, min < 1, max < min or a target < 1; kDatabase.
[[nodiscard]] Status SaveAdaptive(db::Database& db, std::string_view scope,
                                  const std::optional<AdaptiveSetting>& setting);

}  // namespace sluice::store
