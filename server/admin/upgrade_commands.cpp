#include "server/admin/upgrade_commands.h"

#include <cmath>
#include <cstdlib>
#include <memory>

#include "common/base/time_format.h"
#include "common/base/version.h"
#include "common/proto/enums.h"
#include "server/admin/admin_audit.h"
#include "server/sched/forecast.h"
#include "server/store/audit_repo.h"
#include "server/store/client_query.h"
#include "server/store/client_repo.h"
#include "server/store/limits_repo.h"
#include "server/store/settings_repo.h"
#include "server/store/shared_read.h"

namespace sluice::server {
namespace {

using nlohmann::json;

// What the rollout summary reads from the store: clients grouped as the forecast sorts them,
// the failure counts, and when the site version last changed.
struct RolloutFacts {
  std::vector<store::RolloutGroup> groups;
  std::map<std::string, int64_t> failures;
};

// The dashboard polls the rollout summary: its facts are read at most once a second however
// many ask (store::SharedRead).
constexpr int64_t kRolloutFactsMaxAgeMs = 1'000;

// What the throttle commands work with.
struct Throttle {
  UpgradeCoordinator& upgrades;
  SettingsService& settings;
  store::Store& store;
  Clock& clock;
  std::shared_ptr<store::SharedRead<RolloutFacts>> rollout_facts{};
};

std::function<void(sluice::Status)> ReplyWith(admin::Reply reply, json result) {
  return [reply = std::move(reply), result = std::move(result)](sluice::Status status) {
    if (!status) {
      reply(Fail(status.error()));
    } else {
      reply(result);
    }
  };
}

Result<std::string> KindArg(const json& args, bool required) {
  if (!args.contains("kind")) {
    if (required) return Fail(Errc::kInvalidArgument, "argument 'kind' is required");
    return std::string();
  }
  if (!args["kind"].is_string()) return Fail(Errc::kInvalidArgument, "'kind' must be a string");
  auto kind = proto::ParseClientKind(args["kind"].get<std::string>());
  if (!kind) return Fail(kind.error());
  if (*kind == proto::ClientKind::kIntegrationClient) {
    return Fail(Errc::kInvalidArgument, "integration clients are never upgraded automatically");
  }
  return std::string(proto::ToString(*kind));
}

Result<uint64_t> UintArg(const json& args, const char* name, uint64_t low, uint64_t high) {
  const json& value = args[name];
  if (!value.is_number_unsigned() || value.get<uint64_t>() < low || value.get<uint64_t>() > high) {
    return Fail(Errc::kInvalidArgument, std::string(name) + " must be a whole number from " +
                                            std::to_string(low) + " to " + std::to_string(high));
  }
  return value.get<uint64_t>();
}

// max_concurrent "auto": min and max (required), checkin_p99_target_ms (default 500).
Result<store::AdaptiveSetting> AdaptiveArgs(const json& args) {
  if (!args.contains("min") || !args.contains("max")) {
    return Fail(Errc::kInvalidArgument, "max_concurrent \"auto\" needs min and max");
  }
  auto min = UintArg(args, "min", 1, 100'000);
  if (!min) return Fail(min.error());
  auto max = UintArg(args, "max", *min, 100'000);
  if (!max) return Fail(max.error());
  store::AdaptiveSetting setting{.min = static_cast<int>(*min), .max = static_cast<int>(*max)};
  if (args.contains("checkin_p99_target_ms")) {
    auto target = UintArg(args, "checkin_p99_target_ms", 1, 600'000);
    if (!target) return Fail(target.error());
    setting.checkin_p99_target_ms = static_cast<int64_t>(*target);
  }
  return setting;
}

void SiteSetVersion(Throttle& throttle, const json& args, admin::Reply reply) {
  if (!args.contains("version") || !args["version"].is_string()) {
    reply(Fail(Errc::kInvalidArgument, "argument 'version' must be a string"));
    return;
  }
  std::string version = args["version"].get<std::string>();
  throttle.settings.Update(
      {.key = "site_version", .value = version, .reconnect_clients = false},
      [&throttle, args, version, reply = std::move(reply)](sluice::Status status) {
        if (!status) return reply(Fail(status.error()));
        AuditAdminChange(throttle.store, throttle.clock,
                         {.event = store::audit_event::kSettingsChange,
                          .version = version,
                          .detail = "site_version=" + version},
                         args);
        reply(json{{"site_version", version}});
      });
}

json LimitsJson(Throttle& throttle) {
  const auto& scheduler = throttle.upgrades.scheduler();
  json limits = json::object();
  json policy = json::object();
  for (std::string_view kind : proto::UpgradableKinds()) {
    const std::string scope(kind);
    limits[scope] = {{"max_concurrent", scheduler.Limit(scope)},
                     {"running", scheduler.Running(scope)},
                     {"waiting", scheduler.Waiting(scope)},
                     {"adaptive", nullptr}};
    if (auto adaptive = throttle.upgrades.AdaptiveSettingOf(scope)) {
      limits[scope]["adaptive"] = {{"min", adaptive->min},
                                   {"max", adaptive->max},
                                   {"checkin_p99_target_ms", adaptive->checkin_p99_target_ms}};
    }
    auto it = throttle.upgrades.policies().find(scope);
    store::PolicySetting current =
        it == throttle.upgrades.policies().end() ? store::PolicySetting{} : it->second;
    policy[scope] = {{"mode", store::UpgradePolicyName(current.mode)},
                     {"version", current.version}};
  }
  return {{"limits", limits},
          {"bandwidth_bytes_per_s", throttle.upgrades.bandwidth()},
          {"connection_rate_per_s", throttle.upgrades.connection_rate()},
          {"policy", policy}};
}

void Limits(Throttle& throttle, const json&, admin::Reply reply) { reply(LimitsJson(throttle)); }

void LimitsSet(Throttle& throttle, const json& args, admin::Reply reply) {
  const std::string by = admin::ActorOf(args);
  auto kind = KindArg(args, false);
  if (!kind) return reply(Fail(kind.error()));
  std::vector<std::function<void(std::function<void(sluice::Status)>)>> changes;
  if (args.contains("max_concurrent") && args["max_concurrent"] == "auto") {
    if (kind->empty()) return reply(Fail(Errc::kInvalidArgument, "max_concurrent needs a kind"));
    auto adaptive = AdaptiveArgs(args);
    if (!adaptive) return reply(Fail(adaptive.error()));
    changes.push_back([&throttle, scope = *kind, adaptive = *adaptive, by](auto done) {
      throttle.upgrades.SetAdaptiveLimit(scope, adaptive, std::move(done), by);
    });
  } else if (args.contains("min") || args.contains("max") ||
             args.contains("checkin_p99_target_ms")) {
    return reply(Fail(Errc::kInvalidArgument,
                      "min, max and checkin_p99_target_ms go with max_concurrent \"auto\""));
  } else if (args.contains("max_concurrent")) {
    if (kind->empty()) return reply(Fail(Errc::kInvalidArgument, "max_concurrent needs a kind"));
    auto n = UintArg(args, "max_concurrent", 1, 100'000);
    if (!n) return reply(Fail(n.error()));
    changes.push_back([&throttle, scope = *kind, n = *n, by](auto done) {
      throttle.upgrades.SetLimit(scope, static_cast<int>(n), std::move(done), by);
    });
  }
  if (args.contains("bandwidth_bytes_per_s")) {
    auto rate = UintArg(args, "bandwidth_bytes_per_s", 0, 100ULL << 30);
    if (!rate) return reply(Fail(rate.error()));
    changes.push_back([&throttle, rate = *rate, by](auto done) {
      throttle.upgrades.SetBandwidth(rate, std::move(done), by);
    });
  }
  if (args.contains("connection_rate_per_s")) {
    auto rate = UintArg(args, "connection_rate_per_s", 1, 1'000'000);
    if (!rate) return reply(Fail(rate.error()));
    changes.push_back([&throttle, rate = *rate, by](auto done) {
      throttle.upgrades.SetConnectionRate(rate, std::move(done), by);
    });
  }
  if (changes.empty()) return reply(Fail(Errc::kInvalidArgument, "nothing to change"));
  // Apply all, reply once with the first error (if any) after the last one is durable.
  auto remaining = std::make_shared<size_t>(changes.size());
  auto first_error = std::make_shared<std::optional<Error>>();
  auto shared_reply = std::make_shared<admin::Reply>(std::move(reply));
  for (auto& change : changes) {
    change([&throttle, remaining, first_error, shared_reply](sluice::Status status) {
      if (!status && !*first_error) *first_error = status.error();
      if (--*remaining > 0) return;
      if (*first_error) {
        (*shared_reply)(Fail(**first_error));
      } else {
        (*shared_reply)(LimitsJson(throttle));
      }
    });
  }
}

void PolicySet(Throttle& throttle, const json& args, admin::Reply reply) {
  auto kind = KindArg(args, true);
  if (!kind) return reply(Fail(kind.error()));
  if (!args.contains("mode") || !args["mode"].is_string()) {
    return reply(Fail(Errc::kInvalidArgument, "argument 'mode' must be a string"));
  }
  auto mode = store::ParseUpgradePolicy(args["mode"].get<std::string>());
  if (!mode) {
    return reply(
        Fail(Errc::kInvalidArgument, "mode must be disabled, this-version-only or always"));
  }
  store::PolicySetting policy{.mode = *mode, .version = ""};
  if (*mode == store::UpgradePolicy::kThisVersionOnly) {
    policy.version = throttle.settings.settings().site_version;
  }
  throttle.upgrades.SetPolicy(
      *kind, policy,
      ReplyWith(std::move(reply), {{"kind", *kind},
                                   {"mode", store::UpgradePolicyName(*mode)},
                                   {"version", policy.version}}),
      admin::ActorOf(args));
}

void Upgrade(Throttle& throttle, const json& args, admin::Reply reply) {
  if (!args.contains("client_id") || !args["client_id"].is_string()) {
    return reply(Fail(Errc::kInvalidArgument, "argument 'client_id' must be a string"));
  }
  const std::string client_id = args["client_id"].get<std::string>();
  // Only a client the site knows can be upgraded: an unknown id is an error, not "pending".
  throttle.store.Submit<bool>(
      [client_id](db::Database& db) -> Result<bool> {
        auto found = store::FindClient(db, client_id);
        if (!found) return Fail(found.error());
        return found->has_value();
      },
      [&throttle, args, client_id, reply = std::move(reply)](Result<bool> known) {
        if (!known) return reply(Fail(known.error()));
        if (!*known) return reply(Fail(Errc::kNotFound, "no client '" + client_id + "'"));
        auto state = throttle.upgrades.AllowManualUpgrade(client_id);
        if (!state) return reply(Fail(state.error()));
        AuditAdminChange(throttle.store, throttle.clock,
                         {.event = store::audit_event::kManualUpgrade,
                          .client_id = client_id,
                          .detail = "state=" + *state},
                         args);
        reply(json{{"client_id", client_id}, {"state", *state}});
      });
}

json GateJson(Throttle& throttle, const std::string& kind) {
  const sched::RolloutGate gate = throttle.upgrades.Gate(kind);
  const store::GateSettings settings = throttle.upgrades.GateSettingsOf(kind);
  const auto& state = gate.state();
  return {{"kind", kind},
          {"phase", sched::PhaseName(state.phase)},
          {"version", state.version},
          {"wave_size", state.wave_size},
          {"wave_granted", state.wave_granted},
          {"ended", state.ended},
          {"failures", state.failures},
          {"halt_reason", state.halt_reason},
          {"canary", settings.canary},
          {"halt_after", settings.halt_after}};
}

void RolloutCanary(Throttle& throttle, const json& args, admin::Reply reply) {
  auto kind = KindArg(args, true);
  if (!kind) return reply(Fail(kind.error()));
  store::GateSettings settings = throttle.upgrades.GateSettingsOf(*kind);
  for (auto [name, field] : {std::pair{"canary", &settings.canary},
                             std::pair{"halt_after", &settings.halt_after}}) {
    if (!args.contains(name)) continue;
    if (!args[name].is_string()) {
      return reply(Fail(Errc::kInvalidArgument, std::string("'") + name + "' must be a string"));
    }
    *field = args[name].get<std::string>();
  }
  throttle.upgrades.SetGateSettings(
      *kind, settings,
      [&throttle, kind = *kind, reply = std::move(reply)](Status saved) {
        if (!saved) return reply(Fail(saved.error()));
        reply(GateJson(throttle, kind));
      },
      admin::ActorOf(args));
}

void RolloutResumeOrAbort(Throttle& throttle, const json& args, admin::Reply reply, bool resume) {
  auto kind = KindArg(args, true);
  if (!kind) return reply(Fail(kind.error()));
  auto done = [&throttle, kind = *kind, reply = std::move(reply)](Status saved) {
    if (!saved) return reply(Fail(saved.error()));
    reply(GateJson(throttle, kind));
  };
  if (resume) {
    throttle.upgrades.ResumeRollout(*kind, std::move(done), admin::ActorOf(args));
  } else {
    throttle.upgrades.AbortRollout(*kind, std::move(done), admin::ActorOf(args));
  }
}

void RolloutResume(Throttle& throttle, const json& args, admin::Reply reply) {
  RolloutResumeOrAbort(throttle, args, std::move(reply), true);
}

void RolloutAbort(Throttle& throttle, const json& args, admin::Reply reply) {
  RolloutResumeOrAbort(throttle, args, std::move(reply), false);
}

// Outdated clients of one scope, as the forecast sorts them.
struct OutdatedCounts {
  size_t total = 0;
  size_t seen = 0;            // checked in since the site version changed
  size_t unseen_active = 0;   // not since: active ones reconnect through the connection gate
  size_t unseen_passive = 0;  // not since: passive ones come when they come (at least daily)
};

json ForecastJson(Throttle& throttle, const std::map<std::string, OutdatedCounts>& outdated) {
  const auto& upgrades = throttle.upgrades;
  std::vector<int64_t> completions;
  size_t total = 0, unseen_passive = 0, not_allowed = 0;
  std::vector<std::string> halted;
  for (const auto& [scope, counts] : outdated) {
    total += counts.total;
    if (!upgrades.AutoUpgrades(scope)) {
      not_allowed += counts.total;
      continue;
    }
    if (upgrades.Gate(scope).halted()) {
      halted.push_back(scope);
      continue;
    }
    unseen_passive += counts.unseen_passive;
    const int running = upgrades.scheduler().Running(scope);
    const size_t in_line = counts.seen > static_cast<size_t>(running)
                               ? counts.seen - static_cast<size_t>(running) : 0;
    auto scope_completions =
        sched::ForecastScope(upgrades.ForecastInput(scope, in_line, counts.unseen_active));
    completions.insert(completions.end(), scope_completions.begin(), scope_completions.end());
  }
  const sched::Forecast forecast = sched::CombineForecasts(std::move(completions), total);
  auto seconds = [](const std::optional<int64_t>& ms) {
    return ms ? json(static_cast<int64_t>(std::ceil(static_cast<double>(*ms) / 1000.0))) : json();
  };
  json unknown = json::array();
  if (unseen_passive > 0) {
    unknown.push_back(std::to_string(unseen_passive) +
                      " passive clients have not checked in since the version change (they check "
                      "in at least every " +
                      std::to_string(throttle.settings.settings().passive_checkin_s) + " s)");
  }
  if (not_allowed > 0) {
    unknown.push_back(std::to_string(not_allowed) +
                      " outdated clients are of kinds whose auto-upgrade policy does not allow "
                      "this version");
  }
  for (const std::string& scope : halted) {
    unknown.push_back("the " + scope + " rollout is halted (sluicectl rollout resume|abort)");
  }
  return json{{"to_90_s", seconds(forecast.to_90_ms)},
              {"to_100_s", seconds(forecast.to_100_ms)},
              {"unknown", unknown}};
}

Result<RolloutFacts> ReadRolloutFacts(db::Database& db) {
  auto since = store::GetSetting(db, store::kSiteVersionSinceKey);
  if (!since) return Fail(since.error());
  int64_t since_ms = 0;
  if (since->has_value()) since_ms = std::atoll((*since)->c_str());
  auto groups = store::CountClientsForRollout(db, since_ms);
  if (!groups) return Fail(groups.error());
  auto failures = store::CountFailures(db, 0);
  if (!failures) return Fail(failures.error());
  return RolloutFacts{std::move(*groups), std::move(*failures)};
}

void Rollout(Throttle& throttle, const json&, admin::Reply reply) {
  throttle.rollout_facts->Get(
      [&throttle, reply = std::move(reply)](Result<RolloutFacts> facts) {
        if (!facts) return reply(Fail(facts.error()));
        const std::string& site = throttle.settings.settings().site_version;
        auto site_version = Version::Parse(site);
        json by_kind_version = json::object();
        std::map<std::string, OutdatedCounts> outdated_by_kind;
        int64_t up_to_date = 0, total = 0;
        for (const store::RolloutGroup& group : facts->groups) {
          const auto n = static_cast<size_t>(group.count);
          total += group.count;
          json& kind = by_kind_version[group.kind];
          if (kind.is_null()) kind = json::object();
          kind[group.version] = kind.value(group.version, int64_t{0}) + group.count;
          auto version = Version::Parse(group.version);
          if (site_version && version && *version >= *site_version) {
            up_to_date += group.count;
          } else if (group.kind != "integration-client") {
            OutdatedCounts& counts = outdated_by_kind[group.kind];
            counts.total += n;
            // Connected clients were evaluated when the version changed: they are in line.
            if (group.seen) {
              counts.seen += n;
            } else if (group.mode == "active") {
              counts.unseen_active += n;
            } else {
              counts.unseen_passive += n;
            }
          }
        }
        const auto& scheduler = throttle.upgrades.scheduler();
        json scopes = json::object();
        for (std::string_view kind : proto::UpgradableKinds()) {
          const std::string scope(kind);
          scopes[scope] = {{"running", scheduler.Running(scope)},
                           {"limit", scheduler.Limit(scope)},
                           {"waiting", scheduler.Waiting(scope)},
                           {"estimated_upgrade_s", scheduler.EstimatedDurationMs(scope) / 1000.0},
                           {"estimate_samples", scheduler.DurationSamples(scope)},
                           {"gate", GateJson(throttle, scope)},
                           {"blocked", throttle.upgrades.BrokenPackage(scope)}};
        }
        json failures = json::object();
        // Audit events, named as admins read them: failed = verify_failed or apply_failed.
        for (auto [event, key] : {std::pair{"fail", "failed"}, {"rollback", "rolled_back"},
                                  {"expire", "expired"}}) {
          failures[key] = facts->failures.contains(event) ? facts->failures.at(event) : 0;
        }
        int64_t outdated = 0;
        for (const auto& [kind, counts] : outdated_by_kind) {
          outdated += static_cast<int64_t>(counts.total);
        }
        json forecast = ForecastJson(throttle, outdated_by_kind);
        reply(json{{"site_version", site},
                   {"clients",
                    {{"total", total},
                     {"by_kind_version", by_kind_version},
                     {"up_to_date", up_to_date},
                     {"outdated", outdated}}},
                   {"scopes", scopes},
                   {"failures", failures},
                   {"forecast", forecast},
                   {"estimated_completion_s", forecast["to_100_s"]}});
      });
}

}  // namespace

void RegisterUpgradeCommands(admin::AdminServer& admin, UpgradeCoordinator& upgrades,
                             SettingsService& settings, store::Store& store, store::Store& reader,
                             Clock& clock) {
  auto throttle = std::make_shared<Throttle>(
      Throttle{upgrades, settings, store, clock,
               store::SharedRead<RolloutFacts>::Create(reader, clock, kRolloutFactsMaxAgeMs,
                                                       &ReadRolloutFacts)});
  using Handler = void (*)(Throttle&, const json&, admin::Reply);
  for (auto [name, handler] : {std::pair<const char*, Handler>{"site-set-version", &SiteSetVersion},
                               {"limits", &Limits},
                               {"limits-set", &LimitsSet},
                               {"policy-set", &PolicySet},
                               {"upgrade", &Upgrade},
                               {"rollout", &Rollout},
                               {"rollout-canary", &RolloutCanary},
                               {"rollout-resume", &RolloutResume},
                               {"rollout-abort", &RolloutAbort}}) {
    admin.Register(name, [throttle, handler](const json& args, admin::Reply reply) {
      handler(*throttle, args, std::move(reply));
    });
  }
}

}  // namespace sluice::server
