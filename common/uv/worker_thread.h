#pragma once
// One thread that runs blocking jobs (file copies, hashing, imports, MSI builds) for the loop
// thread, one at a time in submission order, and posts each outcome back to the loop.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "common/base/error.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"

namespace sluice::uv {

class WorkerThread {
 public:
  // `loop` must outlive the worker. The thread starts with the first Run.
  explicit WorkerThread(Loop& loop) : loop_(loop) {}
  // Sets cancelled(), drops queued jobs and joins the thread, so a running job that watches
  // cancelled() stops early. No `done` is called from here on, including those of finished jobs
  // whose outcome is still in the loop's queue. Loop thread, or after the loop thread finished.
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Runs `work` on the worker thread after every job queued before it; `done` gets its result
  // on the loop thread, unless the worker is destroyed first. `work` must not touch loop-thread
  // state. Loop thread.
  template <class T>
  void Run(std::function<Result<T>()> work, std::function<void(Result<T>)> done) {
    Enqueue([&loop = loop_, alive = lifetime_.Token(), work = std::move(work),
             done = std::move(done)]() mutable {
      Result<T> result = work();
      loop.Post(
          [alive = std::move(alive), done = std::move(done), result = std::move(result)]() mutable {
            if (alive.lock() && done) done(std::move(result));
          });
    });
  }

  // True once the worker is being destroyed: long jobs pass it down and stop when it is set.
  // Stays valid as long as the worker. Thread-safe.
  const std::atomic<bool>& cancelled() const { return cancel_; }

 private:
  void Enqueue(std::function<void()> job);
  void Main();

  Loop& loop_;
  Lifetime lifetime_;  // loop thread only
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;                       // loop thread only
};

}  // namespace sluice::uv
