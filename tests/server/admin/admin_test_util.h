#pragma once
// Test helpers for the admin channel: a uv::Loop running on its own thread, and a raw blocking
// Unix-socket client whose every wait is bounded.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/base/file_util.h"
#include "common/uv/loop.h"
#include "server/admin/admin_server.h"

namespace sluice::admin::testing {

inline constexpr auto kWait = std::chrono::seconds(10);

// Runs a Loop on a background thread. Everything touching loop objects goes through Sync().
class LoopThread {
 public:
  LoopThread() {
    std::promise<void> running;
    auto started = running.get_future();
    thread_ = std::thread([this, &running] {
      loop_.Post([&running] { running.set_value(); });
      loop_.Run();
    });
    EXPECT_EQ(started.wait_for(kWait), std::future_status::ready) << "loop did not start";
  }
  ~LoopThread() {
    loop_.Post([this] { loop_.Stop(); });
    thread_.join();
  }

  uv::Loop& loop() { return loop_; }

  // Runs `task` on the loop thread and waits (bounded) for it. Returns false on timeout.
  bool Sync(std::function<void()> task) {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    loop_.Post([task = std::move(task), done] {
      task();
      done->set_value();
    });
    bool ok = future.wait_for(kWait) == std::future_status::ready;
    EXPECT_TRUE(ok) << "loop task timed out";
    return ok;
  }

  // Polls `condition` on the loop thread until it holds (bounded). Returns whether it held.
  bool WaitFor(std::function<bool()> condition) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      bool held = false;
      if (!Sync([&] { held = condition(); })) return false;
      if (held) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  uv::Loop loop_;
  std::thread thread_;
};

// A blocking client socket with a receive timeout, speaking raw lines.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  }
  ~RawClient() { Close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends all of `data`; false if the peer closed or the send timed out.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next line without '\n'; nullopt on EOF, error or timeout.
  std::optional<std::string> ReadLine() {
    for (;;) {
      if (auto pos = buffer_.find('\n'); pos != std::string::npos) {
        std::string line = buffer_.substr(0, pos);
        buffer_.erase(0, pos + 1);
        return line;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // True once the server has closed the connection (EOF or reset) with nothing left to read.
  bool AtEnd() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n == 0) return buffer_.empty();
    if (n < 0) return errno == ECONNRESET || errno == EPIPE;
    buffer_.push_back(c);
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// A fixture with a real AdminServer on a loop thread, listening on `path_` inside a fresh
// temp dir `dir_`. Derived fixtures register their commands in their SetUp after this one (on
// the loop thread, loop_.Sync) and return early if HasFatalFailure().
class AdminServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-admin-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = *dir;
    path_ = dir_ + "/run/admin.sock";
    loop_.Sync([this] {
      auto server = AdminServer::Start(loop_.loop(), path_);
      ASSERT_TRUE(server) << server.error().ToString();
      server_ = std::move(*server);
    });
    ASSERT_TRUE(server_);
  }
  void TearDown() override {
    loop_.Sync([this] {
      held_.clear();
      server_.reset();
    });
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_));
    }
  }

  LoopThread loop_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<AdminServer> server_;
  std::vector<Reply> held_;  // loop thread only; replies a test answers later
};

}  // namespace sluice::admin::testing
