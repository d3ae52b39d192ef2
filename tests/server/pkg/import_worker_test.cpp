#include "server/pkg/import_worker.h"

#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "tests/common/db/temp_dir.h"
#include "tests/server/admin/admin_test_util.h"
#include "tests/server/pkg/pkg_test_util.h"

namespace sluice::server {
namespace {

using admin::testing::LoopThread;
using sluice::testing::TempDir;
using testing::ListTree;
using testing::PackageBytes;
using testing::WriteTestFile;

PackageSpec Spec(const std::string& version) {
  return {.kind = "jump-client", .platform = "linux-x86_64", .version = version};
}

class ImportWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = crypto::SigningKey::Generate();
    ASSERT_TRUE(key);
    key_.emplace(std::move(*key));
  }
  void TearDown() override {
    loop_.Sync([this] { worker_.reset(); });
  }

  TempDir dir_;
  const std::string packages_ = dir_.File("packages");
  std::optional<crypto::SigningKey> key_;
  LoopThread loop_;                       // destroyed before the key and the dir
  std::unique_ptr<ImportWorker> worker_;  // loop thread only
};

TEST_F(ImportWorkerTest, DeliversOutcomesOnTheLoopThreadInSubmissionOrder) {
  const std::string good = WriteTestFile(dir_.File("good.bin"), PackageBytes(70'000, 1));
  struct Outcome {
    bool on_loop_thread = false;
    Result<PackageRecord> result;
  };
  std::vector<std::promise<Outcome>> outcomes(3);
  loop_.Sync([&] {
    worker_ = std::make_unique<ImportWorker>(loop_.loop(), packages_, *key_);
    const std::vector<std::pair<std::string, std::string>> jobs = {
        {good, "1.0"}, {dir_.File("missing.bin"), "1.1"}, {good, "1.2"}};
    for (size_t i = 0; i < jobs.size(); ++i) {
      worker_->Submit(jobs[i].first, Spec(jobs[i].second), 1000 + static_cast<int64_t>(i),
                      [this, &outcomes, i](Result<PackageRecord> result) {
                        outcomes[i].set_value({loop_.loop().InLoopThread(), std::move(result)});
                      });
    }
  });
  std::vector<Outcome> got;
  for (auto& outcome : outcomes) {
    auto future = outcome.get_future();
    ASSERT_EQ(future.wait_for(admin::testing::kWait), std::future_status::ready);
    got.push_back(future.get());
  }
  for (const auto& outcome : got) EXPECT_TRUE(outcome.on_loop_thread);
  ASSERT_TRUE(got[0].result);
  EXPECT_EQ(got[0].result->version, "1.0");
  EXPECT_EQ(got[0].result->created_ms, 1000);
  ASSERT_FALSE(got[1].result);
  EXPECT_EQ(got[1].result.error().code(), Errc::kNotFound);
  ASSERT_TRUE(got[2].result);
  EXPECT_EQ(got[2].result->version, "1.2");
  EXPECT_EQ(got[2].result->path, got[0].result->path);
}

// Whether the first import is still queued or already copying when the worker goes away, the
// outcome is dropped, the destructor returns and no temp file is left behind.
TEST_F(ImportWorkerTest, DestroyingTheWorkerDropsOutcomesAndLeavesNoTempFile) {
  const std::string big = WriteTestFile(dir_.File("big.bin"), PackageBytes(16 << 20, 2));
  auto called = std::make_shared<std::atomic<int>>(0);
  loop_.Sync([&] {
    worker_ = std::make_unique<ImportWorker>(loop_.loop(), packages_, *key_);
    for (const char* version : {"1.0", "1.1"}) {
      worker_->Submit(big, Spec(version), 1000, [called](Result<PackageRecord>) { ++*called; });
    }
  });
  // Let the first import get going (or finish) before the worker is destroyed.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(loop_.Sync([this] { worker_.reset(); }));
  // Anything the worker posted before it was joined has run (and been dropped) by now.
  ASSERT_TRUE(loop_.Sync([] {}));
  EXPECT_EQ(called->load(), 0);
  for (const auto& name : ListTree(packages_)) {
    EXPECT_EQ(name.find(".import-"), std::string::npos) << "temp file left: " << name;
  }
}

}  // namespace
}  // namespace sluice::server
