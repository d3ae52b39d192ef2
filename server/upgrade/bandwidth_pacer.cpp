#include "server/upgrade/bandwidth_pacer.h"

namespace sluice::server {
namespace {

// Burst of 100 ms worth of bytes, at least one maximum chunk.
double BurstFor(uint64_t rate) { return std::max<double>(rate / 10.0, 256 * 1024); }

}  // namespace

BandwidthPacer::BandwidthPacer(uv::Loop& loop)
    : loop_(loop), bucket_(0, 1, static_cast<int64_t>(loop.NowMs())), timer_(uv::Timer::Create(loop)) {}

void BandwidthPacer::SetRate(uint64_t bytes_per_s) {
  rate_ = bytes_per_s;
  bucket_.SetRate(static_cast<double>(bytes_per_s), BurstFor(bytes_per_s),
                  static_cast<int64_t>(loop_.NowMs()));
  Drain();
}

void BandwidthPacer::Acquire(size_t bytes, std::function<void()> go) {
  waiting_.push_back({bytes, std::move(go)});
  if (waiting_.size() == 1) Drain();
}

void BandwidthPacer::Drain() {
  uv_update_time(loop_.native());
  while (!waiting_.empty()) {
    const auto now = static_cast<int64_t>(loop_.NowMs());
    Waiter& front = waiting_.front();
    if (!bucket_.TryTake(static_cast<double>(front.bytes), now)) {
      timer_->Start(static_cast<uint64_t>(bucket_.WaitMs(static_cast<double>(front.bytes), now)), 0,
                    [this] { Drain(); });
      return;
    }
    auto go = std::move(front.go);
    granted_bytes_ += front.bytes;
    waiting_.pop_front();
    go();
  }
}

}  // namespace sluice::server
