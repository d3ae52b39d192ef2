#include "client/agent/agent.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <variant>

#include "client/stats/system_stats.h"
#include "common/base/log.h"
#include "common/crypto/random.h"
#include "common/net/dial.h"
#include "common/pkg/manifest.h"

namespace sluice::client {
namespace {

bool IsInstallerRefusal(proto::ErrorCode code) {
  return code == proto::ErrorCode::kInstallerExpired ||
         code == proto::ErrorCode::kInstallerRevoked ||
         code == proto::ErrorCode::kInstallerOutdated ||
         code == proto::ErrorCode::kInstallerOverrideRefused;
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::Create(uv::Loop& loop, AgentOptions options) {
  auto state = StateDir::Open(options.state_dir);
  if (!state) return Fail(state.error());
  auto identity = state->LoadIdentity();
  if (!identity) return Fail(identity.error());
  auto tls = tls::TlsContext::CreateClient({.pin = options.config.pin});
  if (!tls) return Fail(tls.error());
  UpdaterOptions updater_options;
  updater_options.state_dir = options.state_dir;
  updater_options.installed_version = options.config.version;
  updater_options.site_public_key = options.config.signing_key;
  if (!options.config.health_check.empty()) {
    updater_options.health_check = options.config.health_check;
  }
  auto updater = Updater::Open(std::move(updater_options));
  if (!updater) return Fail(updater.error());
  return std::unique_ptr<Agent>(new Agent(loop, std::move(options), std::move(*state),
                                          std::move(*tls), *identity, std::move(*updater)));
}

Agent::Agent(uv::Loop& loop, AgentOptions options, StateDir state,
             std::shared_ptr<tls::TlsContext> tls, std::optional<Identity> identity,
             std::unique_ptr<Updater> updater)
    : loop_(loop),
      options_(std::move(options)),
      state_dir_(std::move(state)),
      tls_(std::move(tls)),
      identity_(std::move(identity)),
      updater_(std::move(updater)),
      contact_timer_(uv::Timer::Create(loop)),
      heartbeat_timer_(uv::Timer::Create(loop)),
      hold_timer_(uv::Timer::Create(loop)),
      jitter_(crypto::RandomU64()) {}

// Destroying an open connection closes its socket without calling back into this agent.
Agent::~Agent() = default;

bool Agent::Fire(ContactEvent event) {
  auto next = Transition(state_, event);
  if (!next) {
    Log("agent")->error("{}", next.error().message());
    return false;
  }
  state_ = *next;
  return true;
}

bool Agent::Accept(ContactEvent event, std::string_view message_type) {
  auto next = Transition(state_, event);
  if (!next) {
    Unexpected(message_type);
    return false;
  }
  state_ = *next;
  return true;
}

void Agent::Unexpected(std::string_view message_type) {
  const std::string why = "'" + std::string(message_type) +
                          "' is not expected by a client in state " + std::string(ToString(state_));
  if (IsAttempt(state_)) AttemptFailed(Error(Errc::kProtocol, why));
  (void)Fire(ContactEvent::kAbort);
  connection_->SendErrorAndClose(proto::ErrorCode::kUnexpectedMessage, why);
}

void Agent::Start() {
  // Finish or undo what a killed agent left half-done; its outcome is reported at check-in.
  unreported_ = updater_->Recover();
  if (!unreported_) unreported_ = updater_->PendingReport();
  contact_timer_->Start(0, 0, [this] { Dial(); });
}

void Agent::CheckInNow() {
  if (state_ == ContactState::kIdle) contact_timer_->Start(0, 0, [this] { Dial(); });
}

void Agent::Stop() {
  if (state_ == ContactState::kStopping || state_ == ContactState::kStopped) return;
  (void)Fire(ContactEvent::kStop);
  contact_timer_->Stop();
  heartbeat_timer_->Stop();
  hold_timer_->Stop();
  if (state_ == ContactState::kStopping) {
    connection_->Close();  // OnClosed finishes the stop
    return;
  }
  NotifyStopped();
}

void Agent::NotifyStopped() {
  if (options_.on_stopped) options_.on_stopped();
}

void Agent::Dial() {
  if (!Fire(ContactEvent::kDial)) return;
  next_checkin_at_ms_.reset();
  retry_at_ms_.reset();
  auto alive = lifetime_.Token();
  net::DialTcp(loop_, options_.config.host, options_.config.port, std::nullopt,
               [this, alive](Result<uv::HandlePtr<uv::Stream>> stream) {
                 if (alive.expired()) return;
                 OnDialed(std::move(stream));
               });
}

void Agent::OnDialed(Result<uv::HandlePtr<uv::Stream>> stream) {
  // Stopped while dialing: on_stopped has run; the stream is dropped.
  if (state_ == ContactState::kStopped) return;
  auto session = stream ? tls::TlsSession::Create(tls_, resume_)
                        : Result<std::unique_ptr<tls::TlsSession>>(Fail(stream.error()));
  if (!session) {
    (void)Fire(ContactEvent::kDialFailed);
    AttemptFailed(session.error());
    ComeBack(ContactState::kDialing);
    return;
  }
  (void)Fire(ContactEvent::kDialed);
  connection_ = std::make_unique<net::TlsConnection>(loop_, std::move(*stream),
                                                     std::move(*session),
                                                     net::ConnectionOptions{}, this);
  connection_->Start();
}

void Agent::OnHandshake(net::TlsConnection& connection) {
  if (!Fire(ContactEvent::kHandshake)) return;
  if (!identity_) {
    connection.Send(proto::Enroll{
        .enrollment_key = options_.config.enrollment_key,
        .client_id = crypto::NewUuid(),
        .kind = options_.config.kind,
        .mode = options_.config.mode,
        .platform = PlatformName(),
        .version = updater_->CurrentVersion(),
        .installer_key = options_.config.installer_key,
        .jump_group = options_.config.jump_group,
        .tag = options_.config.tag,
    });
    return;
  }
  SendCheckin();
}

void Agent::SendCheckin() {
  connection_->Send(proto::Checkin{
      .client_id = identity_->client_id,
      .client_secret = identity_->client_secret,
      .kind = options_.config.kind,
      .mode = options_.config.mode,
      .version = updater_->CurrentVersion(),
      .platform = PlatformName(),
      .stats = ReadSystemStats(state_dir_.path()),
  });
}

void Agent::OnMessage(net::TlsConnection& /*connection*/, proto::Message message) {
  std::visit([this](const auto& m) { Receive(m); }, message);
}

void Agent::Receive(const proto::Enrolled& enrolled) {
  if (!Accept(ContactEvent::kEnrolled, "enrolled")) return;
  Identity identity{enrolled.client_id, enrolled.client_secret};
  if (auto saved = state_dir_.SaveIdentity(identity); !saved) {
    // Without a stored secret this client could never authenticate again: stop here.
    AttemptFailed(Context(saved.error(), "saving identity").error());
    (void)Fire(ContactEvent::kAbort);
    connection_->Close();
    return;
  }
  identity_ = std::move(identity);
  Log("agent")->info("enrolled client={}", identity_->client_id);
  SendCheckin();
}

void Agent::Receive(const proto::CheckinOk& ok) {
  if (!Accept(ContactEvent::kCheckedIn, "checkin_ok")) return;
  consecutive_failures_ = 0;
  last_result_ = {};
  last_checkin_ = ok;
  resume_ = connection_->tls().resumption_session();
  Log("agent")->info("checked in client={} site_version={} up_to_date={}", identity_->client_id,
                     ok.site_version, ok.up_to_date);
  if (unreported_) connection_->Send(*unreported_);
  if (!active() && !options_.once) {
    const uint64_t next_s =
        std::clamp<uint64_t>(ok.next_checkin_s, 1, options_.max_checkin_interval_s);
    next_checkin_at_ms_ = loop_.NowMs() + jitter_.SpreadMs(next_s * 1000, 0.1);
  }
  // Outdated clients hear about their upgrade next; up-to-date ones may be done.
  if (ok.up_to_date && !unreported_) EndContact();
  if (active() && !options_.once) {
    const uint64_t interval_ms = std::max<uint64_t>(ok.heartbeat_s, 1) * 1000;
    connection_->SetIdleDeadline(3 * interval_ms);
    heartbeat_timer_->Start(interval_ms, interval_ms, [this] {
      if (connected()) connection_->Send(proto::Heartbeat{.seq = ++heartbeat_seq_});
    });
  }
}

void Agent::Receive(const proto::UpgradeGrant& grant) {
  if (!Accept(ContactEvent::kGrant, "upgrade_grant")) return;
  hold_timer_->Stop();
  retry_at_ms_.reset();  // the place in line is used
  Log("agent")->info("upgrade granted lease={} version={}", grant.lease_id, grant.version);
  auto offset = options_.config.signing_key.empty()
                    ? Result<uint64_t>(Fail(Errc::kCrypto, "no site signing key is pinned"))
                    : updater_->BeginDownload(grant);
  if (!offset) {
    SendReport({.lease_id = grant.lease_id,
                .version = grant.version,
                .outcome = proto::UpgradeOutcome::kVerifyFailed,
                .detail = offset.error().message()});
    (void)Fire(ContactEvent::kUpgradeDone);
    return;
  }
  // The updater verified the manifest; its size says whether a resumed download is complete.
  auto manifest = pkg::ParseManifest(grant.manifest);
  download_size_ = manifest ? manifest->size : 0;
  if (*offset >= download_size_) {
    ApplyAndReport();
    return;
  }
  connection_->Send(proto::Download{.lease_id = grant.lease_id, .offset = *offset});
}

void Agent::Receive(const proto::Chunk& chunk) {
  if (!Accept(ContactEvent::kChunk, "chunk")) return;
  auto complete = updater_->AddChunk(chunk);
  if (!complete) {
    connection_->SendErrorAndClose(proto::ErrorCode::kInvalidField, complete.error().message());
    return;
  }
  if (*complete) ApplyAndReport();
}

void Agent::Receive(const proto::UpgradeResultAck& ack) {
  updater_->ReportDelivered(ack.lease_id);
  unreported_.reset();
  EndContact();
}

void Agent::Receive(const proto::UpgradeWait& wait) {
  Log("agent")->info("upgrade queued position={} retry_after_s={} hold_s={}", wait.position,
                     wait.retry_after_s, wait.hold_s);
  if (active()) {
    if (options_.once) EndContact();
    return;  // an active client stays online; the site pushes its grant
  }
  // The site already spread retry_after_s and hold_s; they are used as given.
  retry_at_ms_ = loop_.NowMs() + std::max<uint64_t>(wait.retry_after_s, 1) * 1000;
  if (wait.hold_s == 0 || options_.once) {
    EndContact();
    return;
  }
  // Held: wait connected for a pushed grant; when the hold ends (or the connection drops),
  // come back at the retry time.
  if (!Accept(ContactEvent::kHold, "upgrade_wait")) return;
  hold_timer_->Start(wait.hold_s * 1000, 0, [this] { EndContact(); });
}

void Agent::Receive(const proto::UpgradeRefused& refused) {
  Log("agent")->info("upgrade refused reason={} message=\"{}\"", proto::ToString(refused.reason),
                     refused.message);
  EndContact();
}

void Agent::Receive(const proto::ErrorMessage& error) {
  if (error.code == proto::ErrorCode::kReconnect) {
    // The site was updated: not a failure; come back at once (ComeBack) and check in.
    Log("agent")->info("site asks to reconnect now: {}", error.message);
    if (Fire(ContactEvent::kReconnect)) connection_->Close();
    return;
  }
  const Error why(
      proto::ErrcFor(error.code),
      "server refused: " + std::string(proto::ToString(error.code)) + ": " + error.message);
  if (error.code == proto::ErrorCode::kNotEnrolled && identity_) {
    // The site no longer knows this client (deleted after long silence): enroll afresh.
    Log("agent")->warn("site does not know client={}; enrolling again", identity_->client_id);
    identity_.reset();
    state_dir_.ForgetIdentity();
  }
  if (state_ == ContactState::kDownloading) {
    last_result_ = Fail(Errc::kClosed, "the package download was cut off: " + why.message());
  }
  if (IsAttempt(state_)) AttemptFailed(why);
  if (!Fire(ContactEvent::kAbort)) return;
  if (!identity_ && IsInstallerRefusal(error.code)) {
    // Retrying cannot help: the installer key itself is no longer accepted.
    installer_refusal_ = error.code;
    Log("agent")->error("installer key refused code={} message=\"{}\"", proto::ToString(error.code),
                        error.message);
    Stop();
    return;
  }
  connection_->Close();
}

void Agent::EndContact() {
  if (active() && !options_.once) return;
  // A download in progress stays (the table keeps it): its report ends the contact later.
  if (Fire(ContactEvent::kHangUp) && state_ == ContactState::kHangingUp) connection_->Close();
}

void Agent::ApplyAndReport() {
  // Blocking by design: staging and the health check are short and the agent has nothing
  // else to do meanwhile; heartbeats resume afterwards.
  proto::UpgradeResult result = updater_->Apply();
  Log("agent")->info("upgrade finished lease={} version={} outcome={} detail=\"{}\"",
                     result.lease_id, result.version, proto::ToString(result.outcome),
                     result.detail);
  SendReport(std::move(result));
  (void)Fire(ContactEvent::kUpgradeDone);
}

void Agent::SendReport(proto::UpgradeResult result) {
  unreported_ = result;
  if (connected()) connection_->Send(result);
}

void Agent::AttemptFailed(Error why) {
  ++consecutive_failures_;
  Log("agent")->warn("check-in failed: {}", why.ToString());
  last_result_ = Fail(std::move(why));
}

void Agent::OnClosed(net::TlsConnection& connection, std::optional<Error> why) {
  heartbeat_timer_->Stop();
  hold_timer_->Stop();
  const ContactState ended_in = state_;
  if (ended_in == ContactState::kDownloading) {
    // A later grant resumes from the partial file; a one-shot run did not succeed.
    last_result_ = Fail(Errc::kClosed, "connection lost during the package download");
  }
  if (IsAttempt(ended_in)) {
    AttemptFailed(why.value_or(Error(Errc::kClosed, "server closed the connection")));
  } else if (why && ended_in != ContactState::kStopping) {
    Log("agent")->info("connection lost: {}", why->ToString());
  }
  // Destroy the connection outside its own callback.
  auto* closed = connection_.release();
  (void)connection;
  loop_.Defer([closed] { delete closed; });
  (void)Fire(ContactEvent::kClosed);
  if (state_ == ContactState::kStopped) {
    NotifyStopped();
    return;
  }
  ComeBack(ended_in);
}

void Agent::ComeBack(ContactState ended_in) {
  if (options_.once) {
    (void)Fire(ContactEvent::kStop);
    NotifyStopped();
    return;
  }
  std::optional<uint64_t> delay_ms;
  switch (ComebackAfter(ended_in)) {
    case Comeback::kSoon:
      // 0-200 ms, so a whole fleet does not dial in the same millisecond; the site's
      // connection rate shapes the rest.
      delay_ms = jitter_.SpreadMs(100, 1.0);
      break;
    case Comeback::kPlanned:
      if (auto at = retry_at_ms_ ? retry_at_ms_ : next_checkin_at_ms_) {
        const uint64_t now = loop_.NowMs();
        delay_ms = *at > now ? *at - now : 0;
      }
      break;
    case Comeback::kBackoff:
      break;
  }
  if (!delay_ms) {
    delay_ms = ReconnectBackoffMs(options_.reconnect_min_ms, options_.reconnect_max_ms,
                                  consecutive_failures_, jitter_);
  }
  contact_timer_->Start(*delay_ms, 0, [this] { Dial(); });
}

}  // namespace sluice::client
