// The checkin scenario: `clients` concurrent loops of connect, handshake, check-in, close; once
// with a full handshake every time, once resuming TLS sessions. Back to back (the default) it
// measures what the server sustains; pin the server to one core (--server-cpu) to measure what
// one core does. With a pause between a client's check-ins it is a paced load below capacity,
// whose latency shows what else the server is doing.

#include "load/figures.h"
#include "load/scenario.h"

namespace sluice::load {
namespace {

struct Phase {
  uint64_t checkins = 0;
  double checkins_per_s = 0;
  double resumed_share = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double server_cpu_s = 0;
};

Phase Measure(Fleet& fleet, ServerHarness& server, bool resume, double warmup_s,
              double duration_s) {
  auto& counters = fleet.context().counters;
  fleet.context().resume_sessions = resume;
  fleet.Start(Goal::kCheckinLoop);
  fleet.RunUntil([] { return false; }, warmup_s);
  const uint64_t checkins_before = counters.checkins, resumed_before = counters.resumed;
  const double cpu_before = server.CpuSeconds();
  counters.checkin_ms.clear();
  const double start = NowS();
  fleet.RunUntil([] { return false; }, duration_s);
  const double elapsed = NowS() - start;
  Phase phase;
  const auto checkins = static_cast<double>(counters.checkins - checkins_before);
  phase.checkins = counters.checkins - checkins_before;
  phase.checkins_per_s = checkins / elapsed;
  phase.resumed_share =
      checkins > 0 ? static_cast<double>(counters.resumed - resumed_before) / checkins : 0;
  phase.p50_ms = Percentile(counters.checkin_ms, 50);
  phase.p99_ms = Percentile(counters.checkin_ms, 99);
  phase.server_cpu_s = server.CpuSeconds() - cpu_before;
  fleet.context().stop = true;
  fleet.RunUntil([&] { return counters.open_connections == 0 && counters.dials == 0; }, 30.0);
  return phase;
}

nlohmann::json ToJson(const Phase& phase) {
  // CPU per request: what the server spends, whatever caps the rate (on 2 cores, often the load
  // tool itself).
  const double cpu_per_1000 =
      phase.checkins > 0 ? phase.server_cpu_s / static_cast<double>(phase.checkins) * 1000 : 0;
  return {{"checkins", phase.checkins},
          {"checkins_per_s", phase.checkins_per_s},
          {"resumed_share", phase.resumed_share},
          {"checkin_p50_ms", phase.p50_ms},
          {"checkin_p99_ms", phase.p99_ms},
          {"server_cpu_s", phase.server_cpu_s},
          {"server_cpu_s_per_1000", cpu_per_1000}};
}

}  // namespace

Result<nlohmann::json> RunCheckin(const ScenarioOptions& options, const nlohmann::json& args) {
  const double duration_s = args.value("duration_s", 10.0);
  const double warmup_s = args.value("warmup_s", 1.0);
  auto setup = Prepare(options, options.clients, 1'000'000);
  if (!setup) return Fail(setup.error());
  uv::Loop loop;
  const uint64_t pause_ms = args.value("pause_ms", uint64_t{0});
  auto fleet = EnrollFleet(loop, *setup, options, {.checkin_pause_ms = pause_ms});
  if (!fleet) return Fail(fleet.error());
  Phase full = Measure(**fleet, *setup->server, /*resume=*/false, warmup_s, duration_s);
  Phase resumed = Measure(**fleet, *setup->server, /*resume=*/true, warmup_s, duration_s);
  return nlohmann::json{
      {"scenario", "checkin"},     {"clients", options.clients}, {"server_cpu", options.server_cpu},
      {"duration_s", duration_s},  {"pause_ms", pause_ms},       {"full_handshake", ToJson(full)},
      {"resumed", ToJson(resumed)}};
}

}  // namespace sluice::load
