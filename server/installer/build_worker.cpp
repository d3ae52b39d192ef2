#include "server/installer/build_worker.h"

#include <utility>

namespace sluice::server {

BuildWorker::~BuildWorker() {
  alive_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void BuildWorker::Submit(Job job) {
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(std::move(job), alive_);
  }
  wake_.notify_one();
  if (!thread_.joinable()) thread_ = std::thread([this] { Main(); });
}

void BuildWorker::Main() {
  for (;;) {
    std::pair<Job, std::weak_ptr<bool>> next;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    std::function<void()> done = next.first();
    loop_.Post([alive = std::move(next.second), done = std::move(done)] {
      if (alive.lock() && done) done();
    });
  }
}

}  // namespace sluice::server
