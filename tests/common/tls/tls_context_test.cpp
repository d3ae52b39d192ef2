#include "common/tls/tls_context.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base/file_util.h"
#include "common/tls/certificate.h"

namespace sluice::tls {
namespace {

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-tls-context-test-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = *dir;
    ASSERT_TRUE(GenerateSelfSigned(Path("a.pem"), Path("a.key"), "localhost"));
    ASSERT_TRUE(GenerateSelfSigned(Path("b.pem"), Path("b.key"), "localhost"));
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_F(TlsContextTest, ServerLoadsGeneratedCertificate) {
  auto server = TlsContext::CreateServer({.cert_path = Path("a.pem"), .key_path = Path("a.key")});
  ASSERT_TRUE(server) << server.error().ToString();
  EXPECT_TRUE((*server)->is_server());
  EXPECT_NE((*server)->native(), nullptr);
}

TEST_F(TlsContextTest, ServerLoadErrorsNameTheFile) {
  auto no_cert =
      TlsContext::CreateServer({.cert_path = Path("nope.pem"), .key_path = Path("a.key")});
  ASSERT_FALSE(no_cert);
  EXPECT_EQ(no_cert.error().code(), Errc::kTls);
  EXPECT_NE(no_cert.error().message().find("nope.pem"), std::string::npos);

  auto no_key =
      TlsContext::CreateServer({.cert_path = Path("a.pem"), .key_path = Path("nope.key")});
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message().find("nope.key"), std::string::npos);

  auto mismatched =
      TlsContext::CreateServer({.cert_path = Path("a.pem"), .key_path = Path("b.key")});
  ASSERT_FALSE(mismatched);
  EXPECT_NE(mismatched.error().message().find("b.key"), std::string::npos);
  EXPECT_NE(mismatched.error().message().find("a.pem"), std::string::npos);
}

TEST_F(TlsContextTest, ClientNeedsAWellFormedPinUnlessVerificationIsOff) {
  auto pin = PinOfCertificateFile(Path("a.pem"));
  ASSERT_TRUE(pin);
  auto client = TlsContext::CreateClient({.pin = *pin});
  ASSERT_TRUE(client) << client.error().ToString();
  EXPECT_FALSE((*client)->is_server());
  EXPECT_EQ((*client)->pin(), *pin);

  for (const std::string& bad :
       std::vector<std::string>{"", "sha256/", "md5/abc", pin->substr(0, pin->size() - 1) + "!"}) {
    auto refused = TlsContext::CreateClient({.pin = bad});
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument);
  }
  EXPECT_TRUE(TlsContext::CreateClient({.pin = "", .verify_pin = false}));
}

TEST_F(TlsContextTest, RejectsInvalidAlpnNames) {
  auto server = TlsContext::CreateServer(
      {.cert_path = Path("a.pem"), .key_path = Path("a.key"), .alpn = {"sluice/1", ""}});
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code(), Errc::kInvalidArgument);
  auto client =
      TlsContext::CreateClient({.pin = "", .alpn = {std::string(256, 'x')}, .verify_pin = false});
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::tls
