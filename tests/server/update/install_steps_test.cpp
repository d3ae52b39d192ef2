// Install steps on real files: the database backup is a consistent, readable SQLite copy.

#include "server/update/install_steps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "common/db/database.h"
#include "tests/support/temp_dir.h"

namespace sluice::server {
namespace {

TEST(InstallStepsTest, BackupIsAReadableCopyNamedWithTimeAndVersions) {
  testing::TempDir dir;
  auto live = store::Store::Open(
      {.path = dir / "live.db", .post_to_loop = [](std::function<void()> task) { task(); }});
  ASSERT_TRUE(live);
  ASSERT_TRUE((*live)->Call<void>([](db::Database& db) {
    return db.Exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('before')");
  }));

  auto backup =
      BackupDatabase(**live, dir / "backups", 1'764'057'600'123, "1.0.0", "", "site-2.0.0", 5);
  ASSERT_TRUE(backup) << backup.error().ToString();
  EXPECT_EQ(*backup, (dir / "backups") +
                         "/sluice-20251125T080000.123Z-site-1.0.0-base-none-before-site-2.0.0.db");
  ASSERT_TRUE(
      (*live)->Call<void>([](db::Database& db) { return db.Exec("UPDATE t SET v = 'after'"); }));

  auto copy = db::Database::Open(*backup, {.wal = false, .busy_timeout_ms = 100, .create = false});
  ASSERT_TRUE(copy);
  std::string value;
  ASSERT_TRUE(
      (*copy)->Query("SELECT v FROM t", [&](const db::Statement& row) { value = row.Text(0); }));
  EXPECT_EQ(value, "before");
  // A backups folder that cannot be made: refused, nothing written.
  { std::ofstream(dir / "not-a-dir") << "file"; }
  EXPECT_FALSE(BackupDatabase(**live, dir / "not-a-dir", 1, "1", "", "x", 5));
}

TEST(InstallStepsTest, OnlyTheNewestCopiesAreKept) {
  testing::TempDir dir;
  auto live = store::Store::Open(
      {.path = dir / "live.db", .post_to_loop = [](std::function<void()> task) { task(); }});
  ASSERT_TRUE(live);
  std::filesystem::create_directories(dir / "backups");
  {
    // A copy a crash interrupted, and a file that is not a copy: the first goes, the second stays.
    std::ofstream(dir / "backups/.partial-0123.db") << "half";
    std::ofstream(dir / "backups/notes.txt") << "mine";
  }
  std::vector<std::string> made;
  for (int i = 0; i < 5; ++i) {
    auto backup = BackupDatabase(**live, dir / "backups", 1'764'057'600'000 + i * 60'000, "1.0.0",
                                 "", "site-2.0." + std::to_string(i), 3);
    ASSERT_TRUE(backup) << backup.error().ToString();
    made.push_back(*backup);
  }
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "backups")) {
    left.push_back(entry.path().string());
  }
  std::sort(left.begin(), left.end());
  std::vector<std::string> expected = {made[2], made[3], made[4], dir / "backups/notes.txt"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(left, expected);
}

}  // namespace
}  // namespace sluice::server
