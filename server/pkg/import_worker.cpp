#include "server/pkg/import_worker.h"

#include <utility>

#include "server/pkg/package_import.h"

namespace sluice::server {

ImportWorker::ImportWorker(uv::Loop& loop, std::string packages_dir, const crypto::SigningKey& key)
    : loop_(loop), packages_dir_(std::move(packages_dir)), key_(key) {}

ImportWorker::~ImportWorker() {
  alive_.reset();  // outcomes already posted to the loop are dropped from here on
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cancel_.store(true);
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ImportWorker::Submit(std::string source_path, PackageSpec spec, int64_t now_ms, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Job{.source_path = std::move(source_path),
                         .spec = std::move(spec),
                         .now_ms = now_ms,
                         .done = std::move(done),
                         .alive = alive_});
  }
  wake_.notify_one();
  if (!thread_.joinable()) thread_ = std::thread([this] { Main(); });
}

void ImportWorker::Main() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Result<PackageRecord> imported =
        ImportPackage(packages_dir_, job.source_path, job.spec, key_, job.now_ms, &cancel_);
    loop_.Post([alive = std::move(job.alive), done = std::move(job.done),
                imported = std::move(imported)]() mutable {
      if (alive.lock() && done) done(std::move(imported));
    });
  }
}

}  // namespace sluice::server
