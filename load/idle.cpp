// The idle scenario: N active clients connected and idle (heartbeats only); the server's
// resident memory per connection.

#include <sys/resource.h>

#include "load/scenario.h"

namespace sluice::load {
namespace {

double OwnPeakRssMib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // kB on Linux
}

// Lets the loop run for `seconds` (heartbeats keep flowing).
void Settle(Fleet& fleet, double seconds) {
  fleet.RunUntil([] { return false; }, seconds);
}

}  // namespace

Result<nlohmann::json> RunIdle(const ScenarioOptions& options, const nlohmann::json& args) {
  const double settle_s = args.value("settle_s", 6.0);
  auto setup = Prepare(options, options.clients, 1'000'000);
  if (!setup) return Fail(setup.error());
  ServerHarness& server = *setup->server;
  uv::Loop loop;
  auto fleet = EnrollFleet(loop, *setup, options, {});
  if (!fleet) return Fail(fleet.error());
  Fleet& f = **fleet;
  const auto& counters = f.counters();
  const int n = f.size();
  f.RunUntil([&] { return counters.open_connections == 0 && counters.dials == 0; }, 30.0);
  // Long enough for the server's periodic trim to hand back what the enrollment burst freed.
  Settle(f, 6.0);
  const double baseline_mib = server.RssMib();
  const double start = NowS();
  f.Start(Goal::kStayConnected);
  double last_print = start;
  const bool done = f.RunUntil([&] { return counters.connected == n; },
                               double(options.timeout_s), [&] {
                                 if (NowS() - last_print < 1.0) return;
                                 last_print = NowS();
                                 Progress(options, "connected " +
                                                       std::to_string(counters.connected) + "/" +
                                                       std::to_string(n));
                               });
  const double connect_s = NowS() - start;
  Settle(f, settle_s);
  const double held_mib = server.RssMib();
  const double per_connection_kib =
      counters.connected > 0 ? (held_mib - baseline_mib) * 1024.0 / counters.connected : 0.0;
  return nlohmann::json{
      {"scenario", "idle"},
      {"clients", n},
      {"connected", counters.connected},
      {"timed_out", !done},
      {"connect_s", connect_s},
      {"server_baseline_rss_mib", baseline_mib},
      {"server_rss_mib", held_mib},
      {"server_rss_per_connection_kib", per_connection_kib},
      {"projected_100k_rss_mib", baseline_mib + per_connection_kib * 100'000 / 1024.0},
      {"load_tool_peak_rss_mib", OwnPeakRssMib()},
      {"server_cpu_s", server.CpuSeconds()}};
}

}  // namespace sluice::load
