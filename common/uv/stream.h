#pragma once
// A connected byte stream (TCP or Unix-domain socket) on the loop thread.
// Reads are delivered as views into a loop-wide buffer, valid only during the callback.
// Writes queue behind at most one uv_write in flight; queued bytes coalesce into the next
// write, and pending_write_bytes() is what callers use for backpressure.

#include <sys/socket.h>

#include <functional>
#include <optional>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/uv/handle.h"
#include "common/uv/loop.h"

namespace sluice::uv {

class Stream final : public Handle {
 public:
  struct Events {
    std::function<void(ByteView)> on_data;
    // The stream ended: nullopt for an orderly EOF, an error otherwise. Fires at most once;
    // the owner normally closes the stream in response.
    std::function<void(std::optional<Error>)> on_end;
    // Every queued byte has been handed to the kernel.
    std::function<void()> on_drain;
  };

  static HandlePtr<Stream> NewTcp(Loop& loop);
  static HandlePtr<Stream> NewPipe(Loop& loop);

  // Connects a new TCP stream to `address` (optionally binding `local` first). `done` fires
  // exactly once on the loop thread unless the stream is closed first; an immediate failure
  // (bad local address, no descriptors) is reported before Connect returns.
  void Connect(const sockaddr_storage& address, const std::optional<sockaddr_storage>& local,
               std::function<void(Status)> done);
  void ConnectPipe(const std::string& path, std::function<void(Status)> done);

  void Start(Events events);
  void StopReading();
  void ResumeReading();
  void Write(ByteView data);
  size_t pending_write_bytes() const { return in_flight_.size() + queued_.size(); }
  // Half-closes after queued writes are flushed (TCP FIN), for orderly shutdown.
  void ShutdownAfterWrites();

  // "ip:port" of the peer, or "unix" for pipes; empty if unknown.
  const std::string& peer_address() const { return peer_address_; }
  [[nodiscard]] Status SetNoDelay(bool enable);
  uv_stream_t* native() { return reinterpret_cast<uv_stream_t*>(&socket_); }

 private:
  friend class Listener;
  Stream(Loop& loop, bool pipe);
  uv_handle_t* raw() override { return reinterpret_cast<uv_handle_t*>(&socket_); }
  void RememberPeer();
  void FlushQueued();
  void End(std::optional<Error> why);
  static void OnAlloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnConnect(uv_connect_t* req, int status);
  static void OnShutdown(uv_shutdown_t* req, int status);

  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } socket_;
  bool is_pipe_;
  bool ended_ = false;
  bool reading_ = false;
  bool shutdown_requested_ = false;
  Events events_;
  Bytes in_flight_;
  Bytes queued_;
  uv_write_t write_req_;
  uv_connect_t connect_req_;
  uv_shutdown_t shutdown_req_;
  std::function<void(Status)> connect_done_;
  std::string peer_address_;
};

// Formats "ip:port" ("[v6]:port" for IPv6).
std::string FormatAddress(const sockaddr_storage& address);
// Parses an IP literal and port. "localhost" is accepted as 127.0.0.1.
[[nodiscard]] Result<sockaddr_storage> ParseAddress(const std::string& host, int port);
// Splits "HOST:PORT" or "[V6]:PORT".
[[nodiscard]] Result<std::pair<std::string, int>> SplitHostPort(const std::string& text);

}  // namespace sluice::uv
