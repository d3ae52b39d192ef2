#include "client/agent/agent.h"

#include <algorithm>
#include <cstring>
#include <utility>

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
      state_(std::move(state)),
      tls_(std::move(tls)),
      identity_(std::move(identity)),
      updater_(std::move(updater)),
      contact_timer_(uv::Timer::Create(loop)),
      heartbeat_timer_(uv::Timer::Create(loop)),
      hold_timer_(uv::Timer::Create(loop)),
      jitter_(crypto::RandomU64()) {
}

// Destroying an open connection closes its socket without calling back into this agent.
Agent::~Agent() = default;

void Agent::Start() {
  // Finish or undo what a killed agent left half-done; its outcome is reported at check-in.
  unreported_ = updater_->Recover();
  if (!unreported_) unreported_ = updater_->PendingReport();
  ScheduleContact(0);
}

void Agent::CheckInNow() {
  if (stopped_ || attempt_open_) return;
  if (active() && connected()) return;
  ScheduleContact(0);
}

void Agent::Stop() {
  if (stopped_) return;
  stopped_ = true;
  contact_timer_->Stop();
  heartbeat_timer_->Stop();
  hold_timer_->Stop();
  if (connection_) {
    connection_->Close();  // OnClosed finishes the stop
    return;
  }
  if (options_.on_stopped) options_.on_stopped();
}

void Agent::ScheduleContact(uint64_t delay_ms) {
  if (stopped_) return;
  contact_timer_->Start(delay_ms, 0, [this] { Connect(); });
}

void Agent::Connect() {
  if (stopped_ || connection_ != nullptr) return;
  attempt_open_ = true;
  auto alive = lifetime_.Token();
  net::DialTcp(loop_, options_.config.host, options_.config.port, std::nullopt,
               [this, alive](Result<uv::HandlePtr<uv::Stream>> stream) {
                 if (alive.expired()) return;
                 OnDialed(std::move(stream));
               });
}

void Agent::OnDialed(Result<uv::HandlePtr<uv::Stream>> stream) {
  if (stopped_) {
    if (options_.on_stopped) options_.on_stopped();
    return;
  }
  if (!stream) {
    AttemptFinished(Fail(stream.error()));
    return;
  }
  auto session = tls::TlsSession::Create(tls_, resume_);
  if (!session) {
    AttemptFinished(Fail(session.error()));
    return;
  }
  connection_ = std::make_unique<net::TlsConnection>(loop_, std::move(*stream),
                                                     std::move(*session),
                                                     net::ConnectionOptions{}, this);
  connection_->Start();
}

void Agent::OnHandshake(net::TlsConnection& connection) {
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
      .stats = ReadSystemStats(state_.path()),
  });
}

void Agent::OnMessage(net::TlsConnection& connection, proto::Message message) {
  if (auto* enrolled = std::get_if<proto::Enrolled>(&message)) {
    OnEnrolled(*enrolled);
  } else if (auto* ok = std::get_if<proto::CheckinOk>(&message)) {
    OnCheckinOk(*ok);
  } else if (std::holds_alternative<proto::HeartbeatAck>(message)) {
    // The idle deadline was re-armed by the frame itself.
  } else if (auto* grant = std::get_if<proto::UpgradeGrant>(&message)) {
    OnGrant(*grant);
  } else if (auto* chunk = std::get_if<proto::Chunk>(&message)) {
    OnChunk(*chunk);
  } else if (auto* ack = std::get_if<proto::UpgradeResultAck>(&message)) {
    updater_->ReportDelivered(ack->lease_id);
    unreported_.reset();
    EndContact();
  } else if (auto* wait = std::get_if<proto::UpgradeWait>(&message)) {
    Log("agent")->info("upgrade queued position={} retry_after_s={} hold_s={}", wait->position,
                       wait->retry_after_s, wait->hold_s);
    if (!active()) {
      OnPassiveWait(*wait);
    } else if (options_.once) {
      EndContact();
    }
  } else if (auto* refused = std::get_if<proto::UpgradeRefused>(&message)) {
    Log("agent")->info("upgrade refused reason={} message=\"{}\"", proto::ToString(refused->reason),
                       refused->message);
    EndContact();
  } else if (auto* error = std::get_if<proto::ErrorMessage>(&message);
             error != nullptr && error->code == proto::ErrorCode::kReconnect) {
    // The site was updated: not a failure; come back at once (OnClosed) and check in.
    Log("agent")->info("site asks to reconnect now: {}", error->message);
    reconnect_now_ = true;
    attempt_open_ = false;
  } else if (auto* error = std::get_if<proto::ErrorMessage>(&message)) {
    if (error->code == proto::ErrorCode::kNotEnrolled) {
      // The site no longer knows this client (deleted after long silence): enroll afresh.
      Log("agent")->warn("site does not know client={}; enrolling again", identity_->client_id);
      identity_.reset();
      state_.ForgetIdentity();
    }
    AttemptFinished(Fail(proto::ErrcFor(error->code),
                         "server refused: " + std::string(proto::ToString(error->code)) + ": " +
                             error->message));
    if (!identity_ && IsInstallerRefusal(error->code)) {
      // Retrying cannot help: the installer key itself is no longer accepted.
      installer_refusal_ = error->code;
      Log("agent")->error("installer key refused code={} message=\"{}\"",
                          proto::ToString(error->code), error->message);
      Stop();
    }
  } else {
    connection.SendErrorAndClose(proto::ErrorCode::kUnexpectedMessage,
                                 "'" + std::string(proto::MessageType(message)) +
                                     "' is not expected by a client");
  }
}

void Agent::OnEnrolled(const proto::Enrolled& enrolled) {
  Identity identity{enrolled.client_id, enrolled.client_secret};
  if (auto saved = state_.SaveIdentity(identity); !saved) {
    // Without a stored secret this client could never authenticate again: stop here.
    AttemptFinished(Context(saved.error(), "saving identity"));
    connection_->Close();
    return;
  }
  identity_ = std::move(identity);
  Log("agent")->info("enrolled client={}", identity_->client_id);
  SendCheckin();
}

void Agent::OnCheckinOk(const proto::CheckinOk& ok) {
  last_checkin_ = ok;
  resume_ = connection_->tls().resumption_session();
  Log("agent")->info("checked in client={} site_version={} up_to_date={}", identity_->client_id,
                     ok.site_version, ok.up_to_date);
  AttemptFinished({});
  if (unreported_) connection_->Send(*unreported_);
  if (!active() && !options_.once) {
    const uint64_t next_s =
        std::clamp<uint64_t>(ok.next_checkin_s, 1, options_.max_checkin_interval_s);
    ScheduleContact(jitter_.SpreadMs(next_s * 1000, 0.1));
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

void Agent::EndContact() {
  if (downloading_) return;
  if (connection_ && (!active() || options_.once)) connection_->Close();
}

void Agent::OnPassiveWait(const proto::UpgradeWait& wait) {
  // The server already spread retry_after_s and hold_s; they are used as given.
  const uint64_t retry_ms = std::max<uint64_t>(wait.retry_after_s, 1) * 1000;
  if (wait.hold_s == 0 || options_.once) {
    ScheduleContact(retry_ms);
    EndContact();
    return;
  }
  // Held: wait connected for a pushed grant; when the hold ends (or the connection drops),
  // come back after retry_after_s.
  held_retry_ms_ = retry_ms;
  hold_timer_->Start(wait.hold_s * 1000, 0, [this] { EndContact(); });
}

void Agent::OnGrant(const proto::UpgradeGrant& grant) {
  hold_timer_->Stop();
  held_retry_ms_ = 0;
  Log("agent")->info("upgrade granted lease={} version={}", grant.lease_id, grant.version);
  auto offset = options_.config.signing_key.empty()
                    ? Result<uint64_t>(Fail(Errc::kCrypto, "no site signing key is pinned"))
                    : updater_->BeginDownload(grant);
  if (!offset) {
    SendReport({.lease_id = grant.lease_id,
                .version = grant.version,
                .outcome = proto::UpgradeOutcome::kVerifyFailed,
                .detail = offset.error().message()});
    return;
  }
  // The updater verified the manifest; its size says whether a resumed download is complete.
  auto manifest = pkg::ParseManifest(grant.manifest);
  download_size_ = manifest ? manifest->size : 0;
  if (*offset >= download_size_) {
    ApplyAndReport();
    return;
  }
  downloading_ = true;
  connection_->Send(proto::Download{.lease_id = grant.lease_id, .offset = *offset});
}

void Agent::OnChunk(const proto::Chunk& chunk) {
  auto complete = updater_->AddChunk(chunk);
  if (!complete) {
    connection_->SendErrorAndClose(proto::ErrorCode::kInvalidField, complete.error().message());
    return;
  }
  if (*complete) ApplyAndReport();
}

void Agent::ApplyAndReport() {
  // Blocking by design: staging and the health check are short and the agent has nothing
  // else to do meanwhile; heartbeats resume afterwards.
  downloading_ = false;
  proto::UpgradeResult result = updater_->Apply();
  Log("agent")->info("upgrade finished lease={} version={} outcome={} detail=\"{}\"",
                     result.lease_id, result.version, proto::ToString(result.outcome),
                     result.detail);
  SendReport(std::move(result));
}

void Agent::SendReport(proto::UpgradeResult result) {
  unreported_ = result;
  if (connected()) connection_->Send(result);
}

void Agent::AttemptFinished(Status result) {
  if (!attempt_open_) return;
  attempt_open_ = false;
  if (result) {
    consecutive_failures_ = 0;
  } else {
    ++consecutive_failures_;
    Log("agent")->warn("check-in failed: {}", result.error().ToString());
  }
  last_result_ = std::move(result);
  if (!last_result_ && options_.once) {
    if (connection_) {
      connection_->Close();
    } else {
      Stop();
    }
    return;
  }
  if (!last_result_ && !connection_) {
    // Dial or TLS setup failed: retry with backoff (passive clients too).
    ScheduleContact(ReconnectDelayMs());
  }
}

void Agent::OnClosed(net::TlsConnection& connection, std::optional<Error> why) {
  heartbeat_timer_->Stop();
  hold_timer_->Stop();
  const uint64_t held_retry_ms = std::exchange(held_retry_ms_, 0);
  if (downloading_) {
    // A later grant resumes from the partial file; a one-shot run did not succeed.
    downloading_ = false;
    last_result_ = Fail(Errc::kClosed, "connection lost during the package download");
  }
  if (attempt_open_) {
    AttemptFinished(Fail(why.value_or(Error(Errc::kClosed, "server closed the connection"))));
  } else if (why && !stopped_) {
    Log("agent")->info("connection lost: {}", why->ToString());
  }
  // Destroy the connection outside its own callback.
  auto* closed = connection_.release();
  (void)connection;
  loop_.Defer([closed] { delete closed; });
  if (stopped_ || options_.once) {
    stopped_ = true;
    if (options_.on_stopped) options_.on_stopped();
    return;
  }
  if (held_retry_ms > 0 && !reconnect_now_) {
    ScheduleContact(held_retry_ms);  // its place in line waits for it
    return;
  }
  if (reconnect_now_) {
    // A little jitter (0-200 ms) so a whole fleet does not dial in the same millisecond; the
    // site's connection rate shapes the rest.
    reconnect_now_ = false;
    ScheduleContact(jitter_.SpreadMs(100, 1.0));
    return;
  }
  if (active() || !last_result_) ScheduleContact(ReconnectDelayMs());
}

uint64_t Agent::ReconnectDelayMs() {
  const int exponent = std::clamp(consecutive_failures_ - 1, 0, 16);
  const uint64_t backoff =
      std::min(options_.reconnect_min_ms << exponent, options_.reconnect_max_ms);
  return jitter_.SpreadMs(backoff, 0.2);
}

}  // namespace sluice::client
