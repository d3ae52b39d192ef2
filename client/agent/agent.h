#pragma once
// The endpoint agent's check-in loop, on the loop thread.
//
// Each contact: dial, TLS with the site's pinned key, `enroll` on first contact (identity kept
// in the state dir), `checkin`. Active clients then stay connected and heartbeat; when the
// connection drops they reconnect with jittered exponential backoff. Passive clients close and
// come back after the server's next_checkin_s (jittered, at most 24 h), or when asked. The
// lifecycle is the table in contact_state.h; this class performs each transition's effects.

#include <functional>
#include <memory>
#include <optional>

#include "client/agent/contact_state.h"
#include "client/config/client_config.h"
#include "client/state/state_dir.h"
#include "client/update/updater.h"
#include "common/base/clock.h"
#include "common/base/jitter.h"
#include "common/net/tls_connection.h"
#include "common/tls/tls_context.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"

namespace sluice::client {

struct AgentOptions {
  ClientConfig config;
  std::string state_dir;
  // One contact, then stop: check in and, if the server grants an upgrade, apply it and report.
  bool once = false;
  uint64_t reconnect_min_ms = 1'000;
  uint64_t reconnect_max_ms = 60'000;
  uint64_t max_checkin_interval_s = 24 * 3600;
  // Called on the loop thread when the agent has stopped for good (once mode, or Stop()).
  std::function<void()> on_stopped;
};

class Agent final : public net::ConnectionHandler {
 public:
  // Loads the state dir and builds the pinned TLS context. Errors name the bad input.
  [[nodiscard]] static Result<std::unique_ptr<Agent>> Create(uv::Loop& loop, AgentOptions options);
  ~Agent() override;

  void Start();
  // Check in at once: an idle agent (passive, or active and disconnected) dials now.
  void CheckInNow();
  // Closes the connection and timers, then calls on_stopped (once). Idempotent.
  void Stop();

  // The outcome of the latest completed check-in attempt (an error until one succeeds).
  const Status& last_result() const { return last_result_; }
  const std::optional<proto::CheckinOk>& last_checkin() const { return last_checkin_; }
  const std::optional<Identity>& identity() const { return identity_; }
  // Set when the site refused this client's installer key (installer_expired, _revoked,
  // _outdated, _override_refused); the agent then stops instead of retrying.
  const std::optional<proto::ErrorCode>& installer_refusal() const { return installer_refusal_; }
  ContactState state() const { return state_; }
  bool connected() const { return HasConnection(state_) && !connection_->closing(); }

  void OnHandshake(net::TlsConnection& connection) override;
  void OnMessage(net::TlsConnection& connection, proto::Message message) override;
  void OnClosed(net::TlsConnection& connection, std::optional<Error> why) override;

 private:
  Agent(uv::Loop& loop, AgentOptions options, StateDir state,
        std::shared_ptr<tls::TlsContext> tls, std::optional<Identity> identity,
        std::unique_ptr<Updater> updater);
  bool active() const { return options_.config.mode == proto::Mode::kActive; }

  // Moves the contact machine. False (and nothing changes) when the table has no row.
  bool Fire(ContactEvent event);
  // Fire() for an event a site message causes; no row means the site broke the protocol, and
  // the agent answers `unexpected_message` and closes.
  bool Accept(ContactEvent event, std::string_view message_type);

  void Dial();
  void OnDialed(Result<uv::HandlePtr<uv::Stream>> stream);
  void SendCheckin();
  // One overload per message a client expects; the template refuses the rest.
  void Receive(const proto::Enrolled& enrolled);
  void Receive(const proto::CheckinOk& ok);
  void Receive(const proto::HeartbeatAck&) {}  // the frame itself re-armed the idle deadline
  void Receive(const proto::UpgradeGrant& grant);
  void Receive(const proto::Chunk& chunk);
  void Receive(const proto::UpgradeResultAck& ack);
  void Receive(const proto::UpgradeWait& wait);
  void Receive(const proto::UpgradeRefused& refused);
  void Receive(const proto::ErrorMessage& error);
  template <typename M>
  void Receive(const M& message) {
    Unexpected(proto::MessageType(message));
  }
  void Unexpected(std::string_view message_type);
  void ApplyAndReport();
  void SendReport(proto::UpgradeResult result);
  // Passive and one-shot clients hang up when the contact has nothing left to do.
  void EndContact();
  // A check-in attempt failed: counts toward the backoff and becomes last_result().
  void AttemptFailed(Error why);
  // Idle again after a contact that ended in `ended_in`: arm the contact timer (ComebackAfter),
  // or stop in one-shot mode.
  void ComeBack(ContactState ended_in);
  void NotifyStopped();

  uv::Loop& loop_;
  AgentOptions options_;
  StateDir state_dir_;
  std::shared_ptr<tls::TlsContext> tls_;
  std::shared_ptr<SSL_SESSION> resume_;
  std::optional<Identity> identity_;
  std::unique_ptr<Updater> updater_;
  std::optional<proto::UpgradeResult> unreported_;
  uint64_t download_size_ = 0;
  ContactState state_ = ContactState::kIdle;
  std::unique_ptr<net::TlsConnection> connection_;  // exists exactly when HasConnection(state_)
  uv::HandlePtr<uv::Timer> contact_timer_;          // armed only while idle
  uv::HandlePtr<uv::Timer> heartbeat_timer_;
  uv::HandlePtr<uv::Timer> hold_timer_;  // a held passive client hangs up when it fires
  // When this contact's site asked the agent back (loop time, ms): the next check-in of a
  // passive client, and the queue's retry time (which a grant cancels).
  std::optional<uint64_t> next_checkin_at_ms_;
  std::optional<uint64_t> retry_at_ms_;
  Status last_result_ = Fail(Errc::kClosed, "no check-in yet");
  std::optional<proto::ErrorCode> installer_refusal_;
  std::optional<proto::CheckinOk> last_checkin_;
  uint64_t heartbeat_seq_ = 0;
  int consecutive_failures_ = 0;
  sluice::Jitter jitter_;  // spreads reconnects and passive check-ins
  uv::Lifetime lifetime_;  // guards completions that outlive this object
};

}  // namespace sluice::client
