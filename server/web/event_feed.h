#pragma once
// The dashboard's live rollout feed (GET /api/events, server-sent events): every subscriber gets
// `event: rollout` with {"time_ms", "limits", "rollout"} at once and then whenever the limits'
// numbers change. The limits (running, waiting, limit per kind: in memory) are read every
// kTickMs, so a grant or a finish shows within that; the rollout summary (counts the fleet in
// the store) is refreshed every kRolloutEveryMs. Nothing runs without subscribers.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "server/web/http_session.h"

namespace sluice::web {

// Runs a read-only admin command ("limits", "rollout") and delivers its result.
using RunCommand =
    std::function<void(const std::string& cmd, std::function<void(Result<nlohmann::json>)> done)>;

class EventFeed {
 public:
  static constexpr uint64_t kTickMs = 250;
  static constexpr int64_t kRolloutEveryMs = 5'000;
  static constexpr int64_t kKeepAliveEveryMs = 15'000;
  static constexpr size_t kMaxSubscribers = 200;
  // A subscriber this far behind (bytes queued, unread) is dropped: it reconnects and starts over.
  static constexpr size_t kMaxBacklogBytes = 1 << 20;

  EventFeed(uv::Loop& loop, const Clock& clock, RunCommand run);

  // Opens `responder`'s event stream and sends the current state. False (nothing sent) when
  // the feed is full. The stream is closed at the first tick `authorized` says false (the
  // session ended: logout, expiry, revocation) or once its reader is kMaxBacklogBytes behind.
  bool Subscribe(HttpResponder responder, std::function<bool()> authorized);
  size_t subscribers() const { return subscribers_.size(); }

 private:
  void Tick();
  void Publish();
  void Broadcast(std::string_view event, const std::string& data);

  uv::Loop& loop_;
  const Clock& clock_;
  RunCommand run_;
  uv::HandlePtr<uv::Timer> timer_;
  struct Subscriber {
    HttpResponder responder;
    std::function<bool()> authorized;
  };
  std::vector<Subscriber> subscribers_;
  nlohmann::json limits_;
  nlohmann::json rollout_;
  std::string last_state_;        // limits and rollout as last sent, to see a change
  std::string last_event_;        // the last event's data, for a new subscriber
  int64_t rollout_at_ms_ = 0;     // monotonic time of the last rollout refresh request
  int64_t keep_alive_at_ms_ = 0;  // monotonic time of the last byte sent to everyone
  bool reading_ = false;          // a limits read is in flight
  uv::Lifetime lifetime_;
};

}  // namespace sluice::web
