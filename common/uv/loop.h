#pragma once
// The event loop facade. One thread runs the loop and owns every handle created on it;
// Post() is the only call other threads may make.

#include <uv.h>

#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/base/error.h"

namespace sluice::uv {

class Loop {
 public:
  Loop();
  ~Loop();  // Closes any handles still open and drains the loop.
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs until Stop() is called or no active handles remain. Call from one thread only;
  // that thread becomes the loop thread.
  void Run();
  // Ends Run() after the current iteration. Loop thread only (others: Post(Stop)).
  void Stop();

  // Runs `task` on the loop thread soon. Thread-safe; tasks run in submission order.
  // Tasks posted after the loop stopped running are run by the destructor's drain.
  void Post(std::function<void()> task);
  // Runs `task` on the next loop iteration, outside the current callback stack: the way to
  // destroy an object from inside one of its own callbacks. Loop thread only.
  void Defer(std::function<void()> task) { Post(std::move(task)); }

  bool InLoopThread() const { return std::this_thread::get_id() == loop_thread_; }
  uv_loop_t* native() { return &loop_; }
  // Milliseconds of the loop's cached monotonic clock.
  uint64_t NowMs() const { return uv_now(&loop_); }

 private:
  static void OnAsync(uv_async_t* async);
  void RunPosted();

  uv_loop_t loop_;
  uv_async_t async_;
  std::mutex mutex_;
  std::deque<std::function<void()>> posted_;
  std::thread::id loop_thread_;
};

}  // namespace sluice::uv
