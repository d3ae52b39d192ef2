#include "server/store/settings_repo.h"

#include <gtest/gtest.h>

#include "common/db/migrate.h"
#include "server/store/schema.h"
#include "tests/server/store/migrated_db_test.h"

namespace sluice::store {
namespace {

using sluice::testing::TempDir;

class SettingsRepo : public store::testing::MigratedDbTest {};

TEST_F(SettingsRepo, UnsetKeyIsNullopt) {
  auto value = GetSetting(*db_, "upgrade.limit");
  ASSERT_TRUE(value);
  EXPECT_FALSE(value->has_value());
}

TEST_F(SettingsRepo, SetThenGetAndOverwrite) {
  ASSERT_TRUE(SetSetting(*db_, "upgrade.limit", "10"));
  EXPECT_EQ(GetSetting(*db_, "upgrade.limit").value(), "10");
  ASSERT_TRUE(SetSetting(*db_, "upgrade.limit", "25"));
  EXPECT_EQ(GetSetting(*db_, "upgrade.limit").value(), "25");
  ASSERT_TRUE(SetSetting(*db_, "empty", ""));
  auto empty = GetSetting(*db_, "empty");
  ASSERT_TRUE(empty);
  ASSERT_TRUE(empty->has_value());
  EXPECT_EQ(**empty, "");
}

TEST_F(SettingsRepo, AllSettingsReturnsEveryKey) {
  ASSERT_TRUE(SetSetting(*db_, "b", "2"));
  ASSERT_TRUE(SetSetting(*db_, "a", "1"));
  ASSERT_TRUE(SetSetting(*db_, "b", "3"));
  auto all = AllSettings(*db_);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::map<std::string, std::string>{{"a", "1"}, {"b", "3"}}));
}

TEST_F(SettingsRepo, SettingsSurviveReopen) {
  ASSERT_TRUE(SetSetting(*db_, "policy", "always"));
  db_.reset();
  auto db = db::Database::Open(dir_ / "server.db");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db::Migrate(**db, Migrations()));
  EXPECT_EQ(GetSetting(**db, "policy").value(), "always");
}

}  // namespace
}  // namespace sluice::store
