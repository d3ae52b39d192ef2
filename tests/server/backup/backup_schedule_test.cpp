// The pieces of scheduled backups on real files: which files count, which are kept, when the
// next one is due, and the schedule's password file.

#include "server/backup/backup_schedule.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/base/file_util.h"
#include "tests/support/temp_dir.h"

namespace sluice::backup {
namespace {

namespace fs = std::filesystem;

TEST(BackupScheduleTest, OnlyTheNewestBackupsAreKeptAndNothingElseIsTouched) {
  testing::TempDir dir;
  for (const char* name :
       {"sluice-backup-20261201T000000.000Z-site-2.0.0.sluicebackup",
        "sluice-backup-20261203T000000.000Z-site-2.0.0.sluicebackup",
        "sluice-backup-20261202T000000.000Z-site-2.0.0.sluicebackup", ".partial-0123.sluicebackup",
        "notes.txt", "sluice-backup-20261130T000000.000Z-site-1.0.0.db"}) {
    std::ofstream(dir / name) << "x";
  }
  EXPECT_EQ(ListBackupFiles(dir.path()).size(), 3u);
  const std::vector<std::string> removed = KeepNewestBackups(dir.path(), 2);
  EXPECT_EQ(removed, std::vector<std::string>{
                         dir / "sluice-backup-20261201T000000.000Z-site-2.0.0.sluicebackup"});
  EXPECT_EQ(ListBackupFiles(dir.path()),
            (std::vector<std::string>{
                dir / "sluice-backup-20261202T000000.000Z-site-2.0.0.sluicebackup",
                dir / "sluice-backup-20261203T000000.000Z-site-2.0.0.sluicebackup"}));
  for (const char* other : {".partial-0123.sluicebackup", "notes.txt",
                            "sluice-backup-20261130T000000.000Z-site-1.0.0.db"}) {
    EXPECT_TRUE(fs::exists(dir / other)) << other;
  }
}

TEST(BackupScheduleTest, DueWhenOnAndTheLastOneIsOldEnough) {
  constexpr int64_t kHour = 3600 * 1000;
  EXPECT_FALSE(ScheduledBackupDue(0, 0, 100 * kHour));  // off
  EXPECT_TRUE(ScheduledBackupDue(24, 0, 100 * kHour));  // none yet
  EXPECT_FALSE(ScheduledBackupDue(24, 90 * kHour, 100 * kHour));
  EXPECT_TRUE(ScheduledBackupDue(24, 76 * kHour, 100 * kHour));
  testing::TempDir dir;
  EXPECT_EQ(LastBackupMs(dir.path()), 0);
  std::ofstream(dir / "sluice-backup-20261201T000000.000Z-site-2.0.0.sluicebackup") << "x";
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_NEAR(static_cast<double>(LastBackupMs(dir.path())), static_cast<double>(now_ms), 5000);
}

TEST(BackupScheduleTest, ThePasswordIsAbsentSetOrUnprotectedByChoice) {
  testing::TempDir dir;
  ASSERT_TRUE(EnsureDir(dir / "keys", 0700));
  auto none = ReadSchedulePassword(dir.path());
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(WriteSchedulePassword(dir.path(), "s3cret"));
  EXPECT_EQ(ReadSchedulePassword(dir.path())->value(), "s3cret");
  struct stat st {};
  ASSERT_EQ(::stat(SchedulePasswordPath(dir.path()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(WriteSchedulePassword(dir.path(), ""));
  EXPECT_EQ(ReadSchedulePassword(dir.path())->value(), "");
}

}  // namespace
}  // namespace sluice::backup
