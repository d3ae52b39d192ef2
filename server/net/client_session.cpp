#include "server/net/client_session.h"

#include "common/base/log.h"
#include "common/base/version.h"
#include "server/checkin/checkin_service.h"
#include "server/metrics/metrics.h"
#include "server/net/session_registry.h"
#include "server/pair/pair_service.h"
#include "server/site/settings_service.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {
namespace {

constexpr uint64_t kHelloTimeoutMs = 10'000;
constexpr uint64_t kPassiveIdleMs = 30'000;
}  // namespace

ClientSession::ClientSession(const SessionServices& services, uv::Loop& loop,
                             uv::HandlePtr<uv::Stream> stream, std::unique_ptr<tls::TlsSession> tls,
                             net::ConnectionOptions options)
    : services_(services), connection_(loop, std::move(stream), std::move(tls), options, this) {}

void ClientSession::OnHandshake(net::TlsConnection& connection) {
  // `sluice/1` reaches the client protocol, `sluice-pair/1` the failover pair and `http/1.1`
  // the dashboard; a connection without ALPN is no Sluice client.
  services_.metrics->Handshake(connection.tls().resumed());
  const std::string alpn = connection.tls().alpn();
  if (alpn == tls::kPairAlpn && services_.pair != nullptr) {
    pair_channel_ = services_.pair->Accept(connection);
    return;
  }
  if (alpn == tls::kHttpAlpn && services_.web != nullptr) {
    connection.UseByteStream();
    http_ = std::make_shared<web::HttpSession>(connection, *services_.web, services_.http);
    http_->Start();
    return;
  }
  if (alpn != tls::kSluiceAlpn) {
    Log("net")->info("connection refused conn={} peer={} reason=\"ALPN {} is not {}\"", id(),
                     peer_address(), alpn.empty() ? "(none)" : "'" + alpn + "'",
                     tls::kSluiceAlpn);
    services_.metrics->Refused(metrics::kRefusedAlpn);
    connection.Close();
    return;
  }
  state_ = State::kAwaitHello;
  connection.SetIdleDeadline(kHelloTimeoutMs);
}

void ClientSession::OnMessage(net::TlsConnection& connection, proto::Message message) {
  if (pair_channel_) {
    pair_channel_->OnMessage(connection, std::move(message));
    return;
  }
  if (state_ == State::kAwaitHello && services_.pair != nullptr &&
      !services_.pair->serves_clients()) {
    Refuse(proto::ErrorCode::kNotPrimary,
           "this server is not its failover pair's primary (a backup, or a primary handing "
           "over) and serves no clients; retry later");
    return;
  }
  if (auto* enroll = std::get_if<proto::Enroll>(&message); enroll && state_ == State::kAwaitHello) {
    HandleEnroll(*enroll);
  } else if (auto* checkin = std::get_if<proto::Checkin>(&message);
             checkin && (state_ == State::kAwaitHello || state_ == State::kAwaitCheckin)) {
    HandleCheckin(*checkin);
  } else if (auto* heartbeat = std::get_if<proto::Heartbeat>(&message);
             heartbeat && state_ == State::kOnline && active_) {
    HandleHeartbeat(*heartbeat);
  } else if (auto* download = std::get_if<proto::Download>(&message);
             download && state_ == State::kOnline) {
    services_.upgrades->OnDownload(*this, *download);
  } else if (auto* result = std::get_if<proto::UpgradeResult>(&message);
             result && state_ == State::kOnline) {
    services_.upgrades->OnResult(*this, *result);
  } else if (auto* error = std::get_if<proto::ErrorMessage>(&message)) {
    // An error is never answered with one (two peers must not trade errors): note it, hang up.
    Log("net")->warn("client sent an error conn={} peer={} client={} code={} message=\"{}\"", id(),
                     peer_address(), client_id_.empty() ? "-" : client_id_,
                     proto::ToString(error->code), error->message);
    connection_.Close();
  } else {
    Refuse(proto::ErrorCode::kUnexpectedMessage,
           "'" + std::string(proto::MessageType(message)) + "' is not expected now");
  }
}

void ClientSession::OnBytes(net::TlsConnection&, ByteView bytes) {
  if (http_) http_->OnBytes(bytes);
}

void ClientSession::OnDrain(net::TlsConnection& connection) {
  if (pair_channel_) {
    pair_channel_->OnDrain(connection);
    return;
  }
  if (state_ == State::kOnline) services_.upgrades->OnDrain(*this);
}

void ClientSession::Refuse(proto::ErrorCode code, std::string message) {
  if (state_ != State::kOnline) services_.metrics->Refused(proto::ToString(code));
  connection_.SendErrorAndClose(code, std::move(message));
}

void ClientSession::HandleEnroll(const proto::Enroll& enroll) {
  state_ = State::kEnrolling;
  services_.checkin->Enroll(
      enroll, peer_address(),
      lifetime_.Guard(
          [this, client_id = enroll.client_id](std::expected<std::string, Refusal> secret) {
            if (!secret) {
              Refuse(secret.error().code, secret.error().message);
              return;
            }
            state_ = State::kAwaitCheckin;
            Send(proto::Enrolled{.client_id = client_id, .client_secret = *secret});
          }));
}

void ClientSession::HandleCheckin(const proto::Checkin& checkin) {
  state_ = State::kAuthenticating;
  checkin_read_ns_ = uv_hrtime();
  services_.checkin->CheckIn(checkin, peer_address(),
                             [this, alive = lifetime_.Token(), &services = services_,
                              checkin](std::optional<Refusal> refusal) {
                               if (alive.expired() || closing()) {
                                 // The connection ended (refused, dropped) while the check-in was
                                 // being recorded as online: it is not online (unless it has
                                 // connected again since).
                                 if (!refusal && checkin.mode == proto::Mode::kActive &&
                                     services.registry->FindClient(checkin.client_id) == nullptr) {
                                   services.checkin->MarkOffline(checkin.client_id);
                                 }
                                 return;
                               }
                               if (refusal) {
                                 Refuse(refusal->code, refusal->message);
                                 return;
                               }
                               OnCheckinRecorded(checkin);
                             });
}

void ClientSession::OnCheckinRecorded(const proto::Checkin& checkin) {
  const SiteSettings& settings = services_.settings->settings();
  client_id_ = checkin.client_id;
  active_ = checkin.mode == proto::Mode::kActive;
  last_checkin_ = checkin;
  last_checkin_.client_secret.clear();
  state_ = State::kOnline;
  last_heartbeat_persisted_ms_ = services_.clock->WallMs();
  bool up_to_date = false;
  auto site = Version::Parse(settings.site_version);
  auto mine = Version::Parse(checkin.version);
  if (site && mine) up_to_date = *mine >= *site;
  Send(proto::CheckinOk{
      .site_version = settings.site_version,
      .up_to_date = up_to_date,
      .heartbeat_s = active_ ? static_cast<uint64_t>(settings.heartbeat_s) : 0,
      .next_checkin_s = active_ ? 0 : static_cast<uint64_t>(settings.passive_checkin_s),
      .server_time_ms = static_cast<uint64_t>(services_.clock->WallMs()),
  });
  const double checkin_ms = static_cast<double>(uv_hrtime() - checkin_read_ns_) / 1e6;
  services_.upgrades->load_monitor().RecordCheckin(checkin_ms);
  services_.metrics->CheckedIn(checkin_ms / 1e3);
  Log("checkin")->debug("checked in client={} mode={} version={} peer={}", client_id_,
                        proto::ToString(checkin.mode), checkin.version, peer_address());
  ResetIdleDeadline();
  services_.registry->OnCheckedIn(*this);
  services_.upgrades->OnCheckedIn(*this);
}

void ClientSession::ResetIdleDeadline() {
  connection_.SetIdleDeadline(active_ ? 3ULL * 1000 * services_.settings->settings().heartbeat_s
                                      : kPassiveIdleMs);
}

void ClientSession::HandleHeartbeat(const proto::Heartbeat& heartbeat) {
  Send(proto::HeartbeatAck{.seq = heartbeat.seq});
  services_.checkin->RecordHeartbeat(client_id_, &last_heartbeat_persisted_ms_);
}

void ClientSession::OnClosed(net::TlsConnection& connection, std::optional<Error> why) {
  if (pair_channel_) {
    pair_channel_->OnClosed(connection, std::move(why));
    pair_channel_.reset();
    services_.registry->OnClosed(*this);
    return;
  }
  if (http_) {
    http_->OnClosed();
    http_.reset();
    services_.registry->OnClosed(*this);
    return;
  }
  if (why && state_ == State::kHandshake) {
    services_.metrics->Refused(why->code() == Errc::kTimeout ? metrics::kRefusedHandshakeTimeout
                                                             : metrics::kRefusedHandshake);
  }
  if (why) {
    Log("net")->log(why->code() == Errc::kClosed ? spdlog::level::info : spdlog::level::warn,
                    "connection closed conn={} peer={} client={} reason=\"{}\"", id(),
                     peer_address(), client_id_.empty() ? "-" : client_id_, why->ToString());
  }
  if (state_ == State::kOnline) services_.upgrades->OnClosed(*this);
  // The client's current session going away takes it offline (an active client is online only
  // while connected).
  if (services_.registry->OnClosed(*this) && active_) services_.checkin->MarkOffline(client_id_);
}

}  // namespace sluice::server
