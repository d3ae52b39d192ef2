#pragma once
// One thread that runs blocking jobs (file scans, hashing, backups, imports) for the loop thread,
// in submission order, and posts each outcome back to the loop.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "common/base/error.h"
#include "common/uv/loop.h"

namespace sluice::server {

class BlockingWorker {
 public:
  // `loop` must outlive the worker. The thread starts with the first Run.
  explicit BlockingWorker(uv::Loop& loop) : loop_(loop) {}
  // Sets cancelled(), drops queued jobs, joins the thread (a running job should watch
  // cancelled()). Outcomes not yet delivered are dropped. Loop thread, or after it finished.
  ~BlockingWorker() {
    alive_.reset();
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      queue_.clear();
    }
    cancel_.store(true);
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  BlockingWorker(const BlockingWorker&) = delete;
  BlockingWorker& operator=(const BlockingWorker&) = delete;

  // Runs `work` on the worker thread; `done` gets its result on the loop thread, unless the
  // worker is destroyed first. Loop thread.
  template <class T>
  void Run(std::function<Result<T>()> work, std::function<void(Result<T>)> done) {
    std::weak_ptr<bool> alive = alive_;
    auto job = [this, alive, work = std::move(work), done = std::move(done)]() mutable {
      Result<T> result = work();
      loop_.Post([alive, done = std::move(done), result = std::move(result)]() mutable {
        if (alive.lock()) done(std::move(result));
      });
    };
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    if (!thread_.joinable()) thread_ = std::thread([this] { Main(); });
  }

  // True once the worker is being destroyed. Thread-safe.
  const std::atomic<bool>& cancelled() const { return cancel_; }

 private:
  void Main() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  uv::Loop& loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace sluice::server
