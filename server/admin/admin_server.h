#pragma once
// The admin channel of sluiced: a Unix-domain socket (owner-only) on which sluicectl sends
// newline-delimited JSON requests (see admin_protocol.h and docs/admin.md). The server parses
// and dispatches requests to registered command handlers and writes their replies back in
// request order, even when handlers reply asynchronously and out of order.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/base/error.h"
#include "common/uv/listener.h"
#include "common/uv/loop.h"
#include "common/uv/stream.h"

namespace sluice::admin {

// Delivers a command's outcome. Call it exactly once, on the loop thread, now or later. Calls
// after the first, and calls after the client disconnected or the server stopped, are ignored.
using Reply = std::function<void(Result<nlohmann::json>)>;
// Runs a command. `args` is the request's "args" object ({} when absent) with the caller's
// identity under kActorKey (see ActorOf), and is valid only during the call. An nlohmann::json
// exception escaping the handler before it replied becomes an invalid_argument reply; any other
// std::exception an internal one.
using CommandHandler = std::function<void(const nlohmann::json& args, Reply reply)>;

// The reserved argument that carries who asks: "local:<user>" for the admin socket (the peer's
// uid, by SO_PEERCRED; the number when it has no name), "web:<admin>" for the dashboard. A
// client-supplied value is always overwritten.
inline constexpr char kActorKey[] = "_actor";
// The actor of a handler's `args` ("" if absent, e.g. a handler called directly in a test).
std::string ActorOf(const nlohmann::json& args);
// `actor` made safe for logs and audit details: control characters, spaces and ';' become '?',
// at most 128 bytes.
std::string CleanActor(std::string_view actor);

class AdminServer {
 public:
  // Listens on `socket_path` (mode 0600; a stale socket file is replaced), creating its parent
  // directory with mode 0700 if missing. Errc::kAlreadyExists if another process is serving
  // that socket, Errc::kInvalidArgument if the path is too long for a Unix socket, Errc::kIo
  // otherwise. Loop thread only; the server must not outlive `loop`.
  [[nodiscard]] static Result<std::unique_ptr<AdminServer>> Start(uv::Loop& loop,
                                                                  const std::string& socket_path);
  ~AdminServer();  // Stop(); loop thread only (or after the loop thread has finished).
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Routes requests whose "cmd" is `cmd` to `handler`, replacing an earlier registration.
  // Loop thread only; may be called at any time.
  void Register(std::string cmd, CommandHandler handler);

  // Runs command `cmd` with `args` (must be an object) on behalf of `actor` — the one dispatch
  // path: the socket calls it for every request, the web layer for every dashboard action.
  // `reply` is called exactly once, on the loop thread (an unknown command or a non-object
  // `args` is answered with kInvalidArgument at once). Loop thread only.
  void Run(const std::string& cmd, const nlohmann::json& args, std::string actor, Reply reply);

  // Stops listening, removes the socket file and closes every connection; replies still
  // pending are dropped. Idempotent. Loop thread only.
  void Stop();

  const std::string& socket_path() const { return socket_path_; }
  size_t connection_count() const { return connections_.size(); }

 private:
  class Connection;

  AdminServer(uv::Loop& loop, std::string socket_path);
  void Accept(uv::HandlePtr<uv::Stream> stream);
  void Forget(uint64_t connection_id);

  uv::Loop& loop_;
  std::string socket_path_;
  uv::HandlePtr<uv::Listener> listener_;
  // Identity of the socket file we bound, so Stop() never unlinks another server's socket.
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
  std::unordered_map<std::string, CommandHandler> handlers_;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  uint64_t next_connection_id_ = 1;
};

}  // namespace sluice::admin
