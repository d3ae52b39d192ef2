// sluice-load: simulates a fleet of clients against a real sluiced (docs/load.md).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "load/raw_tls.h"
#include "load/scenario.h"

namespace {

using sluice::load::ScenarioOptions;

std::string OwnDir() {
  std::error_code error;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : exe.parent_path().string();
}

// The options every fleet scenario takes.
void AddFleetOptions(CLI::App* command, ScenarioOptions& options, bool& json) {
  command->add_option("--clients", options.clients, "simulated clients")->capture_default_str();
  command->add_option("--active-share", options.active_share, "share of active clients (0..1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  command->add_option("--kinds", options.kinds, "client kinds and shares, KIND[=SHARE],...")
      ->capture_default_str();
  command->add_option("--starts-per-s", options.starts_per_s,
                      "connection starts per second when a phase begins (0: all at once)")
      ->capture_default_str();
  command->add_option("--source-addresses", options.source_addresses,
                      "dial from 127.0.0.1..127.0.0.N (beyond one address's ephemeral ports)")
      ->check(CLI::Range(1, 250))
      ->capture_default_str();
  command->add_option("--timeout-s", options.timeout_s, "bound on every phase of the run")
      ->capture_default_str();
  command->add_option("--server-bin", options.server_bin, "sluiced to start (default: beside "
                                                          "sluice-load)");
  command->add_option("--attach", options.attach_data_dir,
                      "target the running sluiced with this data dir instead of starting one");
  command->add_option("--server-arg", options.server_args, "extra sluiced argument (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--server-cpu", options.server_cpu, "pin the started sluiced to this CPU");
  command->add_flag("--json", json, "print the summary as one JSON line on stdout");
  command->add_flag("!--no-progress", options.progress, "no progress lines on stderr");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-load: simulate a fleet of clients against sluiced (loopback only)"};
  app.require_subcommand(1);
  ScenarioOptions options;
  bool json = false;
  nlohmann::json args = nlohmann::json::object();

  auto* rollout = app.add_subcommand("rollout", "clients upgrade 1.0.0 -> 2.0.0 under a limit");
  AddFleetOptions(rollout, options, json);
  int limit = 50;
  uint64_t package_kib = 256, apply_ms = 1000, rate_kib = 1024, bandwidth_kib = 0;
  rollout->add_option("--limit", limit, "max concurrent upgrades per kind")->capture_default_str();
  rollout->add_option("--package-kib", package_kib, "package size")->capture_default_str();
  rollout->add_option("--apply-ms", apply_ms, "simulated apply time")->capture_default_str();
  rollout->add_option("--rate-kib", rate_kib, "per-client download rate, KiB/s (0: unlimited)")
      ->capture_default_str();
  rollout->add_option("--bandwidth-kib", bandwidth_kib, "server bandwidth cap, KiB/s (0: none)")
      ->capture_default_str();
  rollout->add_option("--chart", options.chart, "write the in-flight/queue chart (SVG) here");
  int64_t rollout_connection_rate = 50;
  rollout->add_option("--connection-rate", rollout_connection_rate,
                      "server's connection_rate_per_s during the rollout")
      ->capture_default_str();
  double apply_spread = 0;
  rollout->add_option("--apply-spread", apply_spread,
                      "each client's apply time is apply-ms * (1 +/- this), uniform")
      ->capture_default_str();
  std::string adaptive;
  rollout->add_option("--adaptive", adaptive,
                      "adaptive limit MIN:MAX instead of --limit (starts at MIN)");
  int64_t checkin_target_ms = 500;
  rollout->add_option("--checkin-target-ms", checkin_target_ms,
                      "with --adaptive: the server's check-in p99 target")
      ->capture_default_str();
  int probe_checkins_per_s = 0;
  rollout->add_option("--probe-checkins-per-s", probe_checkins_per_s,
                      "bystander check-ins per second all through the rollout (latency probe)")
      ->capture_default_str();
  double kill_at = 0;
  rollout->add_option("--kill-at", kill_at,
                      "kill -9 and restart sluiced once this share of clients upgraded (0: never)")
      ->capture_default_str();

  auto* storm = app.add_subcommand("storm", "clients connected; sluiced restarts; reconnection");
  AddFleetOptions(storm, options, json);
  int64_t connection_rate = 50;
  storm->add_option("--connection-rate", connection_rate, "server's connection_rate_per_s")
      ->capture_default_str();

  auto* idle = app.add_subcommand("idle", "hold clients connected and idle; server RSS");
  AddFleetOptions(idle, options, json);
  double settle_s = 6;
  idle->add_option("--settle-s", settle_s, "idle time before measuring")->capture_default_str();

  auto* checkin = app.add_subcommand("checkin", "check-ins per second, new and resumed TLS");
  AddFleetOptions(checkin, options, json);
  double duration_s = 10;
  checkin->add_option("--duration-s", duration_s, "measured seconds per phase")
      ->capture_default_str();
  uint64_t pause_ms = 0;
  checkin
      ->add_option("--pause-ms", pause_ms,
                   "each client's pause between check-ins (+/- 10 %): a paced load of about "
                   "clients * 1000 / pause check-ins a second; 0: back to back, saturating")
      ->capture_default_str();

  auto* raw = app.add_subcommand("raw-tls", "HTTPS GET loops against a plain TLS server");
  sluice::load::RawTlsOptions raw_options;
  std::string target;
  raw->add_option("--target", target, "HOST:PORT")->required();
  raw->add_option("--path", raw_options.path, "request path")->capture_default_str();
  raw->add_option("--pin", raw_options.pin, "expected server key pin (default: not checked)");
  raw->add_option("--concurrency", raw_options.concurrency, "parallel loops")
      ->capture_default_str();
  raw->add_option("--duration-s", raw_options.duration_s, "measured seconds")
      ->capture_default_str();
  raw->add_option("--requests", raw_options.requests, "stop after N responses (0: duration)")
      ->capture_default_str();
  raw->add_flag("--resume", raw_options.resume, "resume TLS sessions");
  raw->add_flag("--json", json, "print the summary as one JSON line on stdout");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (options.server_bin.empty()) options.server_bin = OwnDir() + "/sluiced";
  options.clients = std::max(options.clients, 1);

  sluice::Result<nlohmann::json> summary = sluice::Fail(sluice::Errc::kInvalidArgument, "");
  if (rollout->parsed()) {
    args = {{"limit", limit},
            {"package_kib", package_kib},
            {"apply_ms", apply_ms},
            {"rate_kib", rate_kib},
            {"bandwidth_kib", bandwidth_kib},
            {"connection_rate", rollout_connection_rate},
            {"kill_at", kill_at},
            {"apply_spread", apply_spread},
            {"adaptive", adaptive},
            {"checkin_target_ms", checkin_target_ms},
            {"probe_checkins_per_s", probe_checkins_per_s}};
    summary = sluice::load::RunRollout(options, args);
  } else if (storm->parsed()) {
    summary = sluice::load::RunStorm(options, {{"connection_rate", connection_rate}});
  } else if (idle->parsed()) {
    summary = sluice::load::RunIdle(options, {{"settle_s", settle_s}});
  } else if (checkin->parsed()) {
    summary =
        sluice::load::RunCheckin(options, {{"duration_s", duration_s}, {"pause_ms", pause_ms}});
  } else {
    const size_t colon = target.rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "sluice-load: --target must be HOST:PORT\n");
      return 2;
    }
    raw_options.host = target.substr(0, colon);
    raw_options.port = std::atoi(target.substr(colon + 1).c_str());
    summary = sluice::load::RunRawTls(raw_options);
  }
  if (!summary) {
    std::fprintf(stderr, "sluice-load: %s\n", summary.error().message().c_str());
    return 2;
  }
  std::cout << (json ? summary->dump() : summary->dump(2)) << std::endl;
  // A rollout that did not converge or broke the limit is a failed run.
  if (rollout->parsed()) {
    const bool ok = (*summary)["converged"] == options.clients &&
                    (*summary)["limit_violations"] == 0;
    return ok ? 0 : 1;
  }
  return 0;
}
