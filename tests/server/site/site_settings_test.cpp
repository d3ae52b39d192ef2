#include "server/site/site_settings.h"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(SiteSettingsTest, DefaultsRoundTripThroughTheStoredMap) {
  SiteSettings defaults;
  auto loaded = SiteSettings::FromMap(defaults.ToMap());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->ToMap(), defaults.ToMap());
  EXPECT_EQ(defaults.update_backups_kept, 5);
}

TEST(SiteSettingsTest, EachIntegerKeyKeepsToItsRange) {
  SiteSettings settings;
  ASSERT_TRUE(settings.Set("update_backups_kept", "12"));
  EXPECT_EQ(settings.update_backups_kept, 12);
  for (const char* bad : {"0", "1001", "-1", "five", ""}) {
    auto refused = settings.Set("update_backups_kept", bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument) << bad;
    EXPECT_NE(refused.error().message().find("update_backups_kept"), std::string::npos);
  }
  EXPECT_EQ(settings.update_backups_kept, 12);  // a refused value changes nothing
  EXPECT_FALSE(settings.Set("heartbeat_s", "4"));
  EXPECT_TRUE(settings.Set("heartbeat_s", "5"));
}

TEST(SiteSettingsTest, UnknownKeysAndBadStoredValuesAreRefused) {
  SiteSettings settings;
  auto unknown = settings.Set("backups_kept", "3");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::kNotFound);
  EXPECT_NE(unknown.error().message().find("update_backups_kept"), std::string::npos);
  auto stored = SiteSettings::FromMap({{"update_backups_kept", "0"}});
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code(), Errc::kCorrupt);
}

}  // namespace
}  // namespace sluice::server
