#include "server/upgrade/load_monitor.h"

#include <sys/resource.h>

#include <algorithm>

namespace sluice::server {
namespace {

constexpr uint64_t kProbeMs = 50;

// CPU seconds of the calling thread (the loop's: every caller is on it).
double ThreadCpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_THREAD, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

LoadMonitor::LoadMonitor(uv::Loop& loop) : probe_(uv::Timer::Create(loop)) {
  probe_->SetKeepsLoopAlive(false);
}

void LoadMonitor::Start() {
  if (running_) return;
  running_ = true;
  last_probe_ns_ = window_start_ns_ = uv_hrtime();
  window_start_cpu_s_ = ThreadCpuSeconds();
  worst_lag_ms_ = 0;
  checkin_ms_.clear();
  probe_->Start(kProbeMs, kProbeMs, [this] { Probe(); });
}

void LoadMonitor::Stop() {
  running_ = false;
  probe_->Stop();
  checkin_ms_.clear();
}

void LoadMonitor::Probe() {
  const uint64_t now = uv_hrtime();
  const double late_ms = static_cast<double>(now - last_probe_ns_) / 1e6 - kProbeMs;
  worst_lag_ms_ = std::max(worst_lag_ms_, late_ms);
  last_probe_ns_ = now;
}

void LoadMonitor::RecordCheckin(double ms) {
  if (running_) checkin_ms_.push_back(ms);
}

sched::LoadWindow LoadMonitor::TakeWindow(uint64_t bytes_granted, uint64_t bandwidth_cap) {
  const uint64_t now = uv_hrtime();
  const double cpu = ThreadCpuSeconds();
  const double wall_s = std::max(static_cast<double>(now - window_start_ns_) / 1e9, 1e-3);
  sched::LoadWindow window;
  window.checkins = checkin_ms_.size();
  if (!checkin_ms_.empty()) {
    const size_t rank = (checkin_ms_.size() * 99 + 99) / 100 - 1;  // nearest rank
    std::nth_element(checkin_ms_.begin(), checkin_ms_.begin() + static_cast<ptrdiff_t>(rank),
                     checkin_ms_.end());
    window.checkin_p99_ms = checkin_ms_[rank];
  }
  // The probe that is overdue right now counts too: a loop stuck for seconds must show.
  window.loop_lag_ms =
      std::max(worst_lag_ms_, static_cast<double>(now - last_probe_ns_) / 1e6 - kProbeMs);
  window.loop_cpu = (cpu - window_start_cpu_s_) / wall_s;
  if (bandwidth_cap > 0) {
    window.bandwidth_use = static_cast<double>(bytes_granted - window_start_bytes_) /
                           (static_cast<double>(bandwidth_cap) * wall_s);
  }
  checkin_ms_.clear();
  worst_lag_ms_ = 0;
  window_start_ns_ = now;
  window_start_cpu_s_ = cpu;
  window_start_bytes_ = bytes_granted;
  return window;
}

}  // namespace sluice::server
