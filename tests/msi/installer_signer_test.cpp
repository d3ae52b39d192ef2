#include "msi/installer_signer.h"

#include <gtest/gtest.h>

#include "msi/installer_builder.h"
#include "tests/msi/msi_test_util.h"

namespace sluice::msi {
namespace {

using testing::ExportProperties;
using testing::ReadFile;
using testing::TempDir;
using testing::Tool;
using testing::WriteFile;

SigningConfig PemConfig(const std::string& cert, const std::string& key) {
  SigningConfig config;
  config.cert_pem = cert;
  config.key_pem = key;
  return config;
}

// A throwaway self-signed code-signing certificate, an installer to sign, and `osslsigncode
// verify` trusting exactly that certificate (the mode that can pass for a self-signed one).
class InstallerSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = Tool({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_,
                      "-out", cert_, "-days", "2", "-subj", "/CN=Sluice Test Signing", "-addext",
                      "extendedKeyUsage=codeSigning", "-addext", "keyUsage=digitalSignature"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    InstallerSpec spec{"jump-client", "24.3.1", {{"KEY_INFO", "signed-key"}}};
    auto built = BuildInstaller(
        testing::BuildTestTemplate(template_dir_, kJumpClientKind, testing::FakeClient()), spec, msi_);
    ASSERT_TRUE(built.has_value()) << built.error().ToString();
  }

  int Verify(const std::string& path) {
    auto result = Tool({"osslsigncode", "verify", "-in", path, "-CAfile", cert_});
    return result.exit_code;
  }

  TempDir template_dir_;
  TempDir dir_;
  std::string key_ = (dir_ / "key.pem");
  std::string cert_ = (dir_ / "cert.pem");
  std::string msi_ = (dir_ / "jump.msi");
};

TEST_F(InstallerSignerTest, SignedInstallerVerifiesAndTamperingIsDetected) {
  ASSERT_NE(Verify(msi_), 0) << "an unsigned file must not verify";
  auto signed_ok = SignInstaller(msi_, PemConfig(cert_, key_));
  ASSERT_TRUE(signed_ok.has_value()) << signed_ok.error().ToString();
  EXPECT_EQ(Verify(msi_), 0);
  // Still a valid MSI with its properties.
  EXPECT_EQ(ExportProperties(msi_)["KEY_INFO"], "signed-key");
  EXPECT_EQ(ReadProperties(msi_)->at("KEY_INFO"), "signed-key");

  // Flip one byte inside the embedded cabinet (the payload).
  std::string bytes = ReadFile(msi_);
  size_t cab = bytes.find("MSCF");
  ASSERT_NE(cab, std::string::npos);
  ASSERT_LT(cab + 60, bytes.size());
  bytes[cab + 60] = static_cast<char>(bytes[cab + 60] ^ 0xFF);
  std::string tampered = (dir_ / "tampered.msi");
  WriteFile(tampered, bytes);
  EXPECT_NE(Verify(tampered), 0);
}

TEST_F(InstallerSignerTest, SignsWithPassphraseProtectedPkcs12) {
  std::string p12 = (dir_ / "signer.p12");
  auto exported = Tool({"openssl", "pkcs12", "-export", "-in", cert_, "-inkey", key_, "-out", p12,
                        "-passout", "pass:s3cret pass"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  SigningConfig config{p12, "", "Sluice Jump Client", "s3cret pass"};
  auto signed_ok = SignInstaller(msi_, config);
  ASSERT_TRUE(signed_ok.has_value()) << signed_ok.error().ToString();
  EXPECT_EQ(Verify(msi_), 0);
}

TEST_F(InstallerSignerTest, KeyThatDoesNotMatchTheCertificateIsACryptoError) {
  std::string other_key = (dir_ / "other.pem");
  auto made = Tool({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", other_key});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string before = ReadFile(msi_);
  auto signed_ok = SignInstaller(msi_, PemConfig(cert_, other_key));
  ASSERT_FALSE(signed_ok.has_value());
  EXPECT_EQ(signed_ok.error().code(), Errc::kCrypto);
  EXPECT_NE(signed_ok.error().message().find("osslsigncode"), std::string::npos);
  EXPECT_EQ(ReadFile(msi_), before) << "a failed signing must leave the installer untouched";
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()),
                          std::filesystem::directory_iterator()),
            4);  // key, cert, msi, other key: no leftover signing file
}

TEST_F(InstallerSignerTest, MissingMaterialIsAnIoError) {
  auto no_cert = SignInstaller(msi_, PemConfig(dir_ / "missing.pem", key_));
  ASSERT_FALSE(no_cert.has_value());
  EXPECT_EQ(no_cert.error().code(), Errc::kIo);
  auto no_msi = SignInstaller(dir_ / "missing.msi", PemConfig(cert_, key_));
  ASSERT_FALSE(no_msi.has_value());
  EXPECT_EQ(no_msi.error().code(), Errc::kIo);
  auto empty = SignInstaller(msi_, SigningConfig{});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::msi
