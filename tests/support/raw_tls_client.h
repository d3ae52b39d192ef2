#pragma once
// A deliberately naive blocking TLS client that sends whatever bytes a test wants, for the
// bad-input tests against a live server. Every blocking call is bounded by a socket timeout.

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>

#include "common/base/bytes.h"
#include "common/proto/frame_codec.h"
#include "common/proto/messages.h"

namespace sluice::testing {

class RawTlsClient {
 public:
  // TCP connect to 127.0.0.1:port; with `handshake`, also completes TLS (offering ALPN `alpn`,
  // none if empty; no certificate check). Returns null if either fails.
  static std::unique_ptr<RawTlsClient> Connect(int port, bool handshake = true,
                                               const std::string& alpn = "sluice/1");
  ~RawTlsClient();

  int local_port() const { return local_port_; }
  // Plain TCP bytes, bypassing TLS.
  bool WritePlain(std::string_view bytes);
  // Bytes inside TLS records.
  bool Write(ByteView bytes);
  bool WriteFrame(ByteView payload);
  bool WriteMessage(const proto::Message& message);
  // The next frame decoded as a message; nullopt when the connection closed or timed out.
  std::optional<proto::Message> ReadMessage(int timeout_ms = 10'000);
  // Whatever bytes arrive next (up to 16 KiB); nullopt when the connection closed or nothing
  // came within the timeout.
  std::optional<std::string> ReadBytes(int timeout_ms = 10'000);
  // True once the server has closed the connection (EOF or close_notify) within the timeout.
  bool WaitClosed(int timeout_ms = 10'000);
  // Closes the TCP socket without close_notify.
  void Abort();

 private:
  RawTlsClient() = default;
  int ReadSome(uint8_t* out, int size, int timeout_ms);

  int fd_ = -1;
  int local_port_ = 0;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  proto::FrameDecoder decoder_;
};

}  // namespace sluice::testing
