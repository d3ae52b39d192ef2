#include "server/installer/installer_params.h"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(InstallerParamsTest, DurationsParse) {
  EXPECT_EQ(*ParseDuration("30m"), 30 * 60'000);
  EXPECT_EQ(*ParseDuration("12h"), 12 * 3'600'000);
  EXPECT_EQ(*ParseDuration("7d"), 7LL * 86'400'000);
  EXPECT_EQ(*ParseDuration("1h30m"), 90 * 60'000);
  EXPECT_EQ(*ParseDuration("1y"), kMaxInstallerValidityMs);
  for (const char* bad : {"", "5", "m", "5 days", "5w", "-1h", "1.5h", "99999999999d"}) {
    auto parsed = ParseDuration(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code(), Errc::kInvalidArgument);
  }
  EXPECT_NE(ParseDuration("5w").error().message().find("e.g. 30m"), std::string::npos);
}

TEST(InstallerParamsTest, ValidityIsTenMinutesToOneYear) {
  InstallerParams params{.kind = "jump-client"};
  EXPECT_EQ(params.valid_for_ms, 24LL * 3'600'000);  // default 1 day
  EXPECT_TRUE(ValidateInstallerParams(params, kMinInstallerValidityMs).has_value());
  params.valid_for_ms = kMinInstallerValidityMs - 1000;
  auto short_one = ValidateInstallerParams(params, kMinInstallerValidityMs);
  ASSERT_FALSE(short_one.has_value());
  EXPECT_NE(short_one.error().message().find("10m to 365d"), std::string::npos);
  params.valid_for_ms = kMaxInstallerValidityMs + 1;
  EXPECT_FALSE(ValidateInstallerParams(params, kMinInstallerValidityMs).has_value());
  params.valid_for_ms = kMinInstallerValidityMs;
  EXPECT_TRUE(ValidateInstallerParams(params, kMinInstallerValidityMs).has_value());
  // The test hook lowers the floor only.
  EXPECT_TRUE(ValidateValidity(1000, 1000).has_value());
  EXPECT_FALSE(ValidateValidity(999, 1000).has_value());
}

TEST(InstallerParamsTest, FieldsAreChecked) {
  auto check = [](InstallerParams params) {
    return ValidateInstallerParams(params, kMinInstallerValidityMs);
  };
  EXPECT_FALSE(check({.kind = "jumpoint"}).has_value());
  EXPECT_FALSE(check({.kind = "jump-client", .mode = "sometimes"}).has_value());
  EXPECT_FALSE(check({.kind = "jump-client", .tag = std::string(200, 'x')}).has_value());
  EXPECT_FALSE(check({.kind = "jump-client", .jump_group = "a\nb"}).has_value());
  EXPECT_FALSE(check({.kind = "jump-client", .overrides = {"kind"}}).has_value());
  EXPECT_FALSE(check({.kind = "jump-client", .site_version = "two"}).has_value());
  InstallerParams params{.kind = "access-console", .overrides = {"tag", "mode", "tag"}};
  ASSERT_TRUE(ValidateInstallerParams(params, kMinInstallerValidityMs).has_value());
  EXPECT_EQ(params.overrides, (std::vector<std::string>{"mode", "tag"}));
}

}  // namespace
}  // namespace sluice::server
