#pragma once
// Runs the client library's Agent on its own loop thread, as the sluice-client binary does.

#include <future>
#include <memory>
#include <thread>

#include "client/agent/agent.h"
#include "common/uv/loop.h"

namespace sluice::testing {

// One check-in attempt in `once` mode on a private loop; returns the attempt's outcome.
// Bounded: a watchdog stops the loop after `timeout_ms`.
Status CheckInOnce(const std::string& config_path, const std::string& state_dir,
                   uint64_t timeout_ms = 30'000);

}  // namespace sluice::testing
