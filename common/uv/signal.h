#pragma once

#include <functional>

#include "common/uv/handle.h"
#include "common/uv/loop.h"

namespace sluice::uv {

// Delivers a POSIX signal on the loop thread. Does not keep the loop alive.
class Signal final : public Handle {
 public:
  static HandlePtr<Signal> Create(Loop& loop, int signum, std::function<void()> callback);

 private:
  Signal(Loop& loop, int signum, std::function<void()> callback);
  uv_handle_t* raw() override { return reinterpret_cast<uv_handle_t*>(&signal_); }
  static void OnSignal(uv_signal_t* signal, int signum);

  uv_signal_t signal_;
  std::function<void()> callback_;
};

}  // namespace sluice::uv
