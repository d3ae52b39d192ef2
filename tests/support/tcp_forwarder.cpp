#include "tests/support/tcp_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace sluice::testing {
namespace {

int ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Pair {
  int a = -1;  // the client's side
  int b = -1;  // the target's side
};

// Copies what `from` has to `to`; false when either side is done.
bool Pump(int from, int to) {
  char buffer[64 * 1024];
  const ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n <= 0) return false;
  for (ssize_t done = 0; done < n;) {
    const ssize_t w = ::write(to, buffer + done, static_cast<size_t>(n - done));
    if (w <= 0) return false;
    done += w;
  }
  return true;
}

// Wakes the forwarding thread; a full pipe already holds a wake-up.
void Wake(int fd) {
  if (::write(fd, "x", 1) < 0) return;
}

}  // namespace

TcpForwarder::TcpForwarder(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("TcpForwarder: cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Main(); });
}

TcpForwarder::~TcpForwarder() {
  stop_ = true;
  Wake(wake_[1]);
  thread_.join();
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) ::close(fd);
}

void TcpForwarder::Retarget(int target_port) {
  target_port_ = target_port;
  ++generation_;
  Wake(wake_[1]);
}

void TcpForwarder::Main() {
  std::vector<Pair> pairs;
  int seen_generation = generation_;
  auto close_pair = [](Pair& pair) {
    ::close(pair.a);
    ::close(pair.b);
    pair.a = pair.b = -1;
  };
  while (!stop_) {
    if (generation_ != seen_generation) {
      seen_generation = generation_;
      for (Pair& pair : pairs) close_pair(pair);
      pairs.clear();
    }
    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    for (const Pair& pair : pairs) {
      fds.push_back({pair.a, POLLIN, 0});
      fds.push_back({pair.b, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 500) <= 0) continue;
    if (fds[1].revents != 0) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    for (size_t i = 0; i < pairs.size(); ++i) {
      const bool from_a = fds[2 + 2 * i].revents != 0;
      const bool from_b = fds[3 + 2 * i].revents != 0;
      if ((from_a && !Pump(pairs[i].a, pairs[i].b)) || (from_b && !Pump(pairs[i].b, pairs[i].a))) {
        close_pair(pairs[i]);
      }
    }
    std::erase_if(pairs, [](const Pair& pair) { return pair.a < 0; });
    if (fds[0].revents != 0) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int server = ConnectLoopback(target_port_);
      if (server < 0) {
        ::close(client);  // the target is down: the client sees a refused-like close
        continue;
      }
      pairs.push_back({client, server});
    }
  }
  for (Pair& pair : pairs) close_pair(pair);
}

}  // namespace sluice::testing
