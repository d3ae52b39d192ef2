#include "server/net/client_session.h"

#include "common/base/log.h"
#include "common/base/version.h"
#include "common/crypto/compare.h"
#include "common/crypto/secret.h"
#include "server/checkin/checkin_validation.h"
#include "server/installer/installer_repo.h"
#include "server/installer/installer_service.h"
#include "server/store/client_repo.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {
namespace {

constexpr uint64_t kHelloTimeoutMs = 10'000;
constexpr uint64_t kPassiveIdleMs = 30'000;
// Heartbeats refresh last_seen in SQLite at most this often, so idle fleets cost few writes.
constexpr int64_t kLastSeenPersistMs = 10 * 60'000;

enum class AuthOutcome { kOk, kNotEnrolled, kAuthFailed, kKindMismatch };

}  // namespace

ClientSession::ClientSession(SessionHost& host, uv::Loop& loop, uv::HandlePtr<uv::Stream> stream,
                             std::unique_ptr<tls::TlsSession> tls, net::ConnectionOptions options)
    : host_(host), connection_(loop, std::move(stream), std::move(tls), options, this) {}

void ClientSession::OnHandshake(net::TlsConnection& connection) {
  // Only `sluice/1` reaches the client protocol. `http/1.1` is negotiated for the web dashboard,
  // which this port does not serve yet; a connection without ALPN is no Sluice client.
  if (const std::string alpn = connection.tls().alpn(); alpn != tls::kSluiceAlpn) {
    Log("net")->info("connection refused conn={} peer={} reason=\"ALPN {} is not {}\"", id(),
                     peer_address(), alpn.empty() ? "(none)" : "'" + alpn + "'",
                     tls::kSluiceAlpn);
    connection.Close();
    return;
  }
  state_ = State::kAwaitHello;
  connection.SetIdleDeadline(kHelloTimeoutMs);
}

void ClientSession::OnMessage(net::TlsConnection&, proto::Message message) {
  if (auto* enroll = std::get_if<proto::Enroll>(&message); enroll && state_ == State::kAwaitHello) {
    HandleEnroll(std::move(*enroll));
  } else if (auto* checkin = std::get_if<proto::Checkin>(&message);
             checkin && (state_ == State::kAwaitHello || state_ == State::kAwaitCheckin)) {
    HandleCheckin(std::move(*checkin));
  } else if (auto* heartbeat = std::get_if<proto::Heartbeat>(&message);
             heartbeat && state_ == State::kOnline && active_) {
    HandleHeartbeat(*heartbeat);
  } else if (auto* download = std::get_if<proto::Download>(&message);
             download && state_ == State::kOnline) {
    host_.upgrades().OnDownload(*this, *download);
  } else if (auto* result = std::get_if<proto::UpgradeResult>(&message);
             result && state_ == State::kOnline) {
    host_.upgrades().OnResult(*this, *result);
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

void ClientSession::OnDrain(net::TlsConnection&) {
  if (state_ == State::kOnline) host_.upgrades().OnDrain(*this);
}

void ClientSession::Refuse(proto::ErrorCode code, std::string message) {
  connection_.SendErrorAndClose(code, std::move(message));
}

void ClientSession::HandleEnroll(proto::Enroll enroll) {
  if (enroll.installer_key.empty() &&
      !crypto::ConstantTimeEquals(enroll.enrollment_key, host_.enrollment_key())) {
    Refuse(proto::ErrorCode::kEnrollmentRefused, "wrong site enrollment key");
    return;
  }
  if (auto valid = ValidateEnroll(enroll); !valid) {
    Refuse(proto::ErrorCode::kInvalidField, valid.error().message());
    return;
  }
  state_ = State::kEnrolling;
  if (!enroll.installer_key.empty()) {
    // An installer key stands in for the enrollment key; the installer service checks it.
    const uint64_t id = this->id();
    SessionHost& host = host_;
    host_.installers().AuthorizeEnroll(enroll, [&host, id, enroll](EnrollDecision decision) {
      ClientSession* self = host.FindSession(id);
      if (self == nullptr) return;
      if (decision.refusal) {
        Log("checkin")->info("installer enrollment refused peer={} code={} reason=\"{}\"",
                             self->peer_address(), proto::ToString(*decision.refusal),
                             decision.message);
        self->Refuse(*decision.refusal, decision.message);
        return;
      }
      self->RecordEnrollment(enroll, std::move(decision.installer_id),
                             std::move(decision.jump_group), std::move(decision.tag));
    });
    return;
  }
  RecordEnrollment(enroll, "", "", "");
}

void ClientSession::RecordEnrollment(const proto::Enroll& enroll, std::string installer_id,
                                     std::string jump_group, std::string tag) {
  std::string secret = crypto::NewClientSecret();
  const int64_t now = host_.clock().WallMs();
  store::ClientRow row{
      .id = enroll.client_id,
      .kind = std::string(proto::ToString(enroll.kind)),
      .mode = std::string(proto::ToString(enroll.mode)),
      .secret_hash = crypto::HashSecret(secret),
      .version = enroll.version,
      .platform = enroll.platform,
      .first_seen_ms = now,
      .last_seen_ms = now,
      .peer_address = peer_address(),
  };
  const uint64_t id = this->id();
  SessionHost& host = host_;
  host_.store().Submit<void>(
      [row = std::move(row), installer_id = std::move(installer_id),
       jump_group = std::move(jump_group), tag = std::move(tag)](db::Database& db) -> Status {
        if (auto inserted = store::InsertClient(db, row); !inserted) return inserted;
        if (installer_id.empty()) return {};
        return RecordInstallerEnrollment(db, row.id, installer_id, jump_group, tag,
                                         row.first_seen_ms);
      },
      [&host, id, client_id = enroll.client_id, secret = std::move(secret)](Status inserted) {
        ClientSession* self = host.FindSession(id);
        if (self == nullptr) return;
        if (!inserted) {
          if (inserted.error().code() != Errc::kAlreadyExists) {
            Log("checkin")->error("enrollment not recorded client={} peer={} error=\"{}\"",
                                  client_id, self->peer_address(), inserted.error().ToString());
          }
          self->Refuse(inserted.error().code() == Errc::kAlreadyExists
                           ? proto::ErrorCode::kEnrollmentRefused
                           : proto::ErrorCode::kInternal,
                       inserted.error().code() == Errc::kAlreadyExists
                           ? "client id is already enrolled"
                           : "could not record the enrollment");
          return;
        }
        Log("checkin")->info("enrolled client={} peer={}", client_id, self->peer_address());
        self->state_ = State::kAwaitCheckin;
        self->Send(proto::Enrolled{.client_id = client_id, .client_secret = secret});
      });
}

void ClientSession::HandleCheckin(proto::Checkin checkin) {
  if (auto valid = ValidateCheckin(checkin); !valid) {
    Refuse(proto::ErrorCode::kInvalidField, valid.error().message());
    return;
  }
  state_ = State::kAuthenticating;
  checkin_read_ns_ = uv_hrtime();
  const bool active = checkin.mode == proto::Mode::kActive;
  store::CheckInUpdate update{
      .id = checkin.client_id,
      .mode = std::string(proto::ToString(checkin.mode)),
      .version = checkin.version,
      .platform = checkin.platform,
      .peer_address = peer_address(),
      .cpu_load = checkin.stats.cpu_load,
      .disk_used_pct = checkin.stats.disk_used_pct,
      .uptime_s = static_cast<int64_t>(checkin.stats.uptime_s),
      .console_user = checkin.stats.console_user,
      .online = active,
      .now_ms = host_.clock().WallMs(),
  };
  auto job = [update = std::move(update), secret = checkin.client_secret,
              kind = std::string(proto::ToString(checkin.kind))](
                 db::Database& db) -> Result<AuthOutcome> {
    auto found = store::FindClient(db, update.id);
    if (!found) return Fail(found.error());
    if (!found->has_value()) return AuthOutcome::kNotEnrolled;
    if (!crypto::ConstantTimeEquals(crypto::HashSecret(secret), (*found)->secret_hash)) {
      return AuthOutcome::kAuthFailed;
    }
    if ((*found)->kind != kind) return AuthOutcome::kKindMismatch;
    if (auto recorded = store::RecordCheckIn(db, update); !recorded) {
      return Fail(recorded.error());
    }
    return AuthOutcome::kOk;
  };
  const uint64_t id = this->id();
  SessionHost& host = host_;
  host_.store().Submit<AuthOutcome>(
      std::move(job), [&host, id, checkin = std::move(checkin)](Result<AuthOutcome> outcome) {
        ClientSession* self = host.FindSession(id);
        if (self != nullptr && self->connection().closing()) self = nullptr;
        if (self == nullptr) {
          // The connection ended (refused, dropped) while the check-in was being recorded as
          // online: it is not online (unless it has connected again since).
          if (outcome && *outcome == AuthOutcome::kOk && checkin.mode == proto::Mode::kActive &&
              host.FindClient(checkin.client_id) == nullptr) {
            host.store().Detach<void>(
                "checkin: marking client " + checkin.client_id + " offline",
                [client_id = checkin.client_id, now = host.clock().WallMs()](db::Database& db) {
                  return store::SetOnline(db, client_id, false, now);
                });
          }
          return;
        }
        if (!outcome) {
          Log("checkin")->error("check-in not recorded client={} peer={} error=\"{}\"",
                                checkin.client_id, self->peer_address(), outcome.error().ToString());
          self->Refuse(proto::ErrorCode::kInternal, "could not record the check-in");
          return;
        }
        switch (*outcome) {
          case AuthOutcome::kNotEnrolled:
            self->Refuse(proto::ErrorCode::kNotEnrolled, "unknown client id; enroll first");
            return;
          case AuthOutcome::kAuthFailed:
            self->Refuse(proto::ErrorCode::kAuthFailed, "wrong client secret");
            return;
          case AuthOutcome::kKindMismatch:
            self->Refuse(proto::ErrorCode::kInvalidField, "kind differs from the enrolled kind");
            return;
          case AuthOutcome::kOk:
            self->OnCheckinRecorded(checkin);
            return;
        }
      });
}

void ClientSession::OnCheckinRecorded(const proto::Checkin& checkin) {
  const SiteSettings& settings = host_.settings();
  client_id_ = checkin.client_id;
  active_ = checkin.mode == proto::Mode::kActive;
  last_checkin_ = checkin;
  last_checkin_.client_secret.clear();
  state_ = State::kOnline;
  last_seen_persisted_ms_ = host_.clock().WallMs();
  bool up_to_date = false;
  auto site = Version::Parse(settings.site_version);
  auto mine = Version::Parse(checkin.version);
  if (site && mine) up_to_date = *mine >= *site;
  Send(proto::CheckinOk{
      .site_version = settings.site_version,
      .up_to_date = up_to_date,
      .heartbeat_s = active_ ? static_cast<uint64_t>(settings.heartbeat_s) : 0,
      .next_checkin_s = active_ ? 0 : static_cast<uint64_t>(settings.passive_checkin_s),
      .server_time_ms = static_cast<uint64_t>(host_.clock().WallMs()),
  });
  host_.upgrades().load_monitor().RecordCheckin(static_cast<double>(uv_hrtime() - checkin_read_ns_) /
                                                1e6);
  Log("checkin")->debug("checked in client={} mode={} version={} peer={}", client_id_,
                        proto::ToString(checkin.mode), checkin.version, peer_address());
  connection_.SetIdleDeadline(active_ ? 3ULL * 1000 * settings.heartbeat_s : kPassiveIdleMs);
  host_.OnAuthenticated(*this);
  host_.upgrades().OnCheckedIn(*this);
}

void ClientSession::HandleHeartbeat(const proto::Heartbeat& heartbeat) {
  Send(proto::HeartbeatAck{.seq = heartbeat.seq});
  const int64_t now = host_.clock().WallMs();
  if (now - last_seen_persisted_ms_ < kLastSeenPersistMs) return;
  last_seen_persisted_ms_ = now;
  host_.store().Detach<void>(
      "checkin: recording the heartbeat of client " + client_id_,
      [id = client_id_, now](db::Database& db) { return store::SetOnline(db, id, true, now); });
}

void ClientSession::OnClosed(net::TlsConnection&, std::optional<Error> why) {
  if (why) {
    Log("net")->log(why->code() == Errc::kClosed ? spdlog::level::info : spdlog::level::warn,
                    "connection closed conn={} peer={} client={} reason=\"{}\"", id(),
                     peer_address(), client_id_.empty() ? "-" : client_id_, why->ToString());
  }
  if (state_ == State::kOnline) host_.upgrades().OnClosed(*this);
  host_.OnSessionClosed(*this);
}

}  // namespace sluice::server
