#include "common/tls/certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/base/c_ptr.h"
#include "common/base/file_util.h"

namespace sluice::tls {
namespace {

class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-cert-test-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = *dir;
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  static CPtr<X509, X509_free> LoadCert(const std::string& path) {
    CPtr<BIO, BIO_free> bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) return nullptr;
    return CPtr<X509, X509_free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  }

  std::string dir_;
};

TEST_F(CertificateTest, KeyFileIsPrivateAndCertificateIsUsable) {
  ASSERT_TRUE(GenerateSelfSigned(Path("c.pem"), Path("k.pem"), "sluice.example"));

  struct stat key_stat {};
  ASSERT_EQ(::stat(Path("k.pem").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);

  auto cert = LoadCert(Path("c.pem"));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "sluice.example", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "other.example", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  // 397 days of validity, the most TLS scanners accept.
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())),
            1);
  EXPECT_EQ(days, 397);
  // ECDSA P-256, and the key matches the certificate.
  EXPECT_EQ(EVP_PKEY_get_id(X509_get0_pubkey(cert.get())), EVP_PKEY_EC);
  CPtr<BIO, BIO_free> key_bio(BIO_new_file(Path("k.pem").c_str(), "r"));
  CPtr<EVP_PKEY, EVP_PKEY_free> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST_F(CertificateTest, RenewalKeepsTheKeyAndPinAndIssuesAFreshCertificate) {
  ASSERT_TRUE(GenerateSelfSigned(Path("c.pem"), Path("k.pem"), "sluice-site"));
  const std::string key_before = *ReadFile(Path("k.pem"));
  const std::string cert_before = *ReadFile(Path("c.pem"));
  auto pin_before = PinOfCertificateFile(Path("c.pem"));
  ASSERT_TRUE(pin_before);
  ASSERT_TRUE(RenewSelfSigned(Path("c.pem"), Path("k.pem"), "sluice-site"));
  EXPECT_EQ(*ReadFile(Path("k.pem")), key_before);
  EXPECT_NE(*ReadFile(Path("c.pem")), cert_before);  // a new serial, a new signature
  EXPECT_EQ(*PinOfCertificateFile(Path("c.pem")), *pin_before);

  auto info = ReadCertificateInfo(Path("c.pem"));
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_TRUE(info->self_signed);
  EXPECT_EQ(info->common_name, "sluice-site");
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  EXPECT_NEAR(static_cast<double>(info->not_after_s - now), 397.0 * 86400, 120);

  auto missing = RenewSelfSigned(Path("c.pem"), Path("no-key.pem"), "sluice-site");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("no-key.pem"), std::string::npos);
}

TEST_F(CertificateTest, PinIsStablePerCertificateAndDistinctAcrossCertificates) {
  ASSERT_TRUE(GenerateSelfSigned(Path("a.pem"), Path("a.key"), "localhost"));
  ASSERT_TRUE(GenerateSelfSigned(Path("b.pem"), Path("b.key"), "localhost"));

  auto first = PinOfCertificateFile(Path("a.pem"));
  auto again = PinOfCertificateFile(Path("a.pem"));
  auto other = PinOfCertificateFile(Path("b.pem"));
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_TRUE(again);
  ASSERT_TRUE(other);
  EXPECT_EQ(*first, *again);
  EXPECT_NE(*first, *other);
  EXPECT_TRUE(first->starts_with("sha256/"));
  EXPECT_EQ(first->size(), 7u + 44u);

  auto cert = LoadCert(Path("a.pem"));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(PinOfCertificate(cert.get()), *first);
  EXPECT_EQ(PinOfCertificate(nullptr), "");
}

TEST_F(CertificateTest, RegeneratingReplacesBothFilesAndLeavesNoTempFiles) {
  ASSERT_TRUE(GenerateSelfSigned(Path("c.pem"), Path("k.pem"), "localhost"));
  auto before = PinOfCertificateFile(Path("c.pem"));
  ASSERT_TRUE(GenerateSelfSigned(Path("c.pem"), Path("k.pem"), "localhost"));
  auto after = PinOfCertificateFile(Path("c.pem"));
  ASSERT_TRUE(before);
  ASSERT_TRUE(after);
  EXPECT_NE(*before, *after);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 2);
}

TEST_F(CertificateTest, ErrorsNameTheFile) {
  auto missing = PinOfCertificateFile(Path("missing.pem"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("missing.pem"), std::string::npos);

  ASSERT_TRUE(WriteFileAtomic(Path("junk.pem"), "not a certificate\n"));
  auto junk = PinOfCertificateFile(Path("junk.pem"));
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(junk.error().message().find("junk.pem"), std::string::npos);

  auto unwritable = GenerateSelfSigned(Path("no/dir/c.pem"), Path("no/dir/k.pem"), "localhost");
  ASSERT_FALSE(unwritable);
  EXPECT_EQ(unwritable.error().code(), Errc::kIo);
}

TEST_F(CertificateTest, RejectsUnusableCommonNames) {
  for (const std::string& name :
       std::vector<std::string>{"", "has space", std::string(65, 'a'), "tab\there"}) {
    auto result = GenerateSelfSigned(Path("c.pem"), Path("k.pem"), name);
    ASSERT_FALSE(result) << name;
    EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
  }
  EXPECT_FALSE(std::filesystem::exists(Path("k.pem")));
}

}  // namespace
}  // namespace sluice::tls
