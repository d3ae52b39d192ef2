#pragma once
// The global upgrade bandwidth cap, shared fairly: every download asks for its next chunk's
// bytes and waits its turn in one FIFO, so n running downloads each get about 1/n of the cap.
// Loop thread only.

#include <cstdint>
#include <deque>
#include <functional>

#include "common/base/token_bucket.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"

namespace sluice::server {

class BandwidthPacer {
 public:
  explicit BandwidthPacer(uv::Loop& loop);
  // 0 = unlimited. Takes effect for the next chunk.
  void SetRate(uint64_t bytes_per_s);
  uint64_t rate() const { return rate_; }
  // Calls `go` once `bytes` may be sent: at once when there is budget and nobody is ahead.
  void Acquire(size_t bytes, std::function<void()> go);
  // Bytes let through since start (the adaptive limit's measure of bandwidth use).
  uint64_t granted_bytes() const { return granted_bytes_; }

 private:
  void Drain();
  struct Waiter {
    size_t bytes;
    std::function<void()> go;
  };
  uv::Loop& loop_;
  uint64_t rate_ = 0;
  uint64_t granted_bytes_ = 0;
  TokenBucket bucket_;
  std::deque<Waiter> waiting_;
  uv::HandlePtr<uv::Timer> timer_;
};

}  // namespace sluice::server
