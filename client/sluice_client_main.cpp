// sluice-client: the Sluice endpoint agent.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "client/agent/agent.h"
#include "client/update/self_test.h"
#include "common/base/log.h"
#include "common/uv/loop.h"
#include "common/uv/signal.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "sluice-client: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string state_dir;
  std::string log_level = "info";
  bool once = false;
  bool check_in_now = false;
  bool self_test = false;
  CLI::App app{"sluice-client - the Sluice endpoint agent"};
  app.add_option("--config", config_path, "client configuration (from sluicectl client-config)");
  app.add_option("--state-dir", state_dir, "where this client keeps its identity and versions");
  app.add_flag("--self-test", self_test,
               "check that this build runs on this machine, then exit (the upgrade health check)");
  app.add_flag("--once", once,
               "one contact: check in, apply an upgrade if granted, then exit (0 on success)");
  app.add_flag("--check-in-now", check_in_now,
               "ask the running agent to check in now (or check in once if none runs)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  sluice::SetLogLevel(log_level);
  ::signal(SIGPIPE, SIG_IGN);
  if (self_test) return sluice::client::RunSelfTest();
  if (config_path.empty() || state_dir.empty()) {
    return Fail("--config and --state-dir are required (see --help)");
  }

  auto config = sluice::client::ClientConfig::Load(config_path);
  if (!config) return Fail(config.error().message());
  auto state = sluice::client::StateDir::Open(state_dir);
  if (!state) return Fail(state.error().message());
  if (check_in_now) {
    if (auto pid = state->RunningAgentPid()) {
      if (::kill(*pid, SIGUSR1) == 0) {
        std::printf("asked agent pid %d to check in\n", *pid);
        return 0;
      }
    }
    once = true;
  }

  sluice::uv::Loop loop;
  auto agent = sluice::client::Agent::Create(
      loop, {.config = *config, .state_dir = state_dir, .once = once,
             .on_stopped = [&loop] { loop.Stop(); }});
  if (!agent) return Fail(agent.error().message());
  if (!once) {
    if (auto written = state->WritePid(); !written) return Fail(written.error().message());
  }
  auto stop = [&agent] { (*agent)->Stop(); };
  auto on_int = sluice::uv::Signal::Create(loop, SIGINT, stop);
  auto on_term = sluice::uv::Signal::Create(loop, SIGTERM, stop);
  auto on_usr1 = sluice::uv::Signal::Create(loop, SIGUSR1, [&agent] { (*agent)->CheckInNow(); });
  (*agent)->Start();
  loop.Run();
  if (!once) state->RemovePid();
  const sluice::Status result = (*agent)->last_result();
  if (once && !result) return Fail(result.error().message());
  return 0;
}
