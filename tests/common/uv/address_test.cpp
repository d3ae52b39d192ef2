#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "common/uv/stream.h"

namespace sluice::uv {
namespace {

TEST(AddressTest, ParsesIpv4AndLocalhost) {
  auto v4 = ParseAddress("127.0.0.1", 4433);
  ASSERT_TRUE(v4.has_value()) << v4.error().message();
  EXPECT_EQ(v4->ss_family, AF_INET);
  EXPECT_EQ(FormatAddress(*v4), "127.0.0.1:4433");
  auto local = ParseAddress("localhost", 80);
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(FormatAddress(*local), "127.0.0.1:80");
}

TEST(AddressTest, ParsesIpv6) {
  auto v6 = ParseAddress("::1", 443);
  ASSERT_TRUE(v6.has_value()) << v6.error().message();
  EXPECT_EQ(v6->ss_family, AF_INET6);
  EXPECT_EQ(FormatAddress(*v6), "[::1]:443");
}

TEST(AddressTest, RejectsBadHostsAndPorts) {
  EXPECT_FALSE(ParseAddress("not-an-ip", 80).has_value());
  EXPECT_FALSE(ParseAddress("256.1.1.1", 80).has_value());
  EXPECT_FALSE(ParseAddress("", 80).has_value());
  EXPECT_FALSE(ParseAddress("127.0.0.1", -1).has_value());
  EXPECT_FALSE(ParseAddress("127.0.0.1", 65536).has_value());
}

TEST(AddressTest, SplitsHostAndPort) {
  auto v4 = SplitHostPort("10.0.0.1:4433");
  ASSERT_TRUE(v4.has_value()) << v4.error().message();
  EXPECT_EQ(v4->first, "10.0.0.1");
  EXPECT_EQ(v4->second, 4433);
  auto v6 = SplitHostPort("[::1]:8443");
  ASSERT_TRUE(v6.has_value()) << v6.error().message();
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 8443);
  auto name = SplitHostPort("localhost:1");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->first, "localhost");
}

TEST(AddressTest, SplitRejectsMalformedText) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "host:abc", "host:80x",
                          "host:-1", "host:65536", "host:99999999999", "[::1:80", "::1:80"}) {
    EXPECT_FALSE(SplitHostPort(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sluice::uv
