// The storm scenario: N active clients connected; the server restarts; every client reconnects
// (jittered exponential backoff) through the server's connection-rate limit.

#include "load/scenario.h"
#include "server/store/limits_repo.h"

namespace sluice::load {

Result<nlohmann::json> RunStorm(const ScenarioOptions& options, const nlohmann::json& args) {
  const int64_t rate = args.value("connection_rate", store::kDefaultConnectionRatePerS);
  if (rate < 1) return Fail(Errc::kInvalidArgument, "--connection-rate must be at least 1");
  if (!options.attach_data_dir.empty()) {
    return Fail(Errc::kInvalidArgument, "storm restarts the server: it cannot attach to one");
  }
  auto setup = Prepare(options, options.clients, 1'000'000);
  if (!setup) return Fail(setup.error());
  ServerHarness& server = *setup->server;
  uv::Loop loop;
  auto fleet = EnrollFleet(loop, *setup, options, {});
  if (!fleet) return Fail(fleet.error());
  Fleet& f = **fleet;
  const auto& counters = f.counters();
  const int n = f.size();
  f.Start(Goal::kStayConnected);
  if (!f.RunUntil([&] { return counters.connected == n; }, double(options.timeout_s))) {
    return Fail(Errc::kTimeout, "only " + std::to_string(counters.connected) + " of " +
                                    std::to_string(n) + " clients connected before the restart");
  }
  if (auto set = server.Admin("limits-set", {{"connection_rate_per_s", rate}}); !set) {
    return Fail(set.error());
  }
  Progress(options, std::to_string(n) + " clients connected; restarting sluiced");
  // The loop does not run during the restart: the clients see their connections drop when it
  // resumes, as a real fleet would see them drop at once.
  if (auto restarted = server.Restart(); !restarted) return Context(restarted.error(), "restart");
  const double ready = NowS();
  // Every connection carries exactly one check-in: n new ones after the restart, with all n
  // clients connected, is full reconnection.
  const uint64_t checkins_before = counters.checkins;
  auto back = [&] { return static_cast<int>(counters.checkins - checkins_before); };
  double first_back = 0, last_print = ready;
  const bool done = f.RunUntil(
      [&] { return back() >= n && counters.connected == n; }, double(options.timeout_s), [&] {
        if (first_back == 0 && back() > 0) first_back = NowS();
        if (NowS() - last_print < 1.0) return;
        last_print = NowS();
        Progress(options, "reconnected " + std::to_string(back()) + "/" +
                              std::to_string(n));
      });
  const double full_s = NowS() - ready;
  const double spread_s = first_back > 0 ? NowS() - first_back : 0;
  return nlohmann::json{
      {"scenario", "storm"},
      {"clients", n},
      {"reconnected", back()},
      {"timed_out", !done},
      {"connection_rate_limit", rate},
      {"time_to_full_reconnection_s", full_s},
      {"accept_rate_per_s", full_s > 0 ? back() / full_s : 0.0},
      {"accept_rate_after_first_per_s", spread_s > 0 ? back() / spread_s : 0.0},
      {"connect_errors", counters.connect_errors},
      {"server_cpu_s", server.CpuSeconds()},
      {"server_peak_rss_mib", server.PeakRssMib()}};
}

}  // namespace sluice::load
