#pragma once
// One client connection on the server: the protocol state machine of docs/protocol.md.
//
//   handshake -> await_hello --enroll--> enrolling -> await_checkin --checkin--> authenticating
//                            --checkin---------------------------------------> authenticating
//   authenticating -> online (active: heartbeats until the peer goes quiet)
//                  -> online (passive: idle until the client closes)
// Store work is asynchronous; its completions are guarded by the session's lifetime.
// The port routes by ALPN: a connection that negotiated sluice-pair/1 is the other server of a
// failover pair, and this session only forwards its events to a pair::PairChannel; one that
// negotiated http/1.1 is the dashboard's, and its bytes go to a web::HttpSession.

#include <memory>
#include <string>

#include "common/base/clock.h"
#include "common/net/tls_connection.h"
#include "common/uv/lifetime.h"
#include "server/upgrade/upgrade_client.h"
#include "server/web/http_session.h"

namespace sluice::pair {
class PairChannel;
class PairService;
}  // namespace sluice::pair

namespace sluice::server {

class CheckinService;
class SessionRegistry;
class SettingsService;
class UpgradeCoordinator;
namespace metrics {
class Metrics;
}  // namespace metrics

// What a session works with; all outlive it (built once by the server).
struct SessionServices {
  const SettingsService* settings = nullptr;
  Clock* clock = nullptr;
  CheckinService* checkin = nullptr;  // enrollment, authentication, online marks
  UpgradeCoordinator* upgrades = nullptr;
  SessionRegistry* registry = nullptr;  // owns the session
  // The failover pair: whether clients are served here (a backup answers not_primary), and
  // where pair connections go.
  pair::PairService* pair = nullptr;
  metrics::Metrics* metrics = nullptr;  // handshakes, refusals, check-ins; required
  // The dashboard (ALPN http/1.1); null: such connections are refused.
  web::HttpHandler* web = nullptr;
  web::HttpSessionOptions http{};
};

class ClientSession final : public net::ConnectionHandler, public UpgradeClient {
 public:
  ClientSession(const SessionServices& services, uv::Loop& loop, uv::HandlePtr<uv::Stream> stream,
                std::unique_ptr<tls::TlsSession> tls, net::ConnectionOptions options);

  void Start() { connection_.Start(); }
  uint64_t id() const { return connection_.id(); }
  const std::string& peer_address() const { return connection_.peer_address(); }
  // True once the connection is being closed (it may still flush what was sent).
  bool closing() const { return connection_.closing(); }

  // UpgradeClient. client_id() is empty until the client authenticated.
  uint64_t connection_id() const override { return connection_.id(); }
  const std::string& client_id() const override { return client_id_; }
  bool active() const override { return active_; }
  const proto::Checkin& last_checkin() const override { return last_checkin_; }
  void Send(const proto::Message& message) override { connection_.Send(message); }
  void SendErrorAndClose(proto::ErrorCode code, std::string message) override {
    connection_.SendErrorAndClose(code, std::move(message));
  }
  void Close() override { connection_.Close(); }
  size_t pending_write_bytes() const override { return connection_.pending_write_bytes(); }
  void SetIdleDeadline(uint64_t ms) override { connection_.SetIdleDeadline(ms); }
  void ResetIdleDeadline() override;

  void OnHandshake(net::TlsConnection& connection) override;
  void OnMessage(net::TlsConnection& connection, proto::Message message) override;
  void OnBytes(net::TlsConnection& connection, ByteView bytes) override;
  void OnDrain(net::TlsConnection& connection) override;
  void OnClosed(net::TlsConnection& connection, std::optional<Error> why) override;

 private:
  enum class State { kHandshake, kAwaitHello, kEnrolling, kAwaitCheckin, kAuthenticating, kOnline };

  // Enrollment and check-in are the check-in service's; the session waits in kEnrolling or
  // kAuthenticating for its answer, then answers the client.
  void HandleEnroll(const proto::Enroll& enroll);
  void HandleCheckin(const proto::Checkin& checkin);
  void HandleHeartbeat(const proto::Heartbeat& heartbeat);
  // Sends `code` and closes; before the client is online, counted as a refused connection
  // (reason: the code).
  void Refuse(proto::ErrorCode code, std::string message);
  void OnCheckinRecorded(const proto::Checkin& checkin);

  const SessionServices& services_;
  net::TlsConnection connection_;
  State state_ = State::kHandshake;
  std::string client_id_;
  bool active_ = false;
  proto::Checkin last_checkin_;
  int64_t last_heartbeat_persisted_ms_ = 0;  // see CheckinService::RecordHeartbeat
  uint64_t checkin_read_ns_ = 0;  // uv_hrtime() when the check-in frame was read
  std::shared_ptr<pair::PairChannel> pair_channel_;  // set for a sluice-pair/1 connection
  std::shared_ptr<web::HttpSession> http_;           // set for an http/1.1 connection
  uv::Lifetime lifetime_;         // guards the check-in service's completions
};

}  // namespace sluice::server
