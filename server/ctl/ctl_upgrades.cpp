// sluicectl limits / limits set / policy set / upgrade / rollout / audit: the upgrade throttle.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "common/proto/enums.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/ctl/ctl_values.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

// The limit scopes: every kind but integration clients.
const std::vector<std::string> kScopes = [] {
  std::vector<std::string> scopes;
  for (std::string_view kind : proto::UpgradableKinds()) scopes.emplace_back(kind);
  return scopes;
}();
const std::vector<std::string> kPolicies = {"disabled", "this-version-only", "always"};

// `object[key]` as a cell: "-" when missing, null or an empty string.
std::string Cell(const json& object, std::string_view key) {
  std::string text = Text(object, key);
  return text.empty() ? "-" : text;
}

// The keys of every object in `objects`, sorted and without repeats.
std::vector<std::string> Keys(std::initializer_list<const json*> objects) {
  std::vector<std::string> keys;
  for (const json* object : objects) {
    if (!object->is_object()) continue;
    for (const auto& [key, value] : object->items()) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Status PrintLimits(const json& result, std::ostream& out) {
  PrintFields(out,
              {{"bandwidth", FormatRate(Field(result, "bandwidth_bytes_per_s"))},
               {"connection rate", FormatConnectionRate(Field(result, "connection_rate_per_s"))}});
  const json& limits = Field(result, "limits");
  const json& policies = Field(result, "policy");
  Table table({"SCOPE", "MAX", "RUNNING", "WAITING", "POLICY"});
  for (const std::string& scope : Keys({&limits, &policies})) {
    const json& limit = Field(limits, scope);
    const json& policy = Field(policies, scope);
    std::string mode = Text(policy, "mode");
    if (const std::string version = Text(policy, "version", ""); !version.empty()) {
      mode += " (" + version + ")";
    }
    std::string max = Text(limit, "max_concurrent");
    if (const json& adaptive = Field(limit, "adaptive"); adaptive.is_object()) {
      max += " (auto " + Text(adaptive, "min") + "-" + Text(adaptive, "max") + ")";
    }
    table.AddRow({scope, max, Text(limit, "running"), Text(limit, "waiting"), mode});
  }
  out << '\n';
  table.Print(out);
  return {};
}

// What limits-set answers: the new limits object (printed like `limits`), or anything else
// (acknowledged).
Status PrintLimitsChanged(const json& result, std::ostream& out) {
  if (Field(result, "limits").is_object()) return PrintLimits(result, out);
  out << "ok\n";
  return {};
}

// What policy-set answers: {"kind", "mode", "version"}; "jumpoint: this-version-only (2.0.0)".
Status PrintPolicyChanged(const json& result, std::ostream& out) {
  if (!Field(result, "mode").is_string()) {
    out << "ok\n";
    return {};
  }
  out << Text(result, "kind") << ": " << Text(result, "mode");
  if (const std::string version = Text(result, "version", ""); !version.empty()) {
    out << " (" << version << ")";
  }
  out << '\n';
  return {};
}

void AddLimits(Ctl& ctl) {
  CLI::App* limits = ctl.app().add_subcommand(
      "limits", "Show the upgrade throttle's limits; 'limits set' changes them");
  auto as_json = Ctl::AddJsonFlag(limits);

  struct Options {
    std::string kind, bandwidth, connection_rate, max_concurrent;
    int min = 0, max = 0;
    int64_t checkin_target_ms = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* set = limits->add_subcommand("set", "Change limits (running upgrades are never cut)");
  auto* kind = set->add_option("--kind", options->kind, "Limit scope (client kind)")
                   ->check(CLI::IsMember(ClientKindNames()));
  auto* max = set->add_option("--max-concurrent", options->max_concurrent,
                              "Upgrades of --kind allowed at once, or 'auto' (with --min and "
                              "--max): the server adapts it to its load")
                  ->type_name("N|auto")
                  ->check(CLI::Validator(
                      [](std::string& value) -> std::string {
                        int n = 0;
                        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
                        if (value == "auto" ||
                            (ec == std::errc() && end == value.data() + value.size() && n >= 1)) {
                          return {};
                        }
                        return "'" + value + "' is neither a whole number of at least 1 nor 'auto'";
                      },
                      "N|auto"));
  max->needs(kind);
  kind->needs(max);
  auto* low =
      set->add_option("--min", options->min, "Lowest adaptive limit")->check(CLI::PositiveNumber);
  auto* high =
      set->add_option("--max", options->max, "Highest adaptive limit")->check(CLI::PositiveNumber);
  auto* target =
      set->add_option("--checkin-p99-target-ms", options->checkin_target_ms,
                      "Adaptive: keep the server's check-in p99 under this (default 500)")
          ->check(CLI::PositiveNumber);
  low->needs(max);
  high->needs(max);
  target->needs(max);
  auto* bandwidth = set->add_option("--bandwidth", options->bandwidth,
                                    "Upgrade bytes/s for all clients: 0 or unlimited, bytes, "
                                    "or K/M/G (binary), e.g. 10MiB/s")
                        ->type_name("RATE")
                        ->check(Checked(ParseRate, "RATE"));
  auto* rate = set->add_option("--connection-rate", options->connection_rate,
                               "New client connections accepted per second (at least 1)")
                   ->type_name("R")
                   ->check(Checked(ParseConnectionRate, "R"));
  set->callback([&ctl, options, max, low, high, target, bandwidth, rate] {
    json args = json::object();
    if (max->count() > 0) {
      args["kind"] = options->kind;
      if (options->max_concurrent == "auto") {
        if (low->count() == 0 || high->count() == 0) {
          throw CLI::ValidationError("limits set", "--max-concurrent auto needs --min and --max");
        }
        args["max_concurrent"] = "auto";
        args["min"] = options->min;
        args["max"] = options->max;
        if (target->count() > 0) args["checkin_p99_target_ms"] = options->checkin_target_ms;
      } else {
        if (low->count() + high->count() + target->count() > 0) {
          throw CLI::ValidationError("limits set",
                                     "--min, --max and --checkin-p99-target-ms go with "
                                     "--max-concurrent auto");
        }
        args["max_concurrent"] = std::stoi(options->max_concurrent);
      }
    }
    if (bandwidth->count() > 0) args["bandwidth_bytes_per_s"] = *ParseRate(options->bandwidth);
    if (rate->count() > 0) {
      args["connection_rate_per_s"] = *ParseConnectionRate(options->connection_rate);
    }
    if (args.empty()) {
      throw CLI::ValidationError("limits set",
                                 "give --max-concurrent (with --kind), --bandwidth or "
                                 "--connection-rate");
    }
    ctl.Run("limits-set", args, false, PrintLimitsChanged);
  });

  limits->callback([&ctl, as_json, set] {
    if (set->parsed()) return;
    ctl.Run("limits", json::object(), *as_json, PrintLimits);
  });
}

void AddPolicy(Ctl& ctl) {
  CLI::App* policy = ctl.app().add_subcommand("policy", "Set the auto-upgrade policy of a kind");
  policy->require_subcommand(1);
  struct Options {
    std::string kind, mode;
  };
  auto options = std::make_shared<Options>();
  CLI::App* set = policy->add_subcommand("set", "Set the auto-upgrade policy of a kind");
  set->add_option("--kind", options->kind, "Client kind")->required()->check(CLI::IsMember(ClientKindNames()));
  set->add_option("--mode", options->mode,
                  "disabled, this-version-only (the current site version) or always")
      ->required()
      ->check(CLI::IsMember(kPolicies));
  set->callback([&ctl, options] {
    ctl.Run("policy-set", {{"kind", options->kind}, {"mode", options->mode}}, false,
            PrintPolicyChanged);
  });
}

void AddUpgrade(Ctl& ctl) {
  auto client_id = std::make_shared<std::string>();
  CLI::App* upgrade = ctl.app().add_subcommand(
      "upgrade", "Ask for one client's upgrade now (it still waits for a free slot)");
  upgrade->add_option("client_id", *client_id, "The client's id")->required();
  auto as_json = Ctl::AddJsonFlag(upgrade);
  upgrade->callback([&ctl, client_id, as_json] {
    auto print = [](const json& result, std::ostream& out) -> Status {
      out << Text(result, "state") << '\n';
      return {};
    };
    ctl.Run("upgrade", {{"client_id", *client_id}}, *as_json, print);
  });
}

Status PrintRollout(const json& result, std::ostream& out) {
  const json& clients = Field(result, "clients");
  const json& forecast = Field(result, "forecast");
  std::string line = "site " + Text(result, "site_version") + ": " + Text(clients, "up_to_date") +
                     " of " + Text(clients, "total") + " clients up to date, " +
                     Text(clients, "outdated") + " outdated";
  auto when = [](const json& seconds) {
    return seconds.is_number() ? "in " + FormatDuration(seconds.get<int64_t>())
                               : std::string("unknown");
  };
  if (Text(clients, "outdated") == "0") {
    line += "; rollout complete";
  } else {
    line +=
        "; 90 % " + when(Field(forecast, "to_90_s")) + ", all " + when(Field(forecast, "to_100_s"));
  }
  out << line << '\n';
  for (const json& reason : Field(forecast, "unknown")) {
    out << "  forecast: " << reason.get<std::string>() << '\n';
  }

  const json& scopes = Field(result, "scopes");
  const json& versions = Field(clients, "by_kind_version");
  Table table({"SCOPE", "RUNNING", "LIMIT", "WAITING", "STATE", "VERSIONS"});
  std::vector<std::string> halts;
  for (const std::string& scope : Keys({&scopes, &versions})) {
    const json& state = Field(scopes, scope);
    const json& gate = Field(state, "gate");
    std::string phase = Text(gate, "phase");
    if (phase == "wave") {
      phase += " " + Text(gate, "wave_granted") + "/" + Text(gate, "wave_size");
    } else if (phase == "halted") {
      halts.push_back(scope + " halted: " + Text(gate, "halt_reason") +
                      "; sluicectl rollout resume|abort --kind " + scope);
    }
    if (const std::string blocked = Text(state, "blocked", ""); !blocked.empty()) {
      phase = "blocked";
      halts.push_back(scope + " blocked: " + blocked);
    }
    table.AddRow({scope, Text(state, "running"), Text(state, "limit"), Text(state, "waiting"),
                  phase, JoinCounts(Field(versions, scope))});
  }
  for (const std::string& halt : halts) out << "  " << halt << '\n';
  out << '\n';
  table.Print(out);
  out << "\nfailures: " << JoinCounts(Field(result, "failures")) << '\n';
  return {};
}

Status PrintAudit(const json& result, std::ostream& out) {
  const json& events = Field(result, "events");
  if (!events.is_array() || events.empty()) {
    out << "(no events)\n";
    return {};
  }
  Table table({"SEQ", "TIME", "EVENT", "SCOPE", "CLIENT", "LEASE", "VERSION", "RUNNING", "DETAIL"});
  for (const json& event : events) {
    const std::string lease = Text(event, "lease_id", "0");
    const bool scoped = !Text(event, "scope", "").empty();
    table.AddRow({Text(event, "seq"), Text(event, "time"), Text(event, "event"),
                  Cell(event, "scope"), Cell(event, "client_id"), lease == "0" ? "-" : lease,
                  Cell(event, "version"),
                  scoped ? Text(event, "running") + "/" + Text(event, "limit") : "-",
                  Text(event, "detail", "")});
  }
  table.Print(out);
  return {};
}

Status PrintGate(const json& result, std::ostream& out) {
  out << Text(result, "kind") << ": " << Text(result, "phase");
  const std::string canary = Text(result, "canary", ""), halt = Text(result, "halt_after", "");
  out << " (canary wave " << (canary.empty() ? "none" : canary) << ", halt after "
      << (halt.empty() ? "never" : halt) << ")\n";
  return {};
}

// `rollout canary|resume|abort --kind K`: the canary wave and the automatic halt.
void AddRolloutGate(Ctl& ctl, CLI::App* rollout) {
  struct Options {
    std::string kind, wave, halt_after;
  };
  auto options = std::make_shared<Options>();
  CLI::App* canary = rollout->add_subcommand(
      "canary", "Set a kind's canary wave (from the next site version) and failure threshold");
  canary->add_option("--kind", options->kind, "Client kind")
      ->required()
      ->check(CLI::IsMember(kScopes));
  auto* wave = canary->add_option(
      "--wave", options->wave, "First N clients, or P% of the kind's outdated clients (0: none)");
  auto* halt = canary->add_option("--halt-after", options->halt_after,
                                  "Halt at N failures, or at P% of ended upgrades (0: never)");
  canary->callback([&ctl, options, wave, halt] {
    json args = {{"kind", options->kind}};
    if (wave->count() > 0) args["canary"] = options->wave;
    if (halt->count() > 0) args["halt_after"] = options->halt_after;
    ctl.Run("rollout-canary", args, false, PrintGate);
  });
  for (auto [name, help] :
       {std::pair{"resume", "Continue a halted rollout (failure counts start over)"},
        {"abort",
         "Stop a kind's rollout: its auto-upgrade policy becomes "
         "disabled; running upgrades finish"}}) {
    CLI::App* command = rollout->add_subcommand(name, help);
    command->add_option("--kind", options->kind, "Client kind")->required();
    command->callback([&ctl, options, cmd = std::string("rollout-") + name] {
      ctl.Run(cmd, {{"kind", options->kind}}, false, PrintGate);
    });
  }
}

void AddRollout(Ctl& ctl) {
  CLI::App* rollout =
      ctl.app().add_subcommand("rollout", "Show the progress of the rollout of the site version");
  auto as_json = Ctl::AddJsonFlag(rollout);
  rollout->require_subcommand(0, 1);
  rollout->callback([&ctl, rollout, as_json] {
    if (!rollout->get_subcommands().empty()) return;  // canary, resume or abort ran
    ctl.Run("rollout", json::object(), *as_json, PrintRollout);
  });
  AddRolloutGate(ctl, rollout);
}

void AddAudit(Ctl& ctl) {
  struct Options {
    std::string since;
    int64_t limit = 0;
    std::string event, scope, client;
  };
  auto options = std::make_shared<Options>();
  CLI::App* audit = ctl.app().add_subcommand(
      "audit", "Show the upgrade audit log (grants, finishes, expiries, limit changes...)");
  auto* since =
      audit
          ->add_option("--since", options->since,
                       "Only events from this time on: 2026-11-25T08:00:00Z, "
                       "2026-11-25, or a duration ago (30s, 10m, 2h, 1d)")
          ->type_name("T")
          ->check(Checked([](std::string_view text) { return ParseSince(text, 0); }, "T"));
  auto* limit = audit->add_option("--limit", options->limit, "Only the newest N events")
                    ->type_name("N")
                    ->check(CLI::PositiveNumber);
  audit->add_option("--event", options->event, "Only events of this name (grant, admin_add...)");
  audit->add_option("--kind", options->scope, "Only events of this kind (scope)");
  audit->add_option("--client", options->client, "Only events of this client id");
  auto as_json = Ctl::AddJsonFlag(audit);
  audit->callback([&ctl, options, since, limit, as_json] {
    json args = json::object();
    if (since->count() > 0) args["since_ms"] = *ParseSince(options->since, NowMs());
    if (limit->count() > 0) args["limit"] = options->limit;
    for (auto [key, value] : {std::pair{"event", &options->event},
                              {"scope", &options->scope},
                              {"client_id", &options->client}}) {
      if (!value->empty()) args[key] = *value;
    }
    ctl.Run("audit", args, *as_json, PrintAudit);
  });
}

}  // namespace

void AddUpgradeCommands(Ctl& ctl) {
  AddLimits(ctl);
  AddPolicy(ctl);
  AddUpgrade(ctl);
  AddRollout(ctl);
  AddAudit(ctl);
}

}  // namespace sluice::ctl
