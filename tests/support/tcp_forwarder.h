#pragma once
// A loopback TCP forwarder standing in for a DNS change or a moved shared IP: clients dial the
// forwarder's port, it connects each to the current target port and copies bytes both ways.
// Retargeting drops the connections it carries, as the old server going away would.

#include <atomic>
#include <mutex>
#include <thread>

namespace sluice::testing {

class TcpForwarder {
 public:
  // Listens on 127.0.0.1 (an ephemeral port) and forwards to 127.0.0.1:`target_port`.
  explicit TcpForwarder(int target_port);
  ~TcpForwarder();
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  int port() const { return port_; }
  // New connections go to `target_port`; connections carried so far are closed.
  void Retarget(int target_port);

 private:
  void Main();

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> target_port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> generation_{0};
  std::thread thread_;
};

}  // namespace sluice::testing
