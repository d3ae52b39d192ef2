#pragma once
// What every scenario shares: its options, the server it runs against, the enrolled fleet and
// the once-a-second progress line. Each scenario (rollout.cpp, storm.cpp, idle.cpp,
// checkin.cpp) blocks the calling thread and returns its JSON summary. Every run is bounded by
// timeout_s and uses loopback only.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/uv/loop.h"
#include "load/fleet.h"
#include "load/now.h"
#include "load/server_harness.h"

namespace sluice::load {

struct ScenarioOptions {
  int clients = 1000;
  double active_share = 1.0;
  std::string kinds = "jump-client";  // KIND[=SHARE],... e.g. "jump-client=3,jumpoint=1"
  double starts_per_s = 1000;
  int source_addresses = 50;
  uint64_t timeout_s = 600;
  std::string server_bin;            // the sluiced to start (default)
  std::string attach_data_dir;       // or: the data dir of a running sluiced to target
  std::vector<std::string> server_args;
  int server_cpu = -1;               // pin the started sluiced to this CPU
  bool progress = true;              // progress line on stderr
  std::string chart;                 // SVG output path; "" = none
};

// The server (started or attached), the site's client configuration, and the loop.
struct ScenarioSetup {
  std::unique_ptr<ServerHarness> server;
  client::ClientConfig config;
};

// "jump-client=3,jumpoint=1" -> kinds and shares. Errors: kInvalidArgument naming the entry.
[[nodiscard]] Result<std::vector<KindShare>> ParseKinds(const std::string& text);

// Raises the open-file limit (the message says what to change if `fds` cannot be had), starts
// or attaches the server and fetches the client configuration. `connection_rate` (> 0) is set
// so that setup is not throttled.
[[nodiscard]] Result<ScenarioSetup> Prepare(const ScenarioOptions& options, int fds,
                                            int64_t connection_rate);

// Creates the fleet and enrolls every client (bounded by the options' timeout).
[[nodiscard]] Result<std::unique_ptr<Fleet>> EnrollFleet(uv::Loop& loop, const ScenarioSetup& setup,
                                                         const ScenarioOptions& options,
                                                         FleetOptions fleet);

// Prints one progress line to stderr if enabled.
void Progress(const ScenarioOptions& options, const std::string& line);

// The scenarios. Errors: bad options (kInvalidArgument), server start/admin failures.
[[nodiscard]] Result<nlohmann::json> RunRollout(const ScenarioOptions& options,
                                                const nlohmann::json& args);
[[nodiscard]] Result<nlohmann::json> RunStorm(const ScenarioOptions& options,
                                              const nlohmann::json& args);
[[nodiscard]] Result<nlohmann::json> RunIdle(const ScenarioOptions& options,
                                             const nlohmann::json& args);
[[nodiscard]] Result<nlohmann::json> RunCheckin(const ScenarioOptions& options,
                                                const nlohmann::json& args);

}  // namespace sluice::load
