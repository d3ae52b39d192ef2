#include "server/store/limits_repo.h"

#include <charconv>

#include "common/db/transaction.h"
#include "server/store/settings_repo.h"

namespace sluice::store {
namespace {

constexpr std::string_view kPolicyPrefix = "policy.";
constexpr std::string_view kPolicyVersionPrefix = "policy_version.";
constexpr std::string_view kDurationPrefix = "duration.";
constexpr std::string_view kCanaryPrefix = "canary.";
constexpr std::string_view kAdaptivePrefix = "adaptive.";
constexpr std::string_view kHaltAfterPrefix = "halt_after.";
constexpr std::string_view kGatePrefix = "rollout_gate.";

// Every setting under `prefix`, keyed by the rest of the key.
Result<std::map<std::string, std::string>> SettingsUnder(db::Database& db,
                                                         std::string_view prefix) {
  auto settings = AllSettings(db);
  if (!settings) return Fail(settings.error());
  std::map<std::string, std::string> found;
  for (const auto& [key, value] : *settings) {
    if (key.starts_with(prefix) && key.size() > prefix.size()) {
      found[key.substr(prefix.size())] = value;
    }
  }
  return found;
}

// A stored knob: a non-negative decimal integer, or `fallback` when unset.
Result<int64_t> GetCount(db::Database& db, std::string_view key, int64_t fallback) {
  auto value = GetSetting(db, key);
  if (!value) return Fail(value.error());
  if (!value->has_value()) return fallback;
  const std::string& text = **value;
  int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size() || parsed < 0) {
    return Fail(Errc::kCorrupt,
                "setting " + std::string(key) + " = '" + text + "' is not a non-negative integer");
  }
  return parsed;
}

Status SetCount(db::Database& db, std::string_view key, int64_t value, int64_t low) {
  if (value < low) {
    return Fail(Errc::kInvalidArgument, std::string(key) + " must be >= " + std::to_string(low) +
                                            ", not " + std::to_string(value));
  }
  return SetSetting(db, key, std::to_string(value));
}

Result<UpgradePolicy> ParseStoredPolicy(std::string_view key, const std::string& text) {
  auto policy = ParseUpgradePolicy(text);
  if (!policy) {
    return Fail(Errc::kCorrupt, "setting " + std::string(key) + " = '" + text +
                                    "' is not disabled, this-version-only or always");
  }
  return *policy;
}

}  // namespace

std::string PolicyKey(std::string_view kind) {
  return std::string(kPolicyPrefix) + std::string(kind);
}

std::string PolicyVersionKey(std::string_view kind) {
  return std::string(kPolicyVersionPrefix) + std::string(kind);
}

Result<std::map<std::string, int>> LoadLimits(db::Database& db) {
  std::map<std::string, int> limits;
  auto read =
      db.Query("SELECT scope, max_concurrent FROM limits", [&limits](const db::Statement& row) {
        limits.emplace(row.Text(0), static_cast<int>(row.Int64(1)));
      });
  if (!read) return Context(read.error(), "loading limits");
  return limits;
}

Status SaveLimit(db::Database& db, std::string_view scope, int max_concurrent) {
  if (scope.empty() || max_concurrent < 1) {
    return Fail(Errc::kInvalidArgument, "limit of '" + std::string(scope) +
                                            "': scope required and max_concurrent must be >= 1");
  }
  auto saved = db.Run(
      "INSERT INTO limits (scope, max_concurrent) VALUES (?1, ?2) "
      "ON CONFLICT (scope) DO UPDATE SET max_concurrent = excluded.max_concurrent",
      scope, max_concurrent);
  if (!saved) return Context(saved.error(), "saving the limit of " + std::string(scope));
  return {};
}

Result<int64_t> GetBandwidthBytesPerS(db::Database& db, int64_t fallback) {
  return GetCount(db, kBandwidthKey, fallback);
}

Status SetBandwidthBytesPerS(db::Database& db, int64_t bytes_per_s) {
  return SetCount(db, kBandwidthKey, bytes_per_s, 0);
}

Result<int64_t> GetConnectionRatePerS(db::Database& db, int64_t fallback) {
  return GetCount(db, kConnectionRateKey, fallback);
}

Status SetConnectionRatePerS(db::Database& db, int64_t per_s) {
  return SetCount(db, kConnectionRateKey, per_s, 1);
}

std::string_view UpgradePolicyName(UpgradePolicy policy) {
  switch (policy) {
    case UpgradePolicy::kDisabled:
      return "disabled";
    case UpgradePolicy::kThisVersionOnly:
      return "this-version-only";
    case UpgradePolicy::kAlways:
      return "always";
  }
  return "always";
}

std::optional<UpgradePolicy> ParseUpgradePolicy(std::string_view name) {
  for (auto policy :
       {UpgradePolicy::kDisabled, UpgradePolicy::kThisVersionOnly, UpgradePolicy::kAlways}) {
    if (UpgradePolicyName(policy) == name) return policy;
  }
  return std::nullopt;
}

Result<PolicySetting> GetPolicy(db::Database& db, std::string_view kind, PolicySetting fallback) {
  const std::string key = PolicyKey(kind);
  auto mode = GetSetting(db, key);
  if (!mode) return Fail(mode.error());
  if (!mode->has_value()) return fallback;
  auto parsed = ParseStoredPolicy(key, **mode);
  if (!parsed) return Fail(parsed.error());
  auto version = GetSetting(db, PolicyVersionKey(kind));
  if (!version) return Fail(version.error());
  return PolicySetting{.mode = *parsed, .version = version->value_or("")};
}

Status SetPolicy(db::Database& db, std::string_view kind, const PolicySetting& policy) {
  if (kind.empty()) return Fail(Errc::kInvalidArgument, "policy: empty client kind");
  if (policy.mode == UpgradePolicy::kThisVersionOnly && policy.version.empty()) {
    return Fail(Errc::kInvalidArgument,
                "policy of " + std::string(kind) + ": this-version-only needs a version");
  }
  auto savepoint = db::Savepoint::Begin(db);
  if (!savepoint) return Fail(savepoint.error());
  if (auto set = SetSetting(db, PolicyKey(kind), UpgradePolicyName(policy.mode)); !set) return set;
  if (auto set = SetSetting(db, PolicyVersionKey(kind), policy.version); !set) return set;
  return savepoint->Release();
}

Result<std::map<std::string, PolicySetting>> LoadPolicies(db::Database& db) {
  auto settings = AllSettings(db);
  if (!settings) return Fail(settings.error());
  std::map<std::string, PolicySetting> policies;
  for (const auto& [key, value] : *settings) {
    if (!key.starts_with(kPolicyPrefix)) continue;
    const std::string kind = key.substr(kPolicyPrefix.size());
    auto mode = ParseStoredPolicy(key, value);
    if (!mode) return Fail(mode.error());
    auto version = settings->find(PolicyVersionKey(kind));
    policies[kind] =
        PolicySetting{.mode = *mode, .version = version == settings->end() ? "" : version->second};
  }
  return policies;
}

Status SaveDuration(db::Database& db, std::string_view scope, const DurationRecord& duration) {
  if (scope.empty()) return Fail(Errc::kInvalidArgument, "duration: empty scope");
  if (duration.estimate_ms < 0) {
    return Fail(Errc::kInvalidArgument, "duration of " + std::string(scope) + " is negative");
  }
  return SetSetting(db, std::string(kDurationPrefix) + std::string(scope),
                    std::to_string(duration.estimate_ms) + " " + std::to_string(duration.samples));
}

Result<std::map<std::string, DurationRecord>> LoadDurations(db::Database& db) {
  auto settings = AllSettings(db);
  if (!settings) return Fail(settings.error());
  std::map<std::string, DurationRecord> durations;
  for (const auto& [key, value] : *settings) {
    if (!key.starts_with(kDurationPrefix) || key.size() == kDurationPrefix.size()) continue;
    DurationRecord record;
    const char* end = value.data() + value.size();
    auto [after_ms, ms_ec] = std::from_chars(value.data(), end, record.estimate_ms);
    if (ms_ec != std::errc() || after_ms == end || *after_ms != ' ' || record.estimate_ms < 0) {
      continue;
    }
    auto [after_samples, samples_ec] = std::from_chars(after_ms + 1, end, record.samples);
    if (samples_ec != std::errc() || after_samples != end) continue;
    durations[key.substr(kDurationPrefix.size())] = record;
  }
  return durations;
}

Result<std::map<std::string, GateSettings>> LoadGateSettings(db::Database& db) {
  auto canaries = SettingsUnder(db, kCanaryPrefix);
  if (!canaries) return Fail(canaries.error());
  auto halts = SettingsUnder(db, kHaltAfterPrefix);
  if (!halts) return Fail(halts.error());
  std::map<std::string, GateSettings> settings;
  for (const auto& [scope, value] : *canaries) settings[scope].canary = value;
  for (const auto& [scope, value] : *halts) settings[scope].halt_after = value;
  return settings;
}

Status SaveGateSettings(db::Database& db, std::string_view scope, const GateSettings& settings) {
  if (scope.empty()) return Fail(Errc::kInvalidArgument, "gate settings: empty scope");
  auto savepoint = db::Savepoint::Begin(db);
  if (!savepoint) return Fail(savepoint.error());
  if (auto set = SetSetting(db, std::string(kCanaryPrefix) + std::string(scope), settings.canary);
      !set) {
    return set;
  }
  if (auto set =
          SetSetting(db, std::string(kHaltAfterPrefix) + std::string(scope), settings.halt_after);
      !set) {
    return set;
  }
  return savepoint->Release();
}

Result<std::map<std::string, std::string>> LoadRolloutGates(db::Database& db) {
  return SettingsUnder(db, kGatePrefix);
}

Status SaveRolloutGate(db::Database& db, std::string_view scope, std::string_view encoded) {
  if (scope.empty()) return Fail(Errc::kInvalidArgument, "rollout gate: empty scope");
  return SetSetting(db, std::string(kGatePrefix) + std::string(scope), encoded);
}

Result<std::map<std::string, AdaptiveSetting>> LoadAdaptive(db::Database& db) {
  auto stored = SettingsUnder(db, kAdaptivePrefix);
  if (!stored) return Fail(stored.error());
  std::map<std::string, AdaptiveSetting> out;
  for (const auto& [scope, value] : *stored) {
    if (value.empty()) continue;
    AdaptiveSetting setting;
    const char* p = value.data();
    const char* end = value.data() + value.size();
    auto read = [&](auto& field, bool last) {
      auto [next, ec] = std::from_chars(p, end, field);
      if (ec != std::errc() || (last ? next != end : (next == end || *next != ' '))) return false;
      p = last ? next : next + 1;
      return true;
    };
    if (!read(setting.min, false) || !read(setting.max, false) ||
        !read(setting.checkin_p99_target_ms, true) || setting.min < 1 ||
        setting.max < setting.min || setting.checkin_p99_target_ms < 1) {
      return Fail(Errc::kCorrupt, "setting " + std::string(kAdaptivePrefix) + scope +
                                      " is not '<min> <max> <target ms>': '" + value + "'");
    }
    out[scope] = setting;
  }
  return out;
}

Status SaveAdaptive(db::Database& db, std::string_view scope,
                    const std::optional<AdaptiveSetting>& setting) {
  if (scope.empty()) return Fail(Errc::kInvalidArgument, "adaptive limit: empty scope");
  std::string value;
  if (setting) {
    if (setting->min < 1 || setting->max < setting->min || setting->checkin_p99_target_ms < 1) {
      return Fail(Errc::kInvalidArgument,
                  "adaptive limit of " + std::string(scope) +
                      ": needs 1 <= min <= max and a check-in target of at least 1 ms");
    }
    value = std::to_string(setting->min) + " " + std::to_string(setting->max) + " " +
            std::to_string(setting->checkin_p99_target_ms);
  }
  return SetSetting(db, std::string(kAdaptivePrefix) + std::string(scope), value);
}

}  // namespace sluice::store
