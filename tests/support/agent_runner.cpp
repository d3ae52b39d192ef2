#include "tests/support/agent_runner.h"

#include "common/uv/timer.h"

namespace sluice::testing {

Status CheckInOnce(const std::string& config_path, const std::string& state_dir,
                   uint64_t timeout_ms) {
  auto config = client::ClientConfig::Load(config_path);
  if (!config) return Fail(config.error());
  uv::Loop loop;
  auto agent = client::Agent::Create(loop, {.config = *config,
                                            .state_dir = state_dir,
                                            .once = true,
                                            .on_stopped = [&loop] { loop.Stop(); }});
  if (!agent) return Fail(agent.error());
  bool timed_out = false;
  auto watchdog = uv::Timer::Create(loop);
  watchdog->Start(timeout_ms, 0, [&] {
    timed_out = true;
    loop.Stop();
  });
  (*agent)->Start();
  loop.Run();
  if (timed_out) return Fail(Errc::kTimeout, "check-in did not finish in time");
  return (*agent)->last_result();
}

}  // namespace sluice::testing
