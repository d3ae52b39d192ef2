#include "server/checkin/checkin_service.h"

#include "common/base/log.h"
#include "common/crypto/compare.h"
#include "common/crypto/secret.h"
#include "server/checkin/checkin_validation.h"
#include "server/installer/installer_repo.h"
#include "server/store/client_repo.h"

namespace sluice::server {
namespace {

// Heartbeats refresh last_seen in SQLite at most this often.
constexpr int64_t kLastSeenPersistMs = 10 * 60'000;

enum class AuthOutcome { kOk, kNotEnrolled, kAuthFailed, kKindMismatch };

std::unexpected<Refusal> Refused(proto::ErrorCode code, std::string message) {
  return std::unexpected<Refusal>(Refusal{code, std::move(message)});
}

}  // namespace

CheckinService::CheckinService(CheckinServiceOptions options) : options_(std::move(options)) {}

void CheckinService::Enroll(const proto::Enroll& enroll, const std::string& peer_address,
                            std::function<void(std::expected<std::string, Refusal>)> done) {
  if (enroll.installer_key.empty() &&
      !crypto::ConstantTimeEquals(enroll.enrollment_key, options_.enrollment_key)) {
    done(Refused(proto::ErrorCode::kEnrollmentRefused, "wrong site enrollment key"));
    return;
  }
  if (auto valid = ValidateEnroll(enroll); !valid) {
    done(Refused(proto::ErrorCode::kInvalidField, valid.error().message()));
    return;
  }
  if (enroll.installer_key.empty()) {
    RecordEnrollment(enroll, peer_address, EnrollDecision{}, std::move(done));
    return;
  }
  // An installer key stands in for the enrollment key; the installer service checks it.
  options_.installers->AuthorizeEnroll(
      enroll, lifetime_.Guard([this, enroll, peer_address,
                               done = std::move(done)](EnrollDecision decision) mutable {
        if (decision.refusal) {
          Log("checkin")->info("installer enrollment refused peer={} code={} reason=\"{}\"",
                               peer_address, proto::ToString(*decision.refusal), decision.message);
          done(Refused(*decision.refusal, decision.message));
          return;
        }
        RecordEnrollment(enroll, peer_address, std::move(decision), std::move(done));
      }));
}

void CheckinService::RecordEnrollment(
    const proto::Enroll& enroll, const std::string& peer_address, EnrollDecision decision,
    std::function<void(std::expected<std::string, Refusal>)> done) {
  std::string secret = crypto::NewClientSecret();
  const int64_t now = options_.clock->WallMs();
  store::ClientRow row{
      .id = enroll.client_id,
      .kind = std::string(proto::ToString(enroll.kind)),
      .mode = std::string(proto::ToString(enroll.mode)),
      .secret_hash = crypto::HashSecret(secret),
      .version = enroll.version,
      .platform = enroll.platform,
      .first_seen_ms = now,
      .last_seen_ms = now,
      .peer_address = peer_address,
  };
  options_.store->Submit<void>(
      [row = std::move(row), decision = std::move(decision)](db::Database& db) -> Status {
        if (auto inserted = store::InsertClient(db, row); !inserted) return inserted;
        if (decision.installer_id.empty()) return {};
        return RecordInstallerEnrollment(db, row.id, decision.installer_id, decision.jump_group,
                                         decision.tag, row.first_seen_ms);
      },
      [client_id = enroll.client_id, peer_address, secret = std::move(secret),
       done = std::move(done)](Status inserted) {
        if (!inserted) {
          if (inserted.error().code() == Errc::kAlreadyExists) {
            done(Refused(proto::ErrorCode::kEnrollmentRefused, "client id is already enrolled"));
            return;
          }
          Log("checkin")->error("enrollment not recorded client={} peer={} error=\"{}\"", client_id,
                                peer_address, inserted.error().ToString());
          done(Refused(proto::ErrorCode::kInternal, "could not record the enrollment"));
          return;
        }
        Log("checkin")->info("enrolled client={} peer={}", client_id, peer_address);
        done(secret);
      });
}

void CheckinService::CheckIn(const proto::Checkin& checkin, const std::string& peer_address,
                             std::function<void(std::optional<Refusal>)> done) {
  if (auto valid = ValidateCheckin(checkin); !valid) {
    done(Refusal{proto::ErrorCode::kInvalidField, valid.error().message()});
    return;
  }
  store::CheckInUpdate update{
      .id = checkin.client_id,
      .mode = std::string(proto::ToString(checkin.mode)),
      .version = checkin.version,
      .platform = checkin.platform,
      .peer_address = peer_address,
      .cpu_load = checkin.stats.cpu_load,
      .disk_used_pct = checkin.stats.disk_used_pct,
      .uptime_s = static_cast<int64_t>(checkin.stats.uptime_s),
      .console_user = checkin.stats.console_user,
      .online = checkin.mode == proto::Mode::kActive,
      .now_ms = options_.clock->WallMs(),
  };
  auto job =
      [update = std::move(update), secret = checkin.client_secret,
       kind = std::string(proto::ToString(checkin.kind))](db::Database& db) -> Result<AuthOutcome> {
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
  options_.store->Submit<AuthOutcome>(
      std::move(job), [client_id = checkin.client_id, peer_address,
                       done = std::move(done)](Result<AuthOutcome> outcome) {
        if (!outcome) {
          Log("checkin")->error("check-in not recorded client={} peer={} error=\"{}\"", client_id,
                                peer_address, outcome.error().ToString());
          done(Refusal{proto::ErrorCode::kInternal, "could not record the check-in"});
          return;
        }
        switch (*outcome) {
          case AuthOutcome::kNotEnrolled:
            done(Refusal{proto::ErrorCode::kNotEnrolled, "unknown client id; enroll first"});
            return;
          case AuthOutcome::kAuthFailed:
            done(Refusal{proto::ErrorCode::kAuthFailed, "wrong client secret"});
            return;
          case AuthOutcome::kKindMismatch:
            done(Refusal{proto::ErrorCode::kInvalidField, "kind differs from the enrolled kind"});
            return;
          case AuthOutcome::kOk:
            done(std::nullopt);
            return;
        }
      });
}

void CheckinService::RecordHeartbeat(const std::string& client_id, int64_t* last_persisted_ms) {
  const int64_t now = options_.clock->WallMs();
  if (now - *last_persisted_ms < kLastSeenPersistMs) return;
  *last_persisted_ms = now;
  options_.store->Detach<void>(
      "checkin: recording the heartbeat of client " + client_id,
      [client_id, now](db::Database& db) { return store::SetOnline(db, client_id, true, now); });
}

void CheckinService::MarkOffline(const std::string& client_id) {
  options_.store->Detach<void>("checkin: marking client " + client_id + " offline",
                               [client_id, now = options_.clock->WallMs()](db::Database& db) {
                                 return store::SetOnline(db, client_id, false, now);
                               });
}

}  // namespace sluice::server
