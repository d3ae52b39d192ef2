#include "load/sim_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <uv.h>

#include <algorithm>
#include <utility>

#include "common/crypto/random.h"
#include "common/net/dial.h"
#include "common/pkg/manifest.h"

namespace sluice::load {
namespace {

constexpr uint64_t kMinBackoffMs = 250;
constexpr uint64_t kMaxBackoffMs = 8'000;

sockaddr_storage SourceAddress(int index, int spread) {
  sockaddr_storage storage{};
  auto* address = reinterpret_cast<sockaddr_in*>(&storage);
  address->sin_family = AF_INET;
  address->sin_port = 0;
  const auto host = static_cast<uint32_t>(index % std::max(spread, 1) + 1);
  address->sin_addr.s_addr = htonl((127u << 24) | host);
  return storage;
}

size_t KindSlot(proto::ClientKind kind) { return static_cast<size_t>(kind) % kKindSlots; }

}  // namespace

SimClient::SimClient(FleetContext& context, int index, proto::ClientKind kind, bool active)
    : context_(context),
      index_(index),
      kind_(kind),
      active_(active),
      version_(context.config.version),
      apply_ms_(context.jitter.SpreadMs(context.apply_ms, context.apply_spread)),
      timer_(uv::Timer::Create(*context.loop)),
      heartbeat_(uv::Timer::Create(*context.loop)),
      hold_(uv::Timer::Create(*context.loop)) {}

SimClient::~SimClient() { ReleaseSlot(); }

void SimClient::Start(uint64_t delay_ms) {
  if (state_ == State::kDone || state_ == State::kFailed) return;
  state_ = State::kWorking;
  backoff_ms_ = 0;
  if (connection_) return;  // already connected: the open connection carries on
  timer_->Start(delay_ms, 0, [this] { Connect(); });
}

void SimClient::Disconnect() {
  timer_->Stop();
  if (state_ == State::kWorking) state_ = State::kIdle;
  if (connection_) connection_->Close();
}

void SimClient::Reconnect(uint64_t delay_ms) {
  if (delay_ms == 0) {
    backoff_ms_ = backoff_ms_ == 0 ? kMinBackoffMs : std::min(backoff_ms_ * 2, kMaxBackoffMs);
    // Uniform in [backoff / 2, backoff]: reconnecting clients must not move in lockstep.
    delay_ms = context_.jitter.SpreadMs(backoff_ms_ * 3 / 4, 1.0 / 3);
  }
  timer_->Start(delay_ms, 0, [this] { Connect(); });
}

void SimClient::Connect() {
  if (connection_ || state_ != State::kWorking || context_.stop) return;
  ++context_.counters.dials;
  auto on_dial = [this](Result<uv::HandlePtr<uv::Stream>> stream) {
    --context_.counters.dials;
    if (!stream) {
      ++context_.counters.connect_errors;
      return Reconnect(0);
    }
    auto session = tls::TlsSession::Create(context_.tls,
                                           context_.resume_sessions ? resume_ : nullptr);
    if (!session) return Reconnect(0);
    ++context_.counters.open_connections;
    connection_ = std::make_unique<net::TlsConnection>(*context_.loop, std::move(*stream),
                                                       std::move(*session),
                                                       net::ConnectionOptions{}, this);
    connection_->Start();
  };
  // The fleet destroys clients only once no dial is in flight (Fleet::~Fleet).
  net::DialTcp(*context_.loop, context_.host, context_.port,
               SourceAddress(index_, context_.source_addresses), std::move(on_dial));
}

void SimClient::OnHandshake(net::TlsConnection& connection) {
  ++context_.counters.handshakes;
  if (enrolled()) return SendCheckin();
  connection.Send(proto::Enroll{.enrollment_key = context_.config.enrollment_key,
                                .client_id = crypto::NewUuid(),
                                .kind = kind_,
                                .mode = mode(),
                                .platform = context_.platform,
                                .version = version_});
}

void SimClient::SendCheckin() {
  checkin_sent_ns_ = uv_hrtime();
  connection_->Send(proto::Checkin{.client_id = client_id_,
                                   .client_secret = client_secret_,
                                   .kind = kind_,
                                   .mode = mode(),
                                   .version = version_,
                                   .platform = context_.platform});
}

void SimClient::OnMessage(net::TlsConnection& connection, proto::Message message) {
  if (auto* enrolled = std::get_if<proto::Enrolled>(&message)) {
    client_id_ = enrolled->client_id;
    client_secret_ = enrolled->client_secret;
    SendCheckin();
  } else if (auto* ok = std::get_if<proto::CheckinOk>(&message)) {
    OnCheckinOk(*ok);
  } else if (auto* grant = std::get_if<proto::UpgradeGrant>(&message)) {
    OnGrant(*grant);
  } else if (auto* chunk = std::get_if<proto::Chunk>(&message)) {
    OnChunk(*chunk);
  } else if (std::holds_alternative<proto::UpgradeResultAck>(message)) {
    version_ = grant_version_;
    ++context_.counters.upgraded;
    context_.counters.last_upgrade_ns = uv_hrtime();
    Finish(State::kDone);
  } else if (auto* wait = std::get_if<proto::UpgradeWait>(&message)) {
    OnWait(*wait);
  } else if (std::holds_alternative<proto::UpgradeRefused>(message)) {
    ++context_.counters.failed;
    Finish(State::kFailed);
  } else if (std::holds_alternative<proto::ErrorMessage>(message)) {
    connection.Close();  // OnClosed decides whether to come back
  }
}

void SimClient::OnCheckinOk(const proto::CheckinOk& ok) {
  auto& counters = context_.counters;
  ++counters.checkins;
  if (connection_->tls().resumed()) ++counters.resumed;
  counters.checkin_ms.push_back(static_cast<double>(uv_hrtime() - checkin_sent_ns_) / 1e6);
  resume_ = connection_->tls().resumption_session();
  backoff_ms_ = 0;
  if (context_.goal == Goal::kEnroll || context_.goal == Goal::kCheckinLoop) {
    if (context_.goal == Goal::kEnroll) {
      ++counters.enrolled;
      state_ = State::kIdle;
    }
    connection_->Close();
    return;
  }
  if (context_.goal == Goal::kUpgrade && ok.up_to_date) {
    ++counters.upgraded;  // already at the site version: nothing to do
    Finish(State::kDone);
    return;
  }
  if (context_.goal == Goal::kStayConnected) SetConnected(true);
  if (active_) {
    const uint64_t interval_ms = std::max<uint64_t>(ok.heartbeat_s, 1) * 1000;
    heartbeat_->Start(interval_ms, interval_ms, [this] {
      if (connection_ && !connection_->closing()) {
        connection_->Send(proto::Heartbeat{.seq = ++heartbeat_seq_});
      }
    });
  } else if (context_.goal == Goal::kStayConnected) {
    next_delay_ms_ = std::max<uint64_t>(ok.next_checkin_s, 1) * 1000;
    connection_->Close();
  }
  // kUpgrade: the server answers the check-in with a grant, a wait or a refusal.
}

void SimClient::RecordAnswer(bool granted) {
  const uint64_t now = uv_hrtime();
  if (first_answer_ns_ == 0) first_answer_ns_ = now;
  if (!granted || grant_recorded_) return;
  grant_recorded_ = true;
  context_.counters.grants.push_back({.kind = kind_,
                                      .active = active_,
                                      .first_answer_ns = first_answer_ns_,
                                      .grant_ns = now});
}

void SimClient::OnGrant(const proto::UpgradeGrant& grant) {
  hold_->Stop();
  RecordAnswer(true);
  SetQueued(false);
  if (!holds_slot_) {
    holds_slot_ = true;
    auto& counters = context_.counters;
    ++counters.in_flight;
    const size_t slot = KindSlot(kind_);
    counters.max_in_flight_by_kind[slot] =
        std::max(counters.max_in_flight_by_kind[slot], ++counters.in_flight_by_kind[slot]);
  }
  lease_id_ = grant.lease_id;
  grant_version_ = grant.version;
  auto manifest = pkg::VerifyManifest(grant.manifest, grant.signature, context_.config.signing_key);
  if (!manifest) {
    ReleaseSlot();
    connection_->Send(proto::UpgradeResult{.lease_id = grant.lease_id,
                                           .version = grant.version,
                                           .outcome = proto::UpgradeOutcome::kVerifyFailed,
                                           .detail = manifest.error().message()});
    return;
  }
  size_ = manifest->size;
  received_ = 0;
  download_start_ns_ = uv_hrtime();
  connection_->Send(proto::Download{.lease_id = grant.lease_id, .offset = 0});
}

void SimClient::OnChunk(const proto::Chunk& chunk) {
  if (chunk.lease_id != lease_id_ || chunk.offset != received_) {
    connection_->Close();  // out of order: start over on a new connection
    return;
  }
  received_ += chunk.data.size();
  context_.counters.bytes += chunk.data.size();
  if (received_ < size_) return;
  // The slot stays busy for as long as the simulated link would take, then for the apply.
  uint64_t busy_ms = apply_ms_;
  if (context_.rate_bytes_per_s > 0) {
    const uint64_t link_ms = size_ * 1000 / context_.rate_bytes_per_s;
    const uint64_t elapsed_ms = (uv_hrtime() - download_start_ns_) / 1'000'000;
    busy_ms += link_ms > elapsed_ms ? link_ms - elapsed_ms : 0;
  }
  timer_->Start(busy_ms, 0, [this] { SendResult(); });
}

void SimClient::SendResult() {
  if (!connection_ || connection_->closing()) return;
  // From here on the slot is the server's to release; the client no longer holds it.
  ReleaseSlot();
  connection_->Send(proto::UpgradeResult{.lease_id = lease_id_,
                                         .version = grant_version_,
                                         .outcome = proto::UpgradeOutcome::kApplied,
                                         .detail = "simulated"});
}

void SimClient::OnWait(const proto::UpgradeWait& wait) {
  RecordAnswer(false);
  SetQueued(true);
  if (active_) return;  // the server pushes a grant when a slot frees
  const uint64_t retry_ms = std::max<uint64_t>(wait.retry_after_s, 1) * 1000;
  if (wait.hold_s > 0) {
    // Held: stay connected for a pushed grant; when the hold ends, leave and come back later.
    hold_->Start(wait.hold_s * 1000, 0, [this, retry_ms] {
      next_delay_ms_ = retry_ms;
      if (connection_) connection_->Close();
    });
    return;
  }
  next_delay_ms_ = retry_ms;
  connection_->Close();
}

void SimClient::SetQueued(bool queued) {
  if (queued == queued_) return;
  queued_ = queued;
  context_.counters.queued += queued ? 1 : -1;
}

void SimClient::SetConnected(bool connected) {
  if (connected == connected_) return;
  connected_ = connected;
  context_.counters.connected += connected ? 1 : -1;
}

void SimClient::ReleaseSlot() {
  if (!holds_slot_) return;
  holds_slot_ = false;
  --context_.counters.in_flight;
  --context_.counters.in_flight_by_kind[KindSlot(kind_)];
}

void SimClient::Finish(State state) {
  SetQueued(false);
  ReleaseSlot();
  state_ = state;
  if (connection_) connection_->Close();
}

void SimClient::OnClosed(net::TlsConnection&, std::optional<Error>) {
  --context_.counters.open_connections;
  heartbeat_->Stop();
  hold_->Stop();
  SetConnected(false);
  // A connection lost mid-download ends the client's hold; the lease resumes on reconnect.
  ReleaseSlot();
  // The connection is running this call: destroy it on the next loop iteration.
  context_.loop->Defer([closed = connection_.release()] { delete closed; });
  if (state_ != State::kWorking || context_.stop) return;
  const uint64_t delay_ms = std::exchange(next_delay_ms_, 0);
  if (context_.goal == Goal::kCheckinLoop) {
    if (context_.checkin_pause_ms == 0) return Connect();
    return Reconnect(context_.jitter.SpreadMs(context_.checkin_pause_ms, 0.1));
  }
  Reconnect(delay_ms);
}

}  // namespace sluice::load
