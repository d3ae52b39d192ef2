// The optional installer fields of `enroll` (docs/protocol.md, "Installer keys").

#include <gtest/gtest.h>

#include "common/proto/messages.h"

namespace sluice::proto {
namespace {

TEST(EnrollInstallerKeyTest, OptionalFieldsRoundTripAndDefaultToEmpty) {
  Enroll with{.enrollment_key = "",
              .client_id = "0f8c2b7e-4d1a-4e8b-9c3d-2a1b0c9d8e7f",
              .kind = ClientKind::kAccessConsole,
              .mode = Mode::kPassive,
              .platform = "linux-x86_64",
              .version = "2.0.0",
              .installer_key = "SLK1.abc.def",
              .jump_group = "Servers",
              .tag = "rack-4"};
  auto decoded = DecodeMessage(EncodeMessage(with));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(std::get<Enroll>(*decoded), with);

  Enroll without = with;
  without.enrollment_key = std::string(64, 'a');
  without.installer_key.clear();
  without.jump_group.clear();
  without.tag.clear();
  Bytes encoded = EncodeMessage(without);
  // Unset optional fields are not sent at all, so older servers see the message they know.
  EXPECT_EQ(std::string(AsChars(encoded)).find("installer_key"), std::string::npos);
  decoded = DecodeMessage(encoded);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(std::get<Enroll>(*decoded), without);
}

TEST(EnrollInstallerKeyTest, InstallerErrorCodesHaveWireNames) {
  EXPECT_EQ(ToString(ErrorCode::kInstallerExpired), "installer_expired");
  EXPECT_EQ(ToString(ErrorCode::kInstallerRevoked), "installer_revoked");
  EXPECT_EQ(ToString(ErrorCode::kInstallerOutdated), "installer_outdated");
  EXPECT_EQ(ToString(ErrorCode::kInstallerOverrideRefused), "installer_override_refused");
  EXPECT_EQ(ParseErrorCode("installer_outdated").value(), ErrorCode::kInstallerOutdated);
}

}  // namespace
}  // namespace sluice::proto
