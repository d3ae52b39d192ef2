#pragma once
// Health figures a client reports at check-in. Best effort: a figure that cannot be read is 0
// or empty, never an error.

#include <string>

#include "common/proto/messages.h"

namespace sluice::client {

// cpu_load: 1-minute load average; disk_used_pct: of the filesystem holding `path`;
// uptime_s: since boot; console_user: the user logged in on a local console, if any.
proto::CheckinStats ReadSystemStats(const std::string& path);

// "linux-x86_64" and the like.
std::string PlatformName();

}  // namespace sluice::client
