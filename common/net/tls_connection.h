#pragma once
// One TLS connection carrying Sluice frames, on the loop thread. The data path reads straight
// through: socket bytes -> TlsSession -> FrameDecoder -> proto::DecodeMessage -> Handler.
// A connection switched to a byte stream (UseByteStream) skips the frame layer:
// socket bytes -> TlsSession -> Handler::OnBytes.
// Protocol violations (bad frame, bad msgpack, unknown type or version) are answered here with
// an error frame and a close; the handler sees only well-formed messages.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/proto/frame_codec.h"
#include "common/proto/messages.h"
#include "common/tls/tls_session.h"
#include "common/uv/loop.h"
#include "common/uv/stream.h"
#include "common/uv/timer.h"

namespace sluice::net {

class TlsConnection;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void OnHandshake(TlsConnection&) {}
  virtual void OnMessage(TlsConnection& connection, proto::Message message) = 0;
  // Decrypted bytes of a connection switched to a byte stream (UseByteStream). `bytes` is valid
  // only during the call.
  virtual void OnBytes(TlsConnection&, ByteView) {}
  // Every queued byte reached the kernel: the moment to queue more bulk data.
  virtual void OnDrain(TlsConnection&) {}
  // The connection is over (local Close, peer close, error or deadline). Fires exactly once,
  // after the socket is closed. The handler may destroy the connection, but only via
  // Loop::Defer: this call runs inside the connection.
  virtual void OnClosed(TlsConnection& connection, std::optional<Error> why) = 0;
};

struct ConnectionOptions {
  size_t max_frame_bytes = proto::kDefaultMaxFrameBytes;
  // No handshake within this time closes the connection (Errc::kTimeout).
  uint64_t handshake_timeout_ms = 10'000;
  // How long Close() waits for queued bytes to drain before dropping the socket.
  uint64_t close_linger_ms = 5'000;
};

class TlsConnection {
 public:
  // Takes a connected stream and a fresh TLS session; `handler` must outlive the connection.
  TlsConnection(uv::Loop& loop, uv::HandlePtr<uv::Stream> stream,
                std::unique_ptr<tls::TlsSession> tls, ConnectionOptions options,
                ConnectionHandler* handler);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Starts reading and, for a client, the handshake; arms the handshake deadline.
  void Start();
  // Switches the connection from Sluice frames to a plain byte stream (another protocol on the
  // same port, such as HTTP for the dashboard): decrypted bytes, including any that arrived with
  // the handshake, go to ConnectionHandler::OnBytes from now on. Received bytes no longer re-arm
  // the idle deadline (the handler arms it for its own phases) and an expired one closes without
  // an error frame. Call from OnHandshake.
  void UseByteStream();
  // Encrypts and queues one message. Ignored once closing.
  void Send(const proto::Message& message);
  // Encrypts and queues raw bytes of a byte-stream connection. Ignored once closing.
  void SendBytes(ByteView bytes);
  // Sends an `error` frame, then closes (close_notify, flush, socket close).
  void SendErrorAndClose(proto::ErrorCode code, std::string message);
  // Orderly close: close_notify, flush (bounded by close_linger_ms), socket close, OnClosed.
  void Close();
  // Closes the connection with `why` unless a frame arrives within `timeout_ms` (0 disarms).
  // Each received frame re-arms it.
  void SetIdleDeadline(uint64_t timeout_ms);

  size_t pending_write_bytes() const;
  bool closing() const { return state_ != State::kOpen; }
  const std::string& peer_address() const { return peer_address_; }
  tls::TlsSession& tls() { return *tls_; }
  uint64_t id() const { return id_; }

 private:
  enum class State { kOpen, kClosing, kClosed };

  void OnData(ByteView ciphertext);
  void OnEnd(std::optional<Error> why);
  void DeliverFrames();
  void FlushCiphertext();
  void Fail(Error why);
  void BeginClose(std::optional<Error> why);
  void FinishClose();
  void ArmDeadline(uint64_t timeout_ms, Errc code, std::string what);

  uv::Loop& loop_;
  uv::HandlePtr<uv::Stream> stream_;
  std::unique_ptr<tls::TlsSession> tls_;
  ConnectionOptions options_;
  ConnectionHandler* handler_;
  proto::FrameDecoder decoder_;
  uv::HandlePtr<uv::Timer> deadline_;
  uint64_t idle_timeout_ms_ = 0;
  State state_ = State::kOpen;
  bool handshake_reported_ = false;
  bool byte_stream_ = false;
  std::optional<Error> close_reason_;
  std::string peer_address_;
  uint64_t id_;
};

}  // namespace sluice::net
