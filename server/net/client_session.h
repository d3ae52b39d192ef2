#pragma once
// One client connection on the server: the protocol state machine of docs/protocol.md.
//
//   handshake -> await_hello --enroll--> enrolling -> await_checkin --checkin--> authenticating
//                            --checkin---------------------------------------> authenticating
//   authenticating -> online (active: heartbeats until the peer goes quiet)
//                  -> online (passive: idle until the client closes)
// Store work is asynchronous; completions find the session again by connection id.

#include <memory>
#include <string>

#include "common/net/tls_connection.h"
#include "server/net/session_host.h"

namespace sluice::server {

class ClientSession final : public net::ConnectionHandler {
 public:
  ClientSession(SessionHost& host, uv::Loop& loop, uv::HandlePtr<uv::Stream> stream,
                std::unique_ptr<tls::TlsSession> tls, net::ConnectionOptions options);

  void Start() { connection_.Start(); }
  void Close() { connection_.Close(); }
  void Send(const proto::Message& message) { connection_.Send(message); }

  uint64_t id() const { return connection_.id(); }
  // Empty until the client authenticated.
  const std::string& client_id() const { return client_id_; }
  bool active() const { return active_; }
  // What the client said at its latest check-in (the secret is not kept).
  const proto::Checkin& last_checkin() const { return last_checkin_; }
  net::TlsConnection& connection() { return connection_; }
  const std::string& peer_address() const { return connection_.peer_address(); }

  void OnHandshake(net::TlsConnection& connection) override;
  void OnMessage(net::TlsConnection& connection, proto::Message message) override;
  void OnDrain(net::TlsConnection& connection) override;
  void OnClosed(net::TlsConnection& connection, std::optional<Error> why) override;

 private:
  enum class State { kHandshake, kAwaitHello, kEnrolling, kAwaitCheckin, kAuthenticating, kOnline };

  void HandleEnroll(proto::Enroll enroll);
  // Records the enrolled client (and, for an installer key, which installer enrolled it with
  // which group and tag), then answers `enrolled`.
  void RecordEnrollment(const proto::Enroll& enroll, std::string installer_id,
                        std::string jump_group, std::string tag);
  void HandleCheckin(proto::Checkin checkin);
  void HandleHeartbeat(const proto::Heartbeat& heartbeat);
  void Refuse(proto::ErrorCode code, std::string message);
  void OnCheckinRecorded(const proto::Checkin& checkin);

  SessionHost& host_;
  net::TlsConnection connection_;
  State state_ = State::kHandshake;
  std::string client_id_;
  bool active_ = false;
  proto::Checkin last_checkin_;
  int64_t last_seen_persisted_ms_ = 0;
  uint64_t checkin_read_ns_ = 0;  // uv_hrtime() when the check-in frame was read
};

}  // namespace sluice::server
