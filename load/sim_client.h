#pragma once
// One simulated client. It speaks the real protocol (common/proto messages over
// common/net/TlsConnection, manifests checked with the site key like the agent does) but
// touches no disk: chunks are counted, the apply is a timer. Its behaviour after enrollment is
// the fleet's Goal. All calls on the loop thread; the FleetContext outlives it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/net/tls_connection.h"
#include "common/uv/timer.h"
#include "load/fleet_context.h"

namespace sluice::load {

class SimClient : public net::ConnectionHandler {
 public:
  SimClient(FleetContext& context, int index, proto::ClientKind kind, bool active);
  ~SimClient() override;
  SimClient(const SimClient&) = delete;
  SimClient& operator=(const SimClient&) = delete;

  // Connects after `delay_ms` and works towards the context's current goal. A client that is
  // not enrolled enrolls first. No-op for a client that finished or gave up.
  void Start(uint64_t delay_ms);
  // Closes the connection, if any, without reconnecting.
  void Disconnect();

  bool enrolled() const { return !client_id_.empty(); }
  bool upgraded() const { return state_ == State::kDone; }

  void OnHandshake(net::TlsConnection& connection) override;
  void OnMessage(net::TlsConnection& connection, proto::Message message) override;
  void OnClosed(net::TlsConnection& connection, std::optional<Error> why) override;

 private:
  enum class State { kIdle, kWorking, kDone, kFailed };

  void Connect();
  void SendCheckin();
  void OnCheckinOk(const proto::CheckinOk& ok);
  void OnGrant(const proto::UpgradeGrant& grant);
  void OnChunk(const proto::Chunk& chunk);
  void OnWait(const proto::UpgradeWait& wait);
  // Notes the first upgrade answer and the first grant (FleetCounters::grants).
  void RecordAnswer(bool granted);
  void SendResult();
  void Finish(State state);
  void SetQueued(bool queued);
  void SetConnected(bool connected);
  void ReleaseSlot();
  // Schedules the next connection attempt; `delay_ms` 0 picks the backoff.
  void Reconnect(uint64_t delay_ms);
  proto::Mode mode() const { return active_ ? proto::Mode::kActive : proto::Mode::kPassive; }

  FleetContext& context_;
  int index_;
  proto::ClientKind kind_;
  bool active_;
  State state_ = State::kIdle;
  std::string client_id_;
  std::string client_secret_;
  std::string version_;
  uint64_t apply_ms_;  // this client's simulated apply time
  std::shared_ptr<SSL_SESSION> resume_;
  std::unique_ptr<net::TlsConnection> connection_;
  uv::HandlePtr<uv::Timer> timer_;      // connect delay / apply / reconnect
  uv::HandlePtr<uv::Timer> heartbeat_;  // active clients while connected
  uv::HandlePtr<uv::Timer> hold_;       // passive clients held in the queue
  uint64_t checkin_sent_ns_ = 0;
  uint64_t heartbeat_seq_ = 0;
  uint64_t lease_id_ = 0;
  std::string grant_version_;
  uint64_t size_ = 0;
  uint64_t received_ = 0;
  uint64_t download_start_ns_ = 0;
  uint64_t backoff_ms_ = 0;
  uint64_t next_delay_ms_ = 0;  // set by the server's answer (retry_after); 0: backoff
  uint64_t first_answer_ns_ = 0;
  bool grant_recorded_ = false;
  bool holds_slot_ = false;
  bool queued_ = false;
  bool connected_ = false;
};

}  // namespace sluice::load
