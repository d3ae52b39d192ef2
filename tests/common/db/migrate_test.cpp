#include "common/db/migrate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace sluice::db {
namespace {

using sluice::testing::TempDir;

constexpr Migration kSteps[] = {
    {1, "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
    {2, "ALTER TABLE a ADD COLUMN y TEXT NOT NULL DEFAULT 'y'; INSERT INTO a (x) VALUES (2);"},
};

class DbMigrate : public ::testing::Test {
 protected:
  std::unique_ptr<Database> Open() {
    auto db = Database::Open(dir_ / "m.db");
    EXPECT_TRUE(db) << db.error().ToString();
    return db ? std::move(*db) : nullptr;
  }

  static int64_t RowCount(Database& db) {
    int64_t count = -1;
    EXPECT_TRUE(
        db.Query("SELECT count(*) FROM a", [&](const Statement& row) { count = row.Int64(0); }));
    return count;
  }

  TempDir dir_;
};

TEST_F(DbMigrate, AppliesStepsInOrderAndSetsUserVersion) {
  auto db = Open();
  ASSERT_EQ(SchemaVersion(*db), 0);
  ASSERT_TRUE(Migrate(*db, std::span(kSteps).first(1)));
  EXPECT_EQ(SchemaVersion(*db), 1);
  ASSERT_TRUE(Migrate(*db, kSteps));
  EXPECT_EQ(SchemaVersion(*db), 2);
  EXPECT_EQ(RowCount(*db), 2);
  EXPECT_FALSE(db->InTransaction());
}

TEST_F(DbMigrate, RerunIsANoOpAcrossReopen) {
  {
    auto db = Open();
    ASSERT_TRUE(Migrate(*db, kSteps));
  }
  auto db = Open();
  ASSERT_TRUE(Migrate(*db, kSteps));  // would fail on CREATE TABLE a if re-applied
  EXPECT_EQ(SchemaVersion(*db), 2);
  EXPECT_EQ(RowCount(*db), 2);
}

TEST_F(DbMigrate, RefusesSchemaNewerThanBuild) {
  auto db = Open();
  ASSERT_TRUE(db->Exec("PRAGMA user_version = 5"));
  auto status = Migrate(*db, kSteps);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::kDatabase);
  EXPECT_EQ(status.error().message(), "database schema v5 is newer than this build (v2)");
  EXPECT_EQ(SchemaVersion(*db), 5);
}

TEST_F(DbMigrate, FailedStepRollsBackToPreviousVersion) {
  const Migration broken[] = {
      kSteps[0],
      {2, "INSERT INTO a VALUES (2); INSERT INTO no_such_table VALUES (1);"},
  };
  auto db = Open();
  auto status = Migrate(*db, broken);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::kDatabase);
  EXPECT_NE(status.error().message().find("migrating to schema v2"), std::string::npos);
  EXPECT_NE(status.error().message().find("no such table: no_such_table"), std::string::npos);
  EXPECT_EQ(SchemaVersion(*db), 1);
  EXPECT_EQ(RowCount(*db), 1);
  EXPECT_FALSE(db->InTransaction());
}

TEST_F(DbMigrate, RejectsMalformedList) {
  const Migration gap[] = {{1, "SELECT 1"}, {3, "SELECT 1"}};
  auto db = Open();
  auto status = Migrate(*db, gap);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(SchemaVersion(*db), 0);
}

}  // namespace
}  // namespace sluice::db
