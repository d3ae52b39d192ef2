#pragma once
// A listening socket (TCP or Unix-domain). Each accepted connection is handed over as a new
// Stream owned by the callback.

#include <functional>
#include <string>

#include "common/base/error.h"
#include "common/uv/handle.h"
#include "common/uv/loop.h"
#include "common/uv/stream.h"

namespace sluice::uv {

class Listener final : public Handle {
 public:
  using OnAccept = std::function<void(HandlePtr<Stream>)>;

  // Binds and listens on host:port (port 0 picks a free port). Errors name the address.
  [[nodiscard]] static Result<HandlePtr<Listener>> ListenTcp(Loop& loop, const std::string& host,
                                                             int port, int backlog,
                                                             OnAccept on_accept);
  // Binds a Unix-domain socket at `path` (a stale socket file is replaced) with mode `mode`.
  [[nodiscard]] static Result<HandlePtr<Listener>> ListenPipe(Loop& loop, const std::string& path,
                                                              int mode, OnAccept on_accept);

  // The bound address ("127.0.0.1:4433") — the real port when 0 was asked for.
  std::string LocalAddress() const;
  int LocalPort() const;

  // Stops accepting without closing (used by the connection-rate limiter); pending
  // connections wait in the kernel backlog.
  void Pause();
  void Resume();

 private:
  Listener(Loop& loop, bool pipe, OnAccept on_accept);
  uv_handle_t* raw() override { return reinterpret_cast<uv_handle_t*>(&socket_); }
  static void OnConnection(uv_stream_t* server, int status);
  void AcceptOne();

  Loop& loop_;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } socket_;
  bool is_pipe_;
  bool paused_ = false;
  int backlog_waiting_ = 0;
  OnAccept on_accept_;
};

}  // namespace sluice::uv
