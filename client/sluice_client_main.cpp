// sluice-client: the Sluice endpoint agent.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "client/agent/agent.h"
#include "client/config/installer_config.h"
#include "client/update/self_test.h"
#include "common/base/clock.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/uv/loop.h"
#include "common/uv/signal.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "sluice-client: %s\n", message.c_str());
  return 1;
}

// The installer expired before this client could enroll: remove its config and state, exit 1.
int GiveUp(const std::string& reason, const std::string& config_path,
           const std::string& state_dir) {
  std::string left = sluice::client::RemoveClientFiles(config_path, state_dir);
  return Fail(reason + "; giving up: removed " + config_path + " and " + state_dir +
              (left.empty() ? "" : " (could not remove " + left + ")"));
}

// `enroll --key-info KEY`: writes the config the key stands for, then enrolls once. A key the
// site refused as expired (or one already expired here) makes the client remove itself.
int EnrollWithKey(const std::string& key_text, const sluice::client::InstallOverrides& overrides,
                  const std::string& config_path, const std::string& state_dir) {
  auto made = sluice::client::ConfigFromInstallerKey(key_text, overrides,
                                                     sluice::SystemClock::Instance().WallMs());
  if (!made) {
    if (made.error().code() == sluice::Errc::kTimeout) {
      return GiveUp(made.error().message(), config_path, state_dir);
    }
    return Fail(made.error().message());
  }
  if (auto written = sluice::WriteFileAtomic(config_path, made->config_json, 0600); !written) {
    return Fail(written.error().message());
  }
  auto config = sluice::client::ClientConfig::Load(config_path);
  if (!config) return Fail(config.error().message());
  sluice::uv::Loop loop;
  auto agent = sluice::client::Agent::Create(
      loop, {.config = *config, .state_dir = state_dir, .once = true, .on_stopped = [&loop] {
               loop.Stop();
             }});
  if (!agent) return Fail(agent.error().message());
  (*agent)->Start();
  loop.Run();
  const auto& refusal = (*agent)->installer_refusal();
  if (refusal && *refusal == sluice::proto::ErrorCode::kInstallerExpired) {
    return GiveUp((*agent)->last_result().error().message(), config_path, state_dir);
  }
  if (!(*agent)->identity()) {
    const sluice::Status& result = (*agent)->last_result();
    return Fail(result ? std::string("enrollment did not complete")
                       : "enrollment failed: " + result.error().message());
  }
  std::printf("enrolled client=%s with installer %s; config %s\n",
              (*agent)->identity()->client_id.c_str(), made->key.id.c_str(), config_path.c_str());
  return 0;
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
  std::string key_info;
  sluice::client::InstallOverrides overrides;
  CLI::App* enroll = app.add_subcommand(
      "enroll",
      "write the config an installer key stands for, then enroll (like msiexec /i "
      "sluice.msi KEY_INFO=KEY)");
  enroll->add_option("--key-info", key_info, "the installer key (KEY_INFO of the MSI)")->required();
  enroll->add_option("--mode", overrides.mode, "override the installer's mode, if it allows")
      ->check(CLI::IsMember({"active", "passive"}));
  enroll->add_option("--jump-group", overrides.jump_group,
                     "override the installer's jump group, if it allows");
  enroll->add_option("--tag", overrides.tag, "override the installer's tag, if it allows");
  enroll->fallthrough();
  CLI11_PARSE(app, argc, argv);
  sluice::SetLogLevel(log_level);
  ::signal(SIGPIPE, SIG_IGN);
  if (self_test) return sluice::client::RunSelfTest();
  if (config_path.empty() || state_dir.empty()) {
    return Fail("--config and --state-dir are required (see --help)");
  }
  if (enroll->parsed()) return EnrollWithKey(key_info, overrides, config_path, state_dir);

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
      loop, {.config = *config, .state_dir = state_dir, .once = once, .on_stopped = [&loop] {
               loop.Stop();
             }});
  if (!agent) return Fail(agent.error().message());
  auto stop = [&agent] { (*agent)->Stop(); };
  auto on_int = sluice::uv::Signal::Create(loop, SIGINT, stop);
  auto on_term = sluice::uv::Signal::Create(loop, SIGTERM, stop);
  auto on_usr1 = sluice::uv::Signal::Create(loop, SIGUSR1, [&agent] { (*agent)->CheckInNow(); });
  // The pid file is what `--check-in-now` signals: written only once SIGUSR1 is watched, or the
  // signal's default action would kill the agent.
  if (!once) {
    if (auto written = state->WritePid(); !written) return Fail(written.error().message());
  }
  (*agent)->Start();
  loop.Run();
  if (!once) state->RemovePid();
  const auto& refusal = (*agent)->installer_refusal();
  if (refusal && *refusal == sluice::proto::ErrorCode::kInstallerExpired) {
    return GiveUp((*agent)->last_result().error().message(), config_path, state_dir);
  }
  if (refusal) return Fail((*agent)->last_result().error().message());
  const sluice::Status result = (*agent)->last_result();
  if (once && !result) return Fail(result.error().message());
  return 0;
}
