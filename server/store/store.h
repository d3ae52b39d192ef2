#pragma once
// The server's persistence thread: one thread owns the SQLite connection; writes are batched.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

struct StoreOptions {
  std::string path{};  // the SQLite file; created (with the schema) on first start
  // Delivers completions on the loop thread, in the order given. Must be thread-safe. Required.
  std::function<void(std::function<void()>)> post_to_loop{};
  size_t max_batch = 512;  // most jobs committed in one transaction (0 is treated as 1)
  // A reader: opens an existing database read-only (no schema migration) and runs its jobs in
  // read transactions. In WAL mode it reads beside the writing Store of the same file, so slow
  // queries on it (the dashboard's) never queue ahead of the writer's jobs.
  bool read_only = false;
  // The store thread's nice value (setpriority(2) on the thread; higher runs less). The
  // dashboard's reader runs at +10 so that, when the CPU is short, its scans of every client row
  // yield to the loop thread's check-ins instead of taking turns with them.
  int nice = 0;
};

namespace internal {

// A queued unit of work, type-erased. All calls are made by Store, on the store thread,
// except Fail + Finish for jobs refused after Close (on the submitting thread).
class StoreJob {
 public:
  virtual ~StoreJob() = default;
  // Runs the job; false if it returned an error (its savepoint is then rolled back).
  virtual bool Run(db::Database& db) = 0;
  // Replaces the job's outcome with `error` (the batch did not commit, or the store is closed).
  virtual void Fail(const Error& error) = 0;
  // Delivers the outcome. Called once, after the batch is durable (or has failed).
  virtual void Finish() = 0;
  // False for a job that must run outside any transaction, alone (an online backup step).
  virtual bool in_transaction() const { return true; }
};

// Runs `job`, turning a stray exception into kInternal so it cannot kill the store thread.
template <class T>
[[nodiscard]] Result<T> RunGuarded(const std::function<Result<T>(db::Database&)>& job,
                                   db::Database& db) {
  try {
    return job(db);
  } catch (const std::exception& e) {
    return Fail(Errc::kInternal, std::string("store job threw: ") + e.what());
  } catch (...) {
    return Fail(Errc::kInternal, "store job threw");
  }
}

}  // namespace internal

// Owns the server's database connection on a dedicated thread. Jobs are queued and run in
// submission order; the worker takes everything pending (up to max_batch), runs it in one
// BEGIN IMMEDIATE transaction with each job in its own SAVEPOINT (a job returning an error
// rolls back only its own changes), COMMITs once, then delivers the results. A delivered
// completion therefore means the job's writes are durable. If COMMIT fails, every job of the
// batch gets that error. Jobs must not BEGIN/COMMIT themselves (db::Savepoint is fine) and
// must not call back into the Store.
class Store {
 public:
  // Opens the database on the store thread, runs the schema migrations, returns when ready.
  // Errors: kInvalidArgument without post_to_loop; kDatabase if the file cannot be opened or
  // migrated (including a schema newer than this build).
  [[nodiscard]] static Result<std::unique_ptr<Store>> Open(StoreOptions options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Close().
  ~Store();

  // Queues `job` to run on the store thread; `done` (may be empty) is called through
  // post_to_loop with the job's result once its batch has committed. Thread-safe. After
  // Close(), `done` receives kClosed (posted immediately) and the job never runs.
  template <class T>
  void Submit(std::function<Result<T>(db::Database&)> job, std::function<void(Result<T>)> done);

  // Queues a job no caller waits for. If it fails (its own error or the batch's), the failure is
  // logged once at error level with `context` ("<component>: <what>", e.g. "upgrade: saving the
  // waiter c-1"); like every failed job it is counted in failed_jobs(). Thread-safe.
  template <class T>
  void Detach(std::string context, std::function<Result<T>(db::Database&)> job);

  // Runs `job` and blocks until its batch has committed: for startup, shutdown, admin tools and
  // tests — never on the loop thread in steady state. Thread-safe.
  // Errors: the job's own; kClosed after Close(); kInternal when called from a store job.
  template <class T>
  [[nodiscard]] Result<T> Call(std::function<Result<T>(db::Database&)> job);

  // Copies the database, as of one moment, to a new file at `path` (which must not exist) with
  // SQLite's online backup API, in steps of kBackupStepPages between the queued jobs: the
  // server keeps reading and writing while a large copy runs. `progress` (may be empty) gets
  // pages done and pages in all after each step, on the calling thread. Blocks: call it from a
  // worker or an admin tool, never from the loop or a store job. On failure nothing is left at
  // `path`. Errors: kAlreadyExists, kDatabase or kIo naming the file, kClosed.
  [[nodiscard]] Status BackupTo(const std::string& path,
                                const std::function<void(uint64_t, uint64_t)>& progress = {});
  static constexpr int kBackupStepPages = 256;

  // Commits everything queued so far, posts those completions, then stops the thread and
  // closes the database. Idempotent; thread-safe; must not be called from a store job.
  void Close();

  // Batches committed so far (one transaction each). For metrics and tests. Thread-safe.
  int64_t batches_committed() const { return batches_committed_.load(); }
  // Jobs (Submit, Detach, Call) that failed so far (internal::IsFailure: not those that answered
  // not found, invalid, already exists or refused). Thread-safe.
  int64_t failed_jobs() const { return failed_jobs_->load(); }

 private:
  template <class T>
  class SubmitJob;
  template <class T>
  class CallJob;

  explicit Store(StoreOptions options) : options_(std::move(options)) {}
  // Call() for a job that runs alone, outside any transaction.
  template <class T>
  [[nodiscard]] Result<T> CallOutsideTransaction(std::function<Result<T>(db::Database&)> job);
  template <class T>
  [[nodiscard]] Result<T> CallJobAndWait(std::shared_ptr<CallJob<T>> pending);
  // Queues `job`; false if the store is closed (the job is then not queued).
  bool Enqueue(std::shared_ptr<internal::StoreJob> job);
  void WorkerMain(std::promise<Status>& ready);
  // Runs and commits `batch`, then finishes every job in it (store thread).
  void RunBatch(std::deque<std::shared_ptr<internal::StoreJob>>& batch);
  // Runs `batch` in one transaction with a savepoint per job; the error fails every job.
  [[nodiscard]] Status RunInTransaction(std::deque<std::shared_ptr<internal::StoreJob>>& batch);

  const StoreOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<internal::StoreJob>> queue_;  // guarded by mu_
  bool closing_ = false;                                   // guarded by mu_
  std::mutex close_mu_;                                    // serializes Close()
  std::thread worker_;
  std::thread::id worker_id_;         // set before Open returns, then read-only
  std::unique_ptr<db::Database> db_;  // used only on the store thread
  std::atomic<int64_t> batches_committed_{0};
  // Shared with pending jobs, which count their own failure when they finish.
  std::shared_ptr<std::atomic<int64_t>> failed_jobs_ = std::make_shared<std::atomic<int64_t>>(0);
};

namespace internal {
// Logs a detached job's failure (store.cpp).
void LogDetachedFailure(const std::string& context, const Error& error);

// Whether a job's error is a failure (the database's, the disk's, the store's) rather than the
// job's verdict on its request (not found, invalid, already there, refused): only failures are
// counted in failed_jobs(), so that an admin asking for an unknown installer raises no alarm.
inline bool IsFailure(const Error& error) {
  switch (error.code()) {
    case Errc::kNotFound:
    case Errc::kInvalidArgument:
    case Errc::kAlreadyExists:
    case Errc::kAuth:
      return false;
    default:
      return true;
  }
}
}  // namespace internal

// A Submit()ted job: posts `done` to the loop.
template <class T>
class Store::SubmitJob final : public internal::StoreJob,
                               public std::enable_shared_from_this<SubmitJob<T>> {
 public:
  SubmitJob(const Store& store, std::function<Result<T>(db::Database&)> job,
            std::function<void(Result<T>)> done)
      : post_(store.options_.post_to_loop),
        failed_(store.failed_jobs_),
        job_(std::move(job)),
        done_(std::move(done)) {}

  bool Run(db::Database& db) override {
    result_.emplace(internal::RunGuarded(job_, db));
    return result_->has_value();
  }
  void Fail(const Error& error) override { result_.emplace(std::unexpected<Error>(error)); }
  void Finish() override {
    job_ = nullptr;  // release whatever the job captured before the loop runs `done`
    if (!result_) result_.emplace(std::unexpected<Error>(Error(Errc::kInternal, "job not run")));
    if (!result_->has_value() && internal::IsFailure(result_->error())) failed_->fetch_add(1);
    if (!done_) return;
    post_([self = this->shared_from_this()] { self->done_(std::move(*self->result_)); });
  }

 private:
  const std::function<void(std::function<void()>)>& post_;  // lives in the Store's options
  std::shared_ptr<std::atomic<int64_t>> failed_;
  std::function<Result<T>(db::Database&)> job_;
  std::function<void(Result<T>)> done_;
  std::optional<Result<T>> result_;
};

// A Call()ed job: fulfils the promise the caller waits on.
template <class T>
class Store::CallJob final : public internal::StoreJob {
 public:
  CallJob(const Store& store, std::function<Result<T>(db::Database&)> job, bool in_transaction)
      : failed_(store.failed_jobs_), job_(std::move(job)), in_transaction_(in_transaction) {}

  bool Run(db::Database& db) override {
    result_.emplace(internal::RunGuarded(job_, db));
    return result_->has_value();
  }
  void Fail(const Error& error) override { result_.emplace(std::unexpected<Error>(error)); }
  void Finish() override {
    if (!result_) result_.emplace(std::unexpected<Error>(Error(Errc::kInternal, "job not run")));
    if (!result_->has_value() && internal::IsFailure(result_->error())) failed_->fetch_add(1);
    promise_.set_value(std::move(*result_));
  }
  std::future<Result<T>> Future() { return promise_.get_future(); }
  bool in_transaction() const override { return in_transaction_; }

 private:
  std::shared_ptr<std::atomic<int64_t>> failed_;
  std::function<Result<T>(db::Database&)> job_;
  bool in_transaction_;
  std::optional<Result<T>> result_;
  std::promise<Result<T>> promise_;
};

template <class T>
void Store::Submit(std::function<Result<T>(db::Database&)> job,
                   std::function<void(Result<T>)> done) {
  auto pending = std::make_shared<SubmitJob<T>>(*this, std::move(job), std::move(done));
  if (Enqueue(pending)) return;
  pending->Fail(Error(Errc::kClosed, "store is closed"));
  pending->Finish();
}

template <class T>
void Store::Detach(std::string context, std::function<Result<T>(db::Database&)> job) {
  Submit<T>(std::move(job), [context = std::move(context)](Result<T> result) {
    if (!result) internal::LogDetachedFailure(context, result.error());
  });
}

template <class T>
[[nodiscard]] Result<T> Store::Call(std::function<Result<T>(db::Database&)> job) {
  return CallJobAndWait(std::make_shared<CallJob<T>>(*this, std::move(job), true));
}

template <class T>
[[nodiscard]] Result<T> Store::CallOutsideTransaction(std::function<Result<T>(db::Database&)> job) {
  return CallJobAndWait(std::make_shared<CallJob<T>>(*this, std::move(job), false));
}

template <class T>
[[nodiscard]] Result<T> Store::CallJobAndWait(std::shared_ptr<CallJob<T>> pending) {
  if (std::this_thread::get_id() == worker_id_) {
    return Fail(Errc::kInternal, "Store::Call from a store job would deadlock");
  }
  auto future = pending->Future();
  if (!Enqueue(pending)) return Fail(Errc::kClosed, "store is closed");
  return future.get();
}

}  // namespace sluice::store
