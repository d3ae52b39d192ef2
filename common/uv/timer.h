#pragma once

#include <cstdint>
#include <functional>

#include "common/uv/handle.h"
#include "common/uv/loop.h"

namespace sluice::uv {

// A libuv timer. Loop thread only.
class Timer final : public Handle {
 public:
  static HandlePtr<Timer> Create(Loop& loop);
  // (Re)arms the timer: `callback` runs after `timeout_ms`, then every `repeat_ms` if non-zero.
  void Start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> callback);
  void Stop();
  // Keeps the loop from exiting while armed (default) or not.
  void SetKeepsLoopAlive(bool alive);

 private:
  explicit Timer(Loop& loop);
  uv_handle_t* raw() override { return reinterpret_cast<uv_handle_t*>(&timer_); }
  static void OnTimer(uv_timer_t* timer);

  uv_timer_t timer_;
  std::function<void()> callback_;
};

}  // namespace sluice::uv
