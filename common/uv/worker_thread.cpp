#include "common/uv/worker_thread.h"

namespace sluice::uv {

WorkerThread::~WorkerThread() {
  lifetime_.End();  // outcomes already posted to the loop are dropped from here on
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cancel_.store(true);
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WorkerThread::Enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  if (!thread_.joinable()) thread_ = std::thread([this] { Main(); });
}

void WorkerThread::Main() {
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

}  // namespace sluice::uv
