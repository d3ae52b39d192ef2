#pragma once
// Runs package imports for the loop thread: ImportPackage reads and writes whole files, so it
// runs here, one import at a time, on a thread this object owns; each outcome is posted back
// to the loop thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/base/error.h"
#include "common/crypto/ed25519.h"
#include "common/uv/loop.h"
#include "server/pkg/package_store.h"

namespace sluice::server {

class ImportWorker {
 public:
  using Done = std::function<void(Result<PackageRecord>)>;

  // Imports into `packages_dir`, signing with `key`. `loop` and `key` must outlive the worker.
  // The thread starts with the first Submit.
  ImportWorker(uv::Loop& loop, std::string packages_dir, const crypto::SigningKey& key);
  // Cancels the import in progress (it stops within one chunk and removes its temp file), drops
  // queued ones and joins the thread. Their `done` callbacks are never called, nor are those of
  // finished imports whose outcome is still in the loop's queue. Loop thread (or after the loop
  // thread has finished).
  ~ImportWorker();
  ImportWorker(const ImportWorker&) = delete;
  ImportWorker& operator=(const ImportWorker&) = delete;

  // Queues ImportPackage(packages_dir, source_path, spec, key, now_ms); `done` receives its
  // result on the loop thread, unless the worker is destroyed first. Imports run in submission
  // order. Loop thread.
  void Submit(std::string source_path, PackageSpec spec, int64_t now_ms, Done done);

 private:
  struct Job {
    std::string source_path;
    PackageSpec spec;
    int64_t now_ms = 0;
    Done done;
    std::weak_ptr<bool> alive;  // the worker's token: a dead token drops the outcome
  };

  void Main();

  uv::Loop& loop_;
  const std::string packages_dir_;
  const crypto::SigningKey& key_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // loop thread only
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // loop thread only
};

}  // namespace sluice::server
