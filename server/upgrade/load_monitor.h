#pragma once
// The server's own load, measured in windows for the adaptive limit (sched/adaptive_limit.h):
// the server's share of each check-in, the event loop's lag (a 50 ms probe timer firing late),
// the loop thread's CPU time, and the upgrade bytes let through the bandwidth pacer.
// Loop thread only.

#include <cstdint>
#include <vector>

#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "server/sched/adaptive_limit.h"

namespace sluice::server {

class LoadMonitor {
 public:
  explicit LoadMonitor(uv::Loop& loop);

  // Measures only between Start() and Stop(): with no adaptive limit the loop pays nothing.
  // Start() begins a fresh window.
  void Start();
  void Stop();
  bool running() const { return running_; }

  // One check-in answered `ms` after its frame was read (ignored while stopped).
  void RecordCheckin(double ms);
  // The window since the previous call (or construction). `bytes_granted` is the pacer's running
  // total; `bandwidth_cap` 0 means no cap (bandwidth_use stays empty).
  sched::LoadWindow TakeWindow(uint64_t bytes_granted, uint64_t bandwidth_cap);

 private:
  void Probe();

  uv::HandlePtr<uv::Timer> probe_;
  bool running_ = false;
  uint64_t last_probe_ns_ = 0;
  double worst_lag_ms_ = 0;
  std::vector<double> checkin_ms_;
  uint64_t window_start_ns_ = 0;
  double window_start_cpu_s_ = 0;
  uint64_t window_start_bytes_ = 0;
};

}  // namespace sluice::server
