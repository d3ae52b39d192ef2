#include "msi/product_version.h"

#include <gtest/gtest.h>

namespace sluice::msi {
namespace {

TEST(MsiProductVersionTest, MapsThreeAndFourFieldSiteVersions) {
  EXPECT_EQ(MsiProductVersion("24.3.1").value(), "24.3.1");
  EXPECT_EQ(MsiProductVersion("24.3.1.0").value(), "24.3.1");
  EXPECT_EQ(MsiProductVersion("0.0.0").value(), "0.0.0");
  EXPECT_EQ(MsiProductVersion("255.255.65535").value(), "255.255.65535");
  EXPECT_EQ(MsiProductVersion("01.002.0003").value(), "1.2.3");
}

TEST(MsiProductVersionTest, RefusesWhatWindowsInstallerCannotCompare) {
  for (const char* bad :
       {"256.0.0", "1.256.0", "1.2.65536", "999999.0.0", "1234567.0.0", "24.3.1.5"}) {
    auto result = MsiProductVersion(bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error().code(), Errc::kInvalidArgument) << bad;
    EXPECT_NE(result.error().message().find(bad), std::string::npos) << result.error().message();
  }
  EXPECT_NE(MsiProductVersion("256.0.0").error().message().find("255"), std::string::npos);
  EXPECT_NE(MsiProductVersion("24.3.1.5").error().message().find("fourth"), std::string::npos);
}

TEST(MsiProductVersionTest, RefusesMalformedText) {
  for (const char* bad : {"", "24", "24.3", "1.2.3.4.5", "a.b.c", "1..2", "1.2.", ".1.2",
                          "24.3.1-rc1", "+1.2.3", "-1.2.3", " 1.2.3", "1.2.3 "}) {
    auto result = MsiProductVersion(bad);
    ASSERT_FALSE(result.has_value()) << "'" << bad << "'";
    EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
  }
}

}  // namespace
}  // namespace sluice::msi
