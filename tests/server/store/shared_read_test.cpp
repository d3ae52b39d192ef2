#include "server/store/shared_read.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/server/store/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace sluice::store {
namespace {

class SharedReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({.path = (dir_ / "server.db"), .post_to_loop = loop_.Poster()});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  // A read that counts how often it ran; it fails while `fail_` is set.
  std::shared_ptr<SharedRead<int>> CountingRead() {
    return SharedRead<int>::Create(*store_, clock_, /*max_age_ms=*/1000,
                                   [this](db::Database&) -> Result<int> {
                                     if (fail_) return Fail(Errc::kDatabase, "disk on fire");
                                     return ++reads_;
                                   });
  }

  sluice::testing::TempDir dir_;
  testing::TestLoop loop_;
  std::unique_ptr<Store> store_;
  FakeClock clock_;
  std::atomic<int> reads_{0};
  std::atomic<bool> fail_{false};
};

TEST_F(SharedReadTest, CallersWhileAReadRunsShareIt) {
  auto read = CountingRead();
  std::vector<int> got;
  for (int i = 0; i < 5; ++i)
    read->Get([&](Result<int> value) { got.push_back(value.value_or(-1)); });
  ASSERT_TRUE(loop_.RunTasks(1));  // one store job, one completion
  EXPECT_EQ(got, std::vector<int>(5, 1));
  EXPECT_EQ(reads_, 1);
}

TEST_F(SharedReadTest, AResultIsReusedUntilItIsTooOld) {
  auto read = CountingRead();
  int got = 0;
  read->Get([&](Result<int> value) { got = *value; });
  ASSERT_TRUE(loop_.RunTasks(1));
  clock_.Advance(999);
  read->Get([&](Result<int> value) { got = *value; });  // answered at once
  EXPECT_EQ(got, 1);
  clock_.Advance(1);
  read->Get([&](Result<int> value) { got = *value; });
  ASSERT_TRUE(loop_.RunTasks(1));
  EXPECT_EQ(got, 2);
  EXPECT_EQ(reads_, 2);
}

TEST_F(SharedReadTest, AnErrorIsNeverReused) {
  auto read = CountingRead();
  fail_ = true;
  std::optional<Result<int>> got;
  read->Get([&](Result<int> value) { got = value; });
  ASSERT_TRUE(loop_.RunTasks(1));
  ASSERT_TRUE(got && !*got);
  EXPECT_EQ(got->error().code(), Errc::kDatabase);
  fail_ = false;
  read->Get([&](Result<int> value) { got = value; });
  ASSERT_TRUE(loop_.RunTasks(1));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, 1);
}

TEST_F(SharedReadTest, ACompletionAfterTheReadIsGoneIsDropped) {
  auto read = CountingRead();
  bool called = false;
  read->Get([&](Result<int>) { called = true; });
  read.reset();
  ASSERT_TRUE(loop_.RunTasks(1));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace sluice::store
