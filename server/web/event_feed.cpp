#include "server/web/event_feed.h"

#include <algorithm>

namespace sluice::web {

EventFeed::EventFeed(uv::Loop& loop, const Clock& clock, RunCommand run)
    : loop_(loop), clock_(clock), run_(std::move(run)), timer_(uv::Timer::Create(loop)) {}

bool EventFeed::Subscribe(HttpResponder responder, std::function<bool()> authorized) {
  if (subscribers_.size() >= kMaxSubscribers) return false;
  if (!responder.OpenEventStream()) return true;  // the client is already gone
  if (!last_event_.empty()) responder.SendEvent("rollout", last_event_);
  subscribers_.push_back({.responder = std::move(responder), .authorized = std::move(authorized)});
  if (subscribers_.size() == 1) {
    rollout_at_ms_ = 0;  // a first subscriber gets a fresh rollout summary
    timer_->Start(0, kTickMs, [this] { Tick(); });
  }
  return true;
}

void EventFeed::Tick() {
  // Pages closed since the last broadcast free their place at once; a stream whose session
  // ended is closed.
  std::erase_if(subscribers_, [](const Subscriber& subscriber) {
    if (!subscriber.responder.alive()) return true;
    if (subscriber.authorized()) return false;
    subscriber.responder.Close();
    return true;
  });
  if (subscribers_.empty()) {
    timer_->Stop();
    last_state_.clear();
    last_event_.clear();
    return;
  }
  const auto now = static_cast<int64_t>(loop_.NowMs());
  if (now - keep_alive_at_ms_ >= kKeepAliveEveryMs) {
    Broadcast("", "");
    keep_alive_at_ms_ = now;
  }
  if (reading_) return;
  reading_ = true;
  run_("limits", lifetime_.Guard([this](Result<nlohmann::json> limits) {
    reading_ = false;
    if (limits) limits_ = std::move(*limits);
    Publish();
  }));
  if (rollout_at_ms_ == 0 || now - rollout_at_ms_ >= kRolloutEveryMs) {
    rollout_at_ms_ = now;
    run_("rollout", lifetime_.Guard([this](Result<nlohmann::json> rollout) {
      if (rollout) {
        rollout_ = std::move(*rollout);
      } else if (rollout_.is_null()) {
        rollout_ = nlohmann::json::object();  // unreadable for now: the limits still go out
      }
      Publish();
    }));
  }
}

void EventFeed::Publish() {
  // The first event waits for both reads: a page is never shown a rollout of null.
  if (limits_.is_null() || rollout_.is_null()) return;
  nlohmann::json state = {{"limits", limits_}, {"rollout", rollout_}};
  std::string compare = state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (compare == last_state_) return;
  last_state_ = std::move(compare);
  state["time_ms"] = clock_.WallMs();
  last_event_ = state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Broadcast("rollout", last_event_);
}

void EventFeed::Broadcast(std::string_view event, const std::string& data) {
  std::erase_if(subscribers_, [&](const Subscriber& subscriber) {
    if (subscriber.responder.pending_write_bytes() > kMaxBacklogBytes) {
      subscriber.responder.Close();  // its page sees the stream end and reconnects
      return true;
    }
    return !subscriber.responder.SendEvent(event, data);
  });
  keep_alive_at_ms_ = static_cast<int64_t>(loop_.NowMs());
}

}  // namespace sluice::web
