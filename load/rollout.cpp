// The rollout scenario: N clients enrolled at 1.0.0, the site moves to 2.0.0 (one package of
// `package_kib` per kind), and every client upgrades through the throttle (limit per kind).

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include "client/stats/system_stats.h"
#include "load/figures.h"
#include "load/scenario.h"
#include "load/timeline.h"
#include "server/admin/audit_json.h"
#include "server/sched/audit_replay.h"
#include "server/store/limits_repo.h"

namespace sluice::load {
namespace {

constexpr const char* kTargetVersion = "2.0.0";

// The throttle's limit per kind: fixed, or adaptive within [min, max].
struct LimitSpec {
  int fixed = 50;
  int min = 0, max = 0;  // adaptive when max > 0
  int64_t checkin_target_ms = 500;
  nlohmann::json LimitsSetArgs(const std::string& kind) const {
    if (max == 0) return {{"kind", kind}, {"max_concurrent", fixed}};
    return {{"kind", kind},
            {"max_concurrent", "auto"},
            {"min", min},
            {"max", max},
            {"checkin_p99_target_ms", checkin_target_ms}};
  }
};

// "MIN:MAX" -> an adaptive spec.
Result<LimitSpec> ParseAdaptive(const std::string& text, int64_t checkin_target_ms) {
  LimitSpec spec;
  spec.checkin_target_ms = checkin_target_ms;
  const size_t colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    spec.min = std::stoi(text.substr(0, colon));
    spec.max = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
    return Fail(Errc::kInvalidArgument, "--adaptive must be MIN:MAX, e.g. 4:400");
  }
  if (spec.min < 1 || spec.max < spec.min) {
    return Fail(Errc::kInvalidArgument, "--adaptive needs 1 <= MIN <= MAX");
  }
  spec.fixed = spec.min;
  return spec;
}

Status PublishPackages(ServerHarness& server, const Fleet& fleet, uint64_t package_kib,
                       const LimitSpec& limit, uint64_t bandwidth_kib) {
  const std::string package = server.dir() + "/package.bin";
  {
    std::ofstream out(package, std::ios::binary | std::ios::trunc);
    const std::string block(1024, 'x');
    for (uint64_t i = 0; i < package_kib; ++i) out << block;
    if (!out) return Fail(Errc::kIo, "cannot write " + package);
  }
  for (const auto& [kind, count] : fleet.KindCounts()) {
    const std::string name(proto::ToString(kind));
    auto added = server.Admin("package-add", {{"kind", name},
                                              {"platform", client::PlatformName()},
                                              {"version", kTargetVersion},
                                              {"path", package}});
    if (!added) return Fail(added.error());
    if (limit.max > 0) {  // adaptive from its lowest value, like a site that just turned it on
      auto start = server.Admin("limits-set", {{"kind", name}, {"max_concurrent", limit.min}});
      if (!start) return Fail(start.error());
    }
    auto limited = server.Admin("limits-set", limit.LimitsSetArgs(name));
    if (!limited) return Fail(limited.error());
  }
  auto bandwidth = server.Admin("limits-set", {{"bandwidth_bytes_per_s", bandwidth_kib * 1024}});
  if (!bandwidth) return Fail(bandwidth.error());
  return {};
}

Result<std::vector<store::AuditRow>> ServerAudit(ServerHarness& server) {
  auto audit = server.Admin("audit", {{"limit", 100'000'000}});
  if (!audit) return Fail(audit.error());
  return server::AuditRowsFromJson((*audit)["events"]);
}

// The forecast made at 10 % progress against what happened: predicted = made_at + to_X.
nlohmann::json ForecastError(nlohmann::json probe, double ninety_s, double makespan_s) {
  if (probe.is_null()) return nullptr;
  auto compare = [&](const char* key, double actual_s, const char* prefix) {
    const nlohmann::json& to = probe[key];
    if (!to.is_number() || actual_s <= 0) return;
    const double predicted = probe["made_at_s"].get<double>() + to.get<double>();
    probe[std::string(prefix) + "_predicted_s"] = predicted;
    probe[std::string(prefix) + "_actual_s"] = actual_s;
    probe[std::string(prefix) + "_error"] = predicted / actual_s - 1.0;
  };
  compare("to_90_s", ninety_s, "p90");
  compare("to_100_s", makespan_s, "p100");
  return probe;
}

// Fairness: per scope, how much later than first come, first served each client was granted.
nlohmann::json FairnessFigures(const std::vector<GrantRecord>& grants) {
  std::map<proto::ClientKind, std::vector<std::pair<double, double>>> by_kind;
  std::map<proto::ClientKind, std::vector<bool>> active_by_kind;
  for (const GrantRecord& g : grants) {
    by_kind[g.kind].emplace_back(static_cast<double>(g.first_answer_ns) / 1e9,
                                 static_cast<double>(g.grant_ns) / 1e9);
    active_by_kind[g.kind].push_back(g.active);
  }
  std::vector<double> passive, active;
  for (const auto& [kind, pairs] : by_kind) {
    const std::vector<double> excess = FcfsExcess(pairs);
    for (size_t i = 0; i < excess.size(); ++i) {
      (active_by_kind[kind][i] ? active : passive).push_back(excess[i]);
    }
  }
  auto figures = [](const std::vector<double>& v) {
    return nlohmann::json{{"max_s", v.empty() ? 0.0 : *std::max_element(v.begin(), v.end())},
                          {"p99_s", Percentile(v, 99)}};
  };
  return {{"passive", figures(passive)}, {"active", figures(active)}};
}

}  // namespace

// How the limit moved: the limit_change rows after the first grant, and the last value.
nlohmann::json LimitHistory(const std::vector<store::AuditRow>& rows) {
  size_t changes = 0;
  int last = 0, highest = 0;
  bool granted = false;
  for (const store::AuditRow& row : rows) {
    granted = granted || row.event == "grant";
    if (row.event != "limit_change" || !granted) continue;
    ++changes;
    last = row.limit_value;
    highest = std::max(highest, row.limit_value);
  }
  return {{"changes", changes}, {"last", last}, {"highest", highest}};
}

Result<nlohmann::json> RunRollout(const ScenarioOptions& options, const nlohmann::json& args) {
  LimitSpec spec;
  spec.fixed = args.value("limit", 50);
  if (const std::string adaptive = args.value("adaptive", std::string()); !adaptive.empty()) {
    auto parsed = ParseAdaptive(adaptive, args.value("checkin_target_ms", int64_t{500}));
    if (!parsed) return Fail(parsed.error());
    spec = *parsed;
  }
  const int limit = spec.max > 0 ? spec.max : spec.fixed;  // the most that may run
  const int probe_per_s = args.value("probe_checkins_per_s", 0);
  const uint64_t package_kib = args.value("package_kib", uint64_t{256});
  const uint64_t apply_ms = args.value("apply_ms", uint64_t{1000});
  const uint64_t rate_kib = args.value("rate_kib", uint64_t{1024});
  const uint64_t bandwidth_kib = args.value("bandwidth_kib", uint64_t{0});
  const int64_t connection_rate =
      args.value("connection_rate", int64_t{store::kDefaultConnectionRatePerS});
  const double kill_at = args.value("kill_at", 0.0);
  const double apply_spread = args.value("apply_spread", 0.0);
  if (apply_spread < 0 || apply_spread > 1) {
    return Fail(Errc::kInvalidArgument, "--apply-spread must be in [0, 1]");
  }
  if (limit <= 0) return Fail(Errc::kInvalidArgument, "--limit must be positive");
  if (probe_per_s < 0) return Fail(Errc::kInvalidArgument, "--probe-checkins-per-s must be >= 0");
  if (connection_rate < 1) return Fail(Errc::kInvalidArgument, "--connection-rate must be >= 1");
  if (kill_at < 0 || kill_at >= 1) return Fail(Errc::kInvalidArgument, "--kill-at must be in [0, 1)");
  auto setup = Prepare(options, options.clients, 1'000'000);
  if (!setup) return Fail(setup.error());
  ServerHarness& server = *setup->server;
  if (kill_at > 0 && !server.owned()) {
    return Fail(Errc::kInvalidArgument, "--kill-at needs a server sluice-load started itself");
  }

  nlohmann::json summary;
  Timeline timeline;
  {
    uv::Loop loop;
    auto fleet = EnrollFleet(loop, *setup, options,
                             {.apply_ms = apply_ms,
                              .apply_spread = apply_spread,
                              .rate_bytes_per_s = rate_kib * 1024});
    if (!fleet) return Fail(fleet.error());
    Fleet& f = **fleet;
    // Bystanders: integration clients (never upgraded) checking in once a second each, so the
    // check-in latency is measured all through the rollout.
    std::unique_ptr<Fleet> probe;
    if (probe_per_s > 0) {
      ScenarioOptions probe_options = options;
      probe_options.clients = probe_per_s;
      probe_options.kinds = "integration-client";
      probe_options.active_share = 0;
      auto enrolled = EnrollFleet(loop, *setup, probe_options, {.checkin_pause_ms = 1000});
      if (!enrolled) return Context(enrolled.error(), "enrolling the check-in probes");
      probe = std::move(*enrolled);
      probe->context().counters.checkin_ms.clear();
    }
    if (auto published = PublishPackages(server, f, package_kib, spec, bandwidth_kib);
        !published) {
      return Context(published.error(), "publishing the package");
    }
    // Enrollment ran unthrottled; the rollout itself runs at the site's connection rate.
    if (auto rate = server.Admin("limits-set", {{"connection_rate_per_s", connection_rate}});
        !rate) {
      return Context(rate.error(), "setting the connection rate");
    }
    auto set = server.Admin("site-set-version", {{"version", kTargetVersion}});
    if (!set) return Context(set.error(), "site-set-version");
    const uint64_t start_ns = uv_hrtime();
    f.context().target_version = kTargetVersion;
    f.Start(Goal::kUpgrade);
    if (probe) probe->Start(Goal::kCheckinLoop);
    const auto& counters = f.counters();
    double last_print = NowS();
    int upgraded_at_last_print = 0;
    const uint64_t handshakes_at_start = counters.handshakes;  // enrollment's are not counted
    uint64_t handshakes_at_last_print = handshakes_at_start;
    double max_connections_per_s = 0;
    bool killed = false;
    std::optional<Error> restart_error;
    // The server's forecast, asked once 10 % of the fleet has upgraded.
    nlohmann::json forecast_probe;
    double ninety_s = 0;
    int current_limit = spec.max > 0 ? spec.min : spec.fixed;  // per kind, as the server says
    const bool done = f.RunUntil(
        [&] { return counters.upgraded + counters.failed == f.size() || restart_error; },
        static_cast<double>(options.timeout_s), [&] {
          int in_flight = 0;
          for (int n : counters.in_flight_by_kind) in_flight = std::max(in_flight, n);
          timeline.Add({.t_s = static_cast<double>(uv_hrtime() - start_ns) / 1e9,
                        .in_flight = counters.in_flight,
                        .queued = counters.queued,
                        .limit = current_limit * static_cast<int>(f.KindCounts().size()),
                        .done = counters.upgraded});
          const double now_s = static_cast<double>(uv_hrtime() - start_ns) / 1e9;
          if (forecast_probe.is_null() && counters.upgraded * 10 >= f.size()) {
            auto rollout = server.Admin("rollout");
            forecast_probe = rollout ? (*rollout)["forecast"] : nlohmann::json::object();
            forecast_probe["made_at_s"] = now_s;
          }
          if (ninety_s == 0 && counters.upgraded * 10 >= f.size() * 9) ninety_s = now_s;
          if (!killed && kill_at > 0 && counters.upgraded >= kill_at * f.size()) {
            killed = true;
            Progress(options, "kill -9 of sluiced at " + std::to_string(counters.upgraded) +
                                  " upgraded; restarting");
            if (auto restarted = server.Restart(/*crash=*/true); !restarted) {
              restart_error = restarted.error();
            }
          }
          if (NowS() - last_print < 1.0) return;
          const double elapsed = NowS() - last_print;
          last_print = NowS();
          if (spec.max > 0) {  // the adaptive limit of the first kind, once a second
            if (auto limits = server.Admin("limits"); limits) {
              const std::string kind(proto::ToString(f.KindCounts().front().first));
              current_limit = (*limits)["limits"][kind].value("max_concurrent", current_limit);
            }
          }
          max_connections_per_s =
              std::max(max_connections_per_s,
                       static_cast<double>(counters.handshakes - handshakes_at_last_print) / elapsed);
          handshakes_at_last_print = counters.handshakes;
          Progress(options, "upgraded " + std::to_string(counters.upgraded) + "/" +
                                std::to_string(f.size()) + "  in flight " +
                                std::to_string(in_flight) + "/" + std::to_string(current_limit) +
                                "  queued " + std::to_string(counters.queued) + "  rate " +
                                std::to_string(static_cast<int>(
                                    (counters.upgraded - upgraded_at_last_print) / elapsed)) +
                                "/s");
          upgraded_at_last_print = counters.upgraded;
        });
    if (restart_error) return Context(*restart_error, "restarting sluiced after kill -9");
    const double makespan_s =
        counters.last_upgrade_ns > start_ns
            ? static_cast<double>(counters.last_upgrade_ns - start_ns) / 1e9
            : 0;
    int max_observed = 0;
    for (int n : counters.max_in_flight_by_kind) max_observed = std::max(max_observed, n);
    const double ideal_s = IdealMakespanS(
        options.clients, limit, static_cast<double>(package_kib) * 1024,
        static_cast<double>(rate_kib) * 1024, static_cast<double>(bandwidth_kib) * 1024,
        static_cast<double>(apply_ms) / 1000.0);
    summary = {{"scenario", "rollout"},
               {"clients", options.clients},
               {"active_clients", f.active_count()},
               {"kinds", f.KindCounts().size()},
               {"limit", limit},
               {"package_kib", package_kib},
               {"apply_ms", apply_ms},
               {"rate_kib", rate_kib},
               {"bandwidth_kib", bandwidth_kib},
               {"killed_at_upgraded", killed ? nlohmann::json(kill_at) : nlohmann::json(nullptr)},
               {"converged", counters.upgraded},
               {"failed", counters.failed},
               {"timed_out", !done},
               {"makespan_s", makespan_s},
               {"ideal_makespan_s", ideal_s},
               {"slot_utilization", makespan_s > 0 ? ideal_s / makespan_s : 0.0},
               {"throughput_mib_s",
                makespan_s > 0 ? static_cast<double>(counters.bytes) / 1048576.0 / makespan_s
                               : 0.0},
               {"max_in_flight_observed", max_observed},
               {"connection_rate_limit", connection_rate},
               {"connections", counters.handshakes - handshakes_at_start},
               {"connections_per_client",
                static_cast<double>(counters.handshakes - handshakes_at_start) /
                    std::max(f.size(), 1)},
               {"connections_per_s_max", max_connections_per_s},
               {"fcfs_excess", FairnessFigures(counters.grants)},
               {"forecast_at_10pct", ForecastError(forecast_probe, ninety_s, makespan_s)},
               {"checkin_p50_ms", Percentile(counters.checkin_ms, 50)},
               {"checkin_p99_ms", Percentile(counters.checkin_ms, 99)}};
    if (spec.max > 0) {
      summary["adaptive"] = {{"min", spec.min}, {"max", spec.max},
                             {"checkin_target_ms", spec.checkin_target_ms}};
    }
    if (probe) {
      probe->context().stop = true;
      const auto& probed = probe->counters().checkin_ms;
      summary["probe_checkins"] = probed.size();
      summary["probe_checkin_p50_ms"] = Percentile(probed, 50);
      summary["probe_checkin_p99_ms"] = Percentile(probed, 99);
      summary["probe_checkin_max_ms"] =
          probed.empty() ? 0.0 : *std::max_element(probed.begin(), probed.end());
    }
  }
  // Before the audit is read: answering it costs the server memory of its own.
  summary["server_cpu_s"] = server.CpuSeconds();
  summary["server_peak_rss_mib"] = server.PeakRssMib();
  auto rows = ServerAudit(server);
  if (!rows) return Context(rows.error(), "reading the audit log");
  auto replay = sched::ReplayAudit(*rows);
  summary["limit_history"] = LimitHistory(*rows);
  int max_audit = 0, violations = 0;
  for (const auto& [scope, running] : replay.max_running) max_audit = std::max(max_audit, running);
  for (const auto& [scope, count] : replay.violations) violations += count;
  summary["max_in_flight_audit"] = max_audit;
  summary["limit_violations"] = violations;
  summary["audit_problems"] = replay.problems.size();
  if (!options.chart.empty()) {
    const std::string title = "rollout: " + std::to_string(options.clients) + " clients, limit " +
                              std::to_string(limit);
    if (auto written = timeline.WriteSvg(options.chart, title); !written) {
      return Fail(written.error());
    }
  }
  return summary;
}

}  // namespace sluice::load
