#pragma once
// One thread for blocking installer work (copying and patching MSIs, osslsigncode), so the
// loop thread never waits on it. Jobs run one at a time, in submission order.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/uv/loop.h"

namespace sluice::server {

class BuildWorker {
 public:
  // Runs on the worker thread; returns the completion to run on the loop thread.
  using Job = std::function<std::function<void()>()>;

  // `loop` must outlive the worker. The thread starts with the first Submit.
  explicit BuildWorker(uv::Loop& loop) : loop_(loop) {}
  // Drops queued jobs, waits for the running one, joins. Completions not yet run on the loop
  // are dropped. Loop thread.
  ~BuildWorker();
  BuildWorker(const BuildWorker&) = delete;
  BuildWorker& operator=(const BuildWorker&) = delete;

  // Queues `job`. Loop thread.
  void Submit(Job job);

 private:
  void Main();

  uv::Loop& loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // loop thread only
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<Job, std::weak_ptr<bool>>> queue_;  // guarded by mu_
  bool stopping_ = false;                                  // guarded by mu_
  std::thread thread_;
};

}  // namespace sluice::server
