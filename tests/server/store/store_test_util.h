#pragma once
// Test helpers for the store tests: a stand-in loop thread and a gate that holds the store
// thread inside a job. Every wait is bounded (10 s) so a broken store fails instead of hanging.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store::testing {

// Stands in for the loop thread: post_to_loop queues tasks, the test thread runs them.
class TestLoop {
 public:
  std::function<void(std::function<void()>)> Poster() {
    return [this](std::function<void()> task) {
      {
        std::lock_guard lock(mu_);
        tasks_.push_back(std::move(task));
      }
      cv_.notify_all();
    };
  }

  // Runs posted tasks until `count` have run; false if that takes longer than 10 s.
  bool RunTasks(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (size_t ran = 0; ran < count; ++ran) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        if (!cv_.wait_until(lock, deadline, [this] { return !tasks_.empty(); })) return false;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
    return true;
  }

  size_t Pending() {
    std::lock_guard lock(mu_);
    return tasks_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

// Blocks the store thread inside a job until released, so the test controls what is queued.
class Gate {
 public:
  std::function<Result<int>(db::Database&)> Job() {
    return [this](db::Database&) -> Result<int> {
      std::unique_lock lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(10), [this] { return open_; });
      return 0;
    };
  }
  bool WaitEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [this] { return entered_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
};

}  // namespace sluice::store::testing
