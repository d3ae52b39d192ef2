#pragma once
// Outbound TCP connections for clients and the load tool.

#include <functional>
#include <optional>
#include <string>

#include "common/base/error.h"
#include "common/uv/loop.h"
#include "common/uv/stream.h"

namespace sluice::net {

using DialCallback = std::function<void(Result<uv::HandlePtr<uv::Stream>>)>;

// Resolves `host` (an IP literal, "localhost", or a DNS name resolved off the loop thread),
// optionally binds `local` (e.g. another 127.0.0.x source address), and connects to `port`.
// `done` runs exactly once on the loop thread; errors name the endpoint.
void DialTcp(uv::Loop& loop, const std::string& host, int port,
             const std::optional<sockaddr_storage>& local, DialCallback done);

}  // namespace sluice::net
