#include "server/store/store.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/store/settings_repo.h"
#include "tests/server/store/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace sluice::store {
namespace {

using sluice::testing::TempDir;
using testing::Gate;
using testing::TestLoop;

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore(size_t max_batch = 512) {
    auto store = Store::Open(
        {.path = (dir_ / "server.db"), .post_to_loop = loop_.Poster(), .max_batch = max_batch});
    EXPECT_TRUE(store) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }

  static Status CreateLog(db::Database& db) {
    return db.Exec("CREATE TABLE IF NOT EXISTS log (n INTEGER PRIMARY KEY, who TEXT)");
  }

  static std::vector<int64_t> LoggedNumbers(Store& store) {
    auto numbers =
        store.Call<std::vector<int64_t>>([](db::Database& db) -> Result<std::vector<int64_t>> {
          std::vector<int64_t> out;
          auto read = db.Query("SELECT n FROM log ORDER BY n",
                               [&](const db::Statement& row) { out.push_back(row.Int64(0)); });
          if (!read) return Fail(read.error());
          return out;
        });
    EXPECT_TRUE(numbers) << numbers.error().ToString();
    return numbers ? *numbers : std::vector<int64_t>{};
  }

  TempDir dir_;
  TestLoop loop_;
};

TEST_F(StoreTest, OpenCreatesSchemaAndCallRunsJobs) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Call<void>([](db::Database& db) { return SetSetting(db, "k", "v"); }));
  auto value =
      store->Call<std::optional<std::string>>([](db::Database& db) { return GetSetting(db, "k"); });
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, "v");
  EXPECT_EQ(loop_.Pending(), 0u);  // Call() does not go through the loop
}

// A reader reads what the writer committed, beside it (the writer holds a write transaction
// open meanwhile), and can write nothing.
TEST_F(StoreTest, AReaderReadsBesideTheWriterAndCannotWrite) {
  auto writer = OpenStore();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Call<void>([](db::Database& db) { return SetSetting(db, "k", "v1"); }));
  auto reader = Store::Open(
      {.path = (dir_ / "server.db"), .post_to_loop = loop_.Poster(), .read_only = true});
  ASSERT_TRUE(reader) << reader.error().ToString();
  Gate gate;
  auto hold = gate.Job();
  writer->Submit<int>(
      [&hold](db::Database& db) -> Result<int> {
        if (auto set = SetSetting(db, "k", "v2"); !set) return Fail(set.error());
        return hold(db);  // the writer's transaction stays open, uncommitted, until Open()
      },
      [](Result<int>) {});
  ASSERT_TRUE(gate.WaitEntered());
  auto read = (*reader)->Call<std::optional<std::string>>(
      [](db::Database& db) { return GetSetting(db, "k"); });
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(*read, "v1");  // the last commit, not the open transaction, and without waiting
  gate.Open();
  ASSERT_TRUE(loop_.RunTasks(1));
  read = (*reader)->Call<std::optional<std::string>>(
      [](db::Database& db) { return GetSetting(db, "k"); });
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, "v2");
  auto write = (*reader)->Call<void>([](db::Database& db) { return SetSetting(db, "k", "v3"); });
  EXPECT_FALSE(write);
  EXPECT_FALSE(Store::Open({.path = (dir_ / "missing.db"),
                            .post_to_loop = loop_.Poster(),
                            .read_only = true}));  // a reader creates nothing
}

// The nice value applies to the store thread alone (where jobs run), not to its caller.
TEST_F(StoreTest, ANiceStoreThreadRunsAtItsOwnLowerPriority) {
  const int caller = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  auto store =
      Store::Open({.path = (dir_ / "server.db"), .post_to_loop = loop_.Poster(), .nice = 10});
  ASSERT_TRUE(store) << store.error().ToString();
  auto nice = (*store)->Call<int>([](db::Database&) -> Result<int> {
    return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  });
  ASSERT_TRUE(nice) << nice.error().ToString();
  EXPECT_EQ(*nice, std::min(caller + 10, 19));
  EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), caller);
}

TEST_F(StoreTest, OpenRequiresPostToLoop) {
  auto store = Store::Open({.path = (dir_ / "server.db")});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Errc::kInvalidArgument);
}

TEST_F(StoreTest, OpenRefusesNewerSchema) {
  {
    auto db = db::Database::Open(dir_ / "server.db");
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99"));
  }
  auto store = Store::Open({.path = (dir_ / "server.db"), .post_to_loop = loop_.Poster()});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Errc::kDatabase);
  EXPECT_NE(store.error().message().find("database schema v99 is newer than this build"),
            std::string::npos);
}

TEST_F(StoreTest, SubmitFromSeveralThreadsCompletesInSubmissionOrder) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Call<void>(CreateLog));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  // Each job records the order in which the store ran it; each completion records the order
  // in which the loop received it. Both must agree, and each thread's jobs stay in its order.
  std::mutex run_mu;
  int next_run = 0;
  std::vector<int64_t> completed;  // run index, in completion order (loop thread)
  std::vector<std::vector<int64_t>> per_thread(kThreads);
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        store->Submit<int64_t>(
            [&, t](db::Database& db) -> Result<int64_t> {
              int64_t run;
              {
                std::lock_guard lock(run_mu);
                run = next_run++;
              }
              if (auto ran = db.Run("INSERT INTO log (n, who) VALUES (?1, ?2)", run, t); !ran) {
                return Fail(ran.error());
              }
              return run;
            },
            [&, t](Result<int64_t> result) {
              ASSERT_TRUE(result) << result.error().ToString();
              completed.push_back(*result);
              per_thread[t].push_back(*result);
            });
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  ASSERT_TRUE(loop_.RunTasks(kThreads * kPerThread));
  ASSERT_EQ(completed.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < completed.size(); ++i) EXPECT_EQ(completed[i], static_cast<int64_t>(i));
  for (const auto& runs : per_thread) {
    EXPECT_TRUE(std::is_sorted(runs.begin(), runs.end()));
  }
  EXPECT_EQ(LoggedNumbers(*store).size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(StoreTest, QueuedJobsShareOneTransaction) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Call<void>(CreateLog));
  const int64_t before = store->batches_committed();
  Gate gate;
  store->Submit<int>(gate.Job(), nullptr);
  ASSERT_TRUE(gate.WaitEntered());
  constexpr int kJobs = 300;
  for (int i = 0; i < kJobs; ++i) {
    store->Submit<void>(
        [i](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (?1)", i); },
        [](Status status) { EXPECT_TRUE(status) << status.error().ToString(); });
  }
  gate.Open();
  ASSERT_TRUE(loop_.RunTasks(kJobs));
  // One batch for the gate, one for the 300 jobs queued behind it.
  EXPECT_EQ(store->batches_committed() - before, 2);
  EXPECT_EQ(LoggedNumbers(*store).size(), static_cast<size_t>(kJobs));
}

TEST_F(StoreTest, BackupRunsInStepsBetweenJobsAndCopiesOneMoment) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Call<void>([](db::Database& db) {
    return db.Exec("CREATE TABLE blob (n INTEGER PRIMARY KEY, pad BLOB)");
  }));
  // About 8 MiB: many steps of kBackupStepPages.
  ASSERT_TRUE(store->Call<void>([](db::Database& db) -> Status {
    for (int i = 0; i < 2'000; ++i) {
      if (auto ok = db.Run("INSERT INTO blob (n, pad) VALUES (?1, zeroblob(4000))", i); !ok) {
        return ok;
      }
    }
    return {};
  }));
  ASSERT_TRUE(store->Call<void>(CreateLog));
  // Writes keep landing while the copy runs: each step is queued behind them.
  std::atomic<bool> copying = true;
  std::thread writer([&] {
    for (int i = 0; copying.load() && i < 100'000; ++i) {
      ASSERT_TRUE(store->Call<void>(
          [i](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (?1)", i); }));
    }
  });
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  const Status copied = store->BackupTo(
      dir_ / "copy.db", [&](uint64_t done, uint64_t total) { progress.emplace_back(done, total); });
  copying = false;
  writer.join();
  ASSERT_TRUE(copied) << copied.error().ToString();
  ASSERT_GT(progress.size(), 3u);
  EXPECT_EQ(progress.back().first, progress.back().second);
  const size_t written = LoggedNumbers(*store).size();
  EXPECT_GT(written, 0u);

  auto copy = db::Database::Open(dir_ / "copy.db", {.wal = false, .create = false});
  ASSERT_TRUE(copy);
  int64_t blobs = 0;
  int64_t logged = 0;
  int64_t max_logged = -1;
  ASSERT_TRUE((*copy)->Query("SELECT count(*) FROM blob",
                             [&](const db::Statement& row) { blobs = row.Int64(0); }));
  ASSERT_TRUE((*copy)->Query("SELECT count(*), coalesce(max(n), -1) FROM log",
                             [&](const db::Statement& row) {
                               logged = row.Int64(0);
                               max_logged = row.Int64(1);
                             }));
  EXPECT_EQ(blobs, 2'000);
  // One moment: a prefix of the writes, with no gap.
  EXPECT_EQ(max_logged + 1, logged);
  EXPECT_LE(static_cast<size_t>(logged), written);
}

TEST_F(StoreTest, BackupRefusesAnExistingFileAndLeavesNothingOnFailure) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  { std::ofstream(dir_ / "taken.db") << "mine"; }
  const Status taken = store->BackupTo(dir_ / "taken.db");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), Errc::kAlreadyExists);
  EXPECT_FALSE(store->BackupTo(dir_ / "no/such/dir/copy.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "no/such/dir/copy.db"));
  store->Close();
  const Status closed = store->BackupTo(dir_ / "late.db");
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code(), Errc::kClosed);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "late.db"));
}

TEST_F(StoreTest, MaxBatchSplitsLongQueues) {
  auto store = OpenStore(/*max_batch=*/10);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Call<void>(CreateLog));
  const int64_t before = store->batches_committed();
  Gate gate;
  store->Submit<int>(gate.Job(), nullptr);
  ASSERT_TRUE(gate.WaitEntered());
  for (int i = 0; i < 25; ++i) {
    store->Submit<void>(
        [i](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (?1)", i); },
        [](Status status) { EXPECT_TRUE(status); });
  }
  gate.Open();
  ASSERT_TRUE(loop_.RunTasks(25));
  // The gate, then 10 + 10 + 5.
  EXPECT_EQ(store->batches_committed() - before, 4);
  EXPECT_EQ(LoggedNumbers(*store).size(), 25u);
}

TEST_F(StoreTest, FailingJobRollsBackOnlyItsOwnWrites) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Call<void>(CreateLog));
  const int64_t before = store->batches_committed();
  Gate gate;
  store->Submit<int>(gate.Job(), nullptr);
  ASSERT_TRUE(gate.WaitEntered());
  std::vector<Status> results;
  auto record = [&](Status status) { results.push_back(std::move(status)); };
  store->Submit<void>([](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (1)"); },
                      record);
  store->Submit<void>(
      [](db::Database& db) -> Status {
        if (auto ran = db.Run("INSERT INTO log (n) VALUES (2)"); !ran) return ran;
        return Fail(Errc::kInvalidArgument, "job changed its mind");
      },
      record);
  store->Submit<void>(  // fails inside SQLite: duplicate key after inserting 3
      [](db::Database& db) -> Status {
        if (auto ran = db.Run("INSERT INTO log (n) VALUES (3)"); !ran) return ran;
        return db.Run("INSERT INTO log (n) VALUES (1)");
      },
      record);
  store->Submit<void>([](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (4)"); },
                      record);
  gate.Open();
  ASSERT_TRUE(loop_.RunTasks(4));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0]);
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().message(), "job changed its mind");
  ASSERT_FALSE(results[2]);
  EXPECT_EQ(results[2].error().code(), Errc::kAlreadyExists);
  EXPECT_TRUE(results[3]);
  EXPECT_EQ(store->batches_committed() - before, 2);
  EXPECT_EQ(LoggedNumbers(*store), (std::vector<int64_t>{1, 4}));
}

TEST_F(StoreTest, CommitFailureFailsEveryJobInTheBatch) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  // A deferred foreign key is only checked at COMMIT, so the batch fails as a whole.
  ASSERT_TRUE(store->Call<void>([](db::Database& db) {
    return db.Exec(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);"
        "CREATE TABLE log (n INTEGER PRIMARY KEY, who TEXT);");
  }));
  Gate gate;
  store->Submit<int>(gate.Job(), nullptr);
  ASSERT_TRUE(gate.WaitEntered());
  std::vector<Status> results;
  auto record = [&](Status status) { results.push_back(std::move(status)); };
  store->Submit<void>([](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (1)"); },
                      record);
  store->Submit<void>([](db::Database& db) { return db.Run("INSERT INTO child VALUES (42)"); },
                      record);
  gate.Open();
  ASSERT_TRUE(loop_.RunTasks(2));
  ASSERT_EQ(results.size(), 2u);
  for (const Status& result : results) {
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message().find("committing batch"), std::string::npos);
    EXPECT_NE(result.error().message().find("FOREIGN KEY"), std::string::npos);
  }
  EXPECT_TRUE(LoggedNumbers(*store).empty());
  // The store keeps working after a failed batch.
  ASSERT_TRUE(
      store->Call<void>([](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (5)"); }));
  EXPECT_EQ(LoggedNumbers(*store), std::vector<int64_t>{5});
}

TEST_F(StoreTest, CloseCommitsQueuedWorkThatReopenSees) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Call<void>(CreateLog));
    for (int i = 0; i < 20; ++i) {
      store->Submit<void>(
          [i](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (?1)", i); },
          [](Status status) { EXPECT_TRUE(status); });
    }
    store->Close();
    EXPECT_EQ(loop_.Pending(), 20u);  // completions of queued jobs are still posted
    store->Close();                   // idempotent
    ASSERT_TRUE(loop_.RunTasks(20));
  }
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(LoggedNumbers(*reopened).size(), 20u);
}

TEST_F(StoreTest, AfterCloseJobsCompleteWithClosed) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->Close();
  bool ran = false;
  std::optional<Result<int>> outcome;
  store->Submit<int>(
      [&](db::Database&) -> Result<int> {
        ran = true;
        return 1;
      },
      [&](Result<int> result) { outcome = std::move(result); });
  ASSERT_TRUE(loop_.RunTasks(1));
  ASSERT_TRUE(outcome.has_value());
  ASSERT_FALSE(*outcome);
  EXPECT_EQ(outcome->error().code(), Errc::kClosed);
  auto called = store->Call<int>([](db::Database&) -> Result<int> { return 1; });
  ASSERT_FALSE(called);
  EXPECT_EQ(called.error().code(), Errc::kClosed);
  EXPECT_FALSE(ran);
}

TEST_F(StoreTest, CloseFromAnotherThreadWhileSubmitting) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Call<void>(CreateLog));
  std::atomic<int> ok{0};
  std::atomic<int> closed{0};
  std::thread submitter([&] {
    for (int i = 0; i < 200; ++i) {
      store->Submit<void>(
          [i](db::Database& db) { return db.Run("INSERT INTO log (n) VALUES (?1)", i); },
          [&](Status status) {
            if (status) {
              ++ok;
            } else if (status.error().code() == Errc::kClosed) {
              ++closed;
            }
          });
    }
  });
  store->Close();
  submitter.join();
  ASSERT_TRUE(loop_.RunTasks(200));
  EXPECT_EQ(ok + closed, 200);
  store.reset();
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(LoggedNumbers(*reopened).size(), static_cast<size_t>(ok.load()));
}

TEST_F(StoreTest, ThrowingJobBecomesInternalError) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto result =
      store->Call<int>([](db::Database&) -> Result<int> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kInternal);
  EXPECT_NE(result.error().message().find("boom"), std::string::npos);
  EXPECT_TRUE(store->Call<int>([](db::Database&) -> Result<int> { return 3; }));
}

// A job's verdict on its request (not found, invalid) is an answer, not a failure: only the
// store's own trouble (here a throwing job, and a database error) counts in failed_jobs().
TEST_F(StoreTest, OnlyFailuresAreCountedNotVerdicts) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (Errc verdict : {Errc::kNotFound, Errc::kInvalidArgument, Errc::kAlreadyExists}) {
    EXPECT_FALSE(store->Call<int>(
        [verdict](db::Database&) -> Result<int> { return Fail(verdict, "no such thing"); }));
  }
  EXPECT_EQ(store->failed_jobs(), 0);
  EXPECT_FALSE(
      store->Call<int>([](db::Database&) -> Result<int> { throw std::runtime_error("boom"); }));
  EXPECT_FALSE(
      store->Call<void>([](db::Database& db) { return db.Exec("SELECT * FROM nowhere"); }));
  EXPECT_EQ(store->failed_jobs(), 2);
}

TEST_F(StoreTest, MoveOnlyResultsAreDelivered) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::unique_ptr<int> got;
  store->Submit<std::unique_ptr<int>>(
      [](db::Database&) -> Result<std::unique_ptr<int>> { return std::make_unique<int>(7); },
      [&](Result<std::unique_ptr<int>> result) { got = std::move(*result); });
  ASSERT_TRUE(loop_.RunTasks(1));
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, 7);
}

}  // namespace
}  // namespace sluice::store
