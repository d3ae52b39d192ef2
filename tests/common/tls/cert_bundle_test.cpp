// Certificate export and import files, PEM and PKCS#12, made and read back with real OpenSSL.

#include "common/tls/cert_bundle.h"

#include <gtest/gtest.h>

#include "common/base/file_util.h"
#include "common/tls/certificate.h"
#include "tests/support/temp_dir.h"

namespace sluice::tls {
namespace {

class CertBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GenerateSelfSigned(dir_ / "cert.pem", dir_ / "key.pem", "sluice-site"));
    ASSERT_TRUE(GenerateSelfSigned(dir_ / "ca.pem", dir_ / "ca-key.pem", "intermediate"));
    auto bundle = ReadCertFiles(dir_ / "cert.pem", dir_ / "key.pem");
    ASSERT_TRUE(bundle) << bundle.error().ToString();
    bundle_ = *bundle;
    bundle_.chain_pem = *ReadFile(dir_ / "ca.pem");
  }
  static Result<CertBundle> Parse(const Bytes& file, std::string_view passphrase) {
    return ParseImport(ByteView(file.data(), file.size()), passphrase);
  }

  testing::TempDir dir_;
  CertBundle bundle_;
};

TEST_F(CertBundleTest, PemAndPkcs12RoundTripWithTheirPassphrase) {
  for (CertFormat format : {CertFormat::kPem, CertFormat::kPkcs12}) {
    SCOPED_TRACE(format == CertFormat::kPem ? "pem" : "pkcs12");
    auto file = ExportBundle(bundle_, format, /*chain=*/true, /*key=*/true, "s3cret");
    ASSERT_TRUE(file) << file.error().ToString();
    const std::string text(file->begin(), file->end());
    EXPECT_EQ(text.find("BEGIN PRIVATE KEY"), std::string::npos);  // never in clear
    auto read = Parse(*file, "s3cret");
    ASSERT_TRUE(read) << read.error().ToString();
    EXPECT_EQ(read->leaf_pem, bundle_.leaf_pem);
    EXPECT_EQ(read->chain_pem, bundle_.chain_pem);
    EXPECT_EQ(read->key_pem, bundle_.key_pem);
    EXPECT_TRUE(CheckKeyMatches(*read));
    auto wrong = Parse(*file, "guess");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), Errc::kAuth);
  }
}

TEST_F(CertBundleTest, ExportsOnlyWhatIsAskedFor) {
  auto leaf_only = ExportBundle(bundle_, CertFormat::kPem, false, false, "");
  ASSERT_TRUE(leaf_only);
  EXPECT_EQ(std::string(leaf_only->begin(), leaf_only->end()), bundle_.leaf_pem);
  auto no_key = Parse(*leaf_only, "");
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message().find("no private key"), std::string::npos);
  // An explicit unencrypted key.
  auto clear = ExportBundle(bundle_, CertFormat::kPem, false, true, "");
  ASSERT_TRUE(clear);
  EXPECT_NE(std::string(clear->begin(), clear->end()).find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(Parse(*clear, ""));
  // A key that is not in the bundle cannot be exported.
  CertBundle without_key = bundle_;
  without_key.key_pem.clear();
  EXPECT_FALSE(ExportBundle(without_key, CertFormat::kPkcs12, false, true, "x"));
}

TEST_F(CertBundleTest, DescribesTheLeafAndRefusesAForeignKey) {
  auto details = DescribeCertificate(bundle_);
  ASSERT_TRUE(details);
  EXPECT_EQ(details->subject, "CN=sluice-site");
  EXPECT_TRUE(details->self_signed);
  EXPECT_EQ(details->pin, *PinOfCertificateFile(dir_ / "cert.pem"));
  EXPECT_EQ(details->chain_length, 1);
  EXPECT_GT(details->not_after_s, details->not_before_s);
  CertBundle foreign = bundle_;
  foreign.key_pem = *ReadFile(dir_ / "ca-key.pem");
  auto matches = CheckKeyMatches(foreign);
  ASSERT_FALSE(matches);
  EXPECT_NE(matches.error().message().find("does not match"), std::string::npos);
  const std::string garbage = "not a certificate at all";
  auto parsed = ParseImport(AsBytes(garbage), "");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("neither PEM nor PKCS#12"), std::string::npos);
}

}  // namespace
}  // namespace sluice::tls
