#include "common/uv/signal.h"

namespace sluice::uv {

HandlePtr<Signal> Signal::Create(Loop& loop, int signum, std::function<void()> callback) {
  return HandlePtr<Signal>(new Signal(loop, signum, std::move(callback)));
}

Signal::Signal(Loop& loop, int signum, std::function<void()> callback)
    : callback_(std::move(callback)) {
  uv_signal_init(loop.native(), &signal_);
  signal_.data = this;
  uv_signal_start(&signal_, &Signal::OnSignal, signum);
  uv_unref(raw());
}

void Signal::OnSignal(uv_signal_t* signal, int) {
  auto* self = static_cast<Signal*>(signal->data);
  if (!self->closing()) self->callback_();
}

}  // namespace sluice::uv
