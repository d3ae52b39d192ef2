#include "common/db/transaction.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace sluice::db {
namespace {

using sluice::testing::TempDir;

class DbTransaction : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Reopen();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (x INTEGER)"));
  }

  std::unique_ptr<Database> Reopen() {
    auto db = Database::Open(dir_ / "t.db");
    EXPECT_TRUE(db) << db.error().ToString();
    return db ? std::move(*db) : nullptr;
  }

  static std::vector<int64_t> Values(Database& db) {
    std::vector<int64_t> values;
    EXPECT_TRUE(db.Query("SELECT x FROM t ORDER BY x",
                         [&](const Statement& row) { values.push_back(row.Int64(0)); }));
    return values;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DbTransaction, CommitPersistsAcrossReopen) {
  {
    auto txn = Transaction::Begin(*db_);
    ASSERT_TRUE(txn);
    EXPECT_TRUE(db_->InTransaction());
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 1));
    ASSERT_TRUE(txn->Commit());
    EXPECT_FALSE(db_->InTransaction());
  }
  db_.reset();
  auto db = Reopen();
  EXPECT_EQ(Values(*db), std::vector<int64_t>{1});
}

TEST_F(DbTransaction, DestructionWithoutCommitRollsBack) {
  {
    auto txn = Transaction::Begin(*db_, Transaction::Mode::kDeferred);
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 1));
    EXPECT_EQ(Values(*db_), std::vector<int64_t>{1});
  }
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_TRUE(Values(*db_).empty());
}

TEST_F(DbTransaction, ExplicitRollbackAndDoubleFinishIsAnError) {
  auto txn = Transaction::Begin(*db_, Transaction::Mode::kExclusive);
  ASSERT_TRUE(txn);
  ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 1));
  ASSERT_TRUE(txn->Rollback());
  EXPECT_TRUE(Values(*db_).empty());
  auto again = txn->Commit();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::kInternal);
}

TEST_F(DbTransaction, MovedTransactionRollsBackOnce) {
  {
    auto txn = Transaction::Begin(*db_);
    ASSERT_TRUE(txn);
    Transaction moved = std::move(*txn);
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 1));
  }
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_TRUE(Values(*db_).empty());
}

TEST_F(DbTransaction, NestedBeginFails) {
  auto outer = Transaction::Begin(*db_);
  ASSERT_TRUE(outer);
  auto inner = Transaction::Begin(*db_);
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error().code(), Errc::kDatabase);
  EXPECT_NE(inner.error().message().find("within a transaction"), std::string::npos);
}

TEST_F(DbTransaction, ImmediateBeginFailsWhileAnotherConnectionWrites) {
  auto other = Database::Open(dir_ / "t.db", {.busy_timeout_ms = 0});
  ASSERT_TRUE(other);
  auto held = Transaction::Begin(*db_);
  ASSERT_TRUE(held);
  auto blocked = Transaction::Begin(**other);
  ASSERT_FALSE(blocked);
  EXPECT_NE(blocked.error().message().find("locked"), std::string::npos);
}

TEST_F(DbTransaction, SavepointRollbackUndoesOnlyItsOwnChanges) {
  auto txn = Transaction::Begin(*db_);
  ASSERT_TRUE(txn);
  ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 1));
  {
    auto kept = Savepoint::Begin(*db_);
    ASSERT_TRUE(kept);
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 2));
    ASSERT_TRUE(kept->Release());
  }
  {
    auto dropped = Savepoint::Begin(*db_);
    ASSERT_TRUE(dropped);
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 3));
    {
      auto inner = Savepoint::Begin(*db_);
      ASSERT_TRUE(inner);
      ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 4));
      ASSERT_TRUE(inner->Release());
    }
    // destroyed without Release: 3 and 4 go
  }
  {
    auto explicit_rollback = Savepoint::Begin(*db_);
    ASSERT_TRUE(explicit_rollback);
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 5));
    ASSERT_TRUE(explicit_rollback->Rollback());
  }
  EXPECT_TRUE(db_->InTransaction());
  ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 6));
  ASSERT_TRUE(txn->Commit());
  EXPECT_EQ(Values(*db_), (std::vector<int64_t>{1, 2, 6}));
}

TEST_F(DbTransaction, SavepointOutsideTransactionActsAsOne) {
  {
    auto savepoint = Savepoint::Begin(*db_);
    ASSERT_TRUE(savepoint);
    EXPECT_TRUE(db_->InTransaction());
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 1));
  }
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_TRUE(Values(*db_).empty());
  {
    auto savepoint = Savepoint::Begin(*db_);
    ASSERT_TRUE(savepoint);
    ASSERT_TRUE(db_->Run("INSERT INTO t VALUES (?1)", 2));
    ASSERT_TRUE(savepoint->Release());
  }
  EXPECT_FALSE(db_->InTransaction());
  db_.reset();
  auto db = Reopen();
  EXPECT_EQ(Values(*db), std::vector<int64_t>{2});
}

}  // namespace
}  // namespace sluice::db
