#include "server/store/store.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/base/log.h"
#include "common/db/migrate.h"
#include "common/db/online_backup.h"
#include "common/db/transaction.h"
#include "server/store/schema.h"

namespace sluice::store {

Result<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  if (!options.post_to_loop) {
    return Fail(Errc::kInvalidArgument, "store: post_to_loop is required");
  }
  std::unique_ptr<Store> store(new Store(std::move(options)));
  std::promise<Status> ready;
  auto ready_future = ready.get_future();
  store->worker_ = std::thread([s = store.get(), &ready] { s->WorkerMain(ready); });
  store->worker_id_ = store->worker_.get_id();
  Status opened = ready_future.get();
  if (!opened) {
    store->worker_.join();  // WorkerMain returns right after reporting a failure
    return Fail(opened.error());
  }
  Log("store")->info("store opened path={}", store->options_.path);
  return store;
}

Store::~Store() { Close(); }

void Store::Close() {
  std::lock_guard close_lock(close_mu_);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
}

bool Store::Enqueue(std::shared_ptr<internal::StoreJob> job) {
  {
    std::lock_guard lock(mu_);
    if (closing_) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void Store::WorkerMain(std::promise<Status>& ready) {
  if (options_.nice != 0 &&
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), options_.nice) != 0) {
    // Not fatal: the thread still works, only at the usual priority.
    Log("store")->warn("cannot set the store thread's nice value to {}: {}", options_.nice,
                       std::strerror(errno));
  }
  auto db = db::Database::Open(options_.path,
                               {.create = !options_.read_only, .read_only = options_.read_only});
  if (!db) {
    ready.set_value(Fail(db.error()));
    return;
  }
  if (options_.read_only) {
    // The writer migrated the schema before a reader was opened.
  } else if (auto migrated = db::Migrate(**db, Migrations()); !migrated) {
    ready.set_value(Context(migrated.error(), "opening database " + options_.path));
    return;
  }
  db_ = std::move(*db);
  ready.set_value({});  // `ready` dangles from here on

  const size_t max_batch = std::max<size_t>(options_.max_batch, 1);
  std::deque<std::shared_ptr<internal::StoreJob>> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) break;  // closing, and everything queued has been committed
      // A batch is the transactional jobs in front, up to max_batch; a job that must run
      // outside a transaction goes alone.
      size_t take = 1;
      if (queue_.front()->in_transaction()) {
        while (take < std::min(queue_.size(), max_batch) && queue_[take]->in_transaction()) {
          ++take;
        }
      }
      auto end = queue_.begin() + static_cast<std::ptrdiff_t>(take);
      std::move(queue_.begin(), end, std::back_inserter(batch));
      queue_.erase(queue_.begin(), end);
    }
    if (batch.front()->in_transaction()) {
      RunBatch(batch);
    } else {
      (void)batch.front()->Run(*db_);
      batch.front()->Finish();
    }
    batch.clear();
  }
  db_.reset();  // close on the thread that owns the connection
}

void Store::RunBatch(std::deque<std::shared_ptr<internal::StoreJob>>& batch) {
  if (Status committed = RunInTransaction(batch); committed) {
    batches_committed_.fetch_add(1);
  } else {
    for (auto& job : batch) job->Fail(committed.error());
  }
  for (auto& job : batch) job->Finish();
}

Status Store::RunInTransaction(std::deque<std::shared_ptr<internal::StoreJob>>& batch) {
  db::Database& db = *db_;
  auto txn = db::Transaction::Begin(db, options_.read_only ? db::Transaction::Mode::kDeferred
                                                           : db::Transaction::Mode::kImmediate);
  if (!txn) return Context(txn.error(), "store: starting batch");
  for (auto& job : batch) {
    auto savepoint = db::Savepoint::Begin(db);
    if (!savepoint) return Context(savepoint.error(), "store: starting job");
    const bool ok = job->Run(db);
    // A savepoint that cannot end cleanly could leave a failed job's writes in the batch.
    Status ended = ok ? savepoint->Release() : savepoint->Rollback();
    if (!ended) return Context(ended.error(), "store: ending job");
    // After some errors (disk full, I/O) SQLite rolls the whole transaction back by itself;
    // the earlier jobs' writes are then gone and the batch must fail.
    if (!db.InTransaction()) {
      return Fail(Errc::kDatabase, "store: batch transaction was rolled back by SQLite");
    }
  }
  if (Status committed = txn->Commit(); !committed) {
    return Context(committed.error(), "store: committing batch");
  }
  return {};
}

Status Store::BackupTo(const std::string& path,
                       const std::function<void(uint64_t, uint64_t)>& progress) {
  // Created, stepped and destroyed on the store thread only; this thread just waits.
  auto backup = std::make_shared<std::unique_ptr<db::OnlineBackup>>();
  auto started = CallOutsideTransaction<bool>([backup, path](db::Database& db) -> Result<bool> {
    auto made = db::OnlineBackup::Start(db, path);
    if (!made) return Fail(made.error());
    *backup = std::move(*made);
    return true;
  });
  if (!started) return Fail(started.error());
  // The copy is destroyed where it lives.
  auto release = [this, backup] {
    (void)CallOutsideTransaction<bool>([backup](db::Database&) -> Result<bool> {
      backup->reset();
      return true;
    });
  };
  struct Stepped {
    bool done = false;
    uint64_t pages_done = 0;
    uint64_t page_count = 0;
  };
  while (true) {
    auto step = CallOutsideTransaction<Stepped>([backup](db::Database&) -> Result<Stepped> {
      auto done = (*backup)->Step(kBackupStepPages);
      if (!done) return Fail(done.error());
      return Stepped{*done, (*backup)->pages_done(), (*backup)->page_count()};
    });
    if (!step) {
      release();  // an unfinished copy is abandoned and its partial file removed
      return Fail(step.error());
    }
    if (progress) progress(step->pages_done, step->page_count);
    if (step->done) break;
  }
  release();
  return {};
}

namespace internal {

void LogDetachedFailure(const std::string& context, const Error& error) {
  Log("store")->error("store job failed context=\"{}\" error=\"{}\"", context, error.ToString());
}

}  // namespace internal

}  // namespace sluice::store
