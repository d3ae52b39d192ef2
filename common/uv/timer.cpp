#include "common/uv/timer.h"

namespace sluice::uv {

HandlePtr<Timer> Timer::Create(Loop& loop) { return HandlePtr<Timer>(new Timer(loop)); }

Timer::Timer(Loop& loop) {
  uv_timer_init(loop.native(), &timer_);
  timer_.data = this;
}

void Timer::Start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> callback) {
  callback_ = std::move(callback);
  uv_timer_start(&timer_, &Timer::OnTimer, timeout_ms, repeat_ms);
}

void Timer::Stop() { uv_timer_stop(&timer_); }

void Timer::SetKeepsLoopAlive(bool alive) {
  if (alive) {
    uv_ref(raw());
  } else {
    uv_unref(raw());
  }
}

void Timer::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<Timer*>(timer->data);
  if (self->closing()) return;
  // Copy: the callback may re-arm the timer with a new callback.
  auto callback = self->callback_;
  callback();
}

}  // namespace sluice::uv
