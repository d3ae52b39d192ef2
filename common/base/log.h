#pragma once
// Named spdlog loggers, one per component ("server", "tls", "store", ...).
// Fields are written key=value. Never log keys, secrets, tokens or payload bytes.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace sluice {

// Returns the logger for `component`, creating it (stderr, shared format) on first use.
// Thread-safe.
std::shared_ptr<spdlog::logger> Log(const std::string& component);

// Sets the level of every existing and future logger ("trace".."off"). Thread-safe.
void SetLogLevel(const std::string& level);

}  // namespace sluice
