#include <gtest/gtest.h>

#include <ctime>

#include "common/base/file_util.h"
#include "common/tls/certificate.h"
#include "server/site/data_dir.h"

namespace sluice::server {
namespace {

constexpr int64_t kDay = 24 * 3600;

class CertificateRenewalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-renewal-test-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    root_ = *dir;
    dir_ = DataDir::Layout(root_);
    ASSERT_TRUE(EnsureDir(root_ + "/tls", 0700));
  }
  void TearDown() override { (void)RemoveAll(root_); }

  int64_t NotAfter() { return tls::ReadCertificateInfo(dir_.cert_path)->not_after_s; }

  std::string root_;
  DataDir dir_;
  const int64_t now_ = static_cast<int64_t>(::time(nullptr));
};

TEST_F(CertificateRenewalTest, TheSiteCertificateIsRenewedWithTheSameKeyOnlyWhenDue) {
  ASSERT_TRUE(tls::GenerateSelfSigned(dir_.cert_path, dir_.key_path, "sluice-site"));
  const std::string pin = *tls::PinOfCertificateFile(dir_.cert_path);
  const int64_t first_end = NotAfter();
  EXPECT_FALSE(*RenewCertificateIfDue(dir_, now_));  // 397 days left
  EXPECT_FALSE(*RenewCertificateIfDue(dir_, first_end - (kRenewCertificateDays + 1) * kDay));

  // 30 days before the end (the clock is moved, not the certificate): renewed from today.
  auto renewed = RenewCertificateIfDue(dir_, first_end - kRenewCertificateDays * kDay);
  ASSERT_TRUE(renewed) << renewed.error().ToString();
  EXPECT_TRUE(*renewed);
  EXPECT_EQ(*tls::PinOfCertificateFile(dir_.cert_path), pin);
  EXPECT_NEAR(static_cast<double>(NotAfter() - now_), 397.0 * kDay, 120);
}

TEST_F(CertificateRenewalTest, ACertificateLongerThanTheCapIsReissued) {
  ASSERT_TRUE(tls::GenerateSelfSigned(dir_.cert_path, dir_.key_path, "sluice-site"));
  const std::string pin = *tls::PinOfCertificateFile(dir_.cert_path);
  // Seen from a year before it was made, the certificate runs 762 days: over the cap.
  EXPECT_TRUE(*RenewCertificateIfDue(dir_, now_ - 365 * kDay));
  EXPECT_EQ(*tls::PinOfCertificateFile(dir_.cert_path), pin);
}

TEST_F(CertificateRenewalTest, AnImportedCertificateIsNeverTouched) {
  ASSERT_TRUE(tls::GenerateSelfSigned(dir_.cert_path, dir_.key_path, "vpn.example.org"));
  const std::string before = *ReadFile(dir_.cert_path);
  EXPECT_FALSE(*RenewCertificateIfDue(dir_, now_ + 396 * kDay));  // warned about
  EXPECT_FALSE(*RenewCertificateIfDue(dir_, now_ + 500 * kDay));  // expired: an error line
  EXPECT_EQ(*ReadFile(dir_.cert_path), before);
}

TEST_F(CertificateRenewalTest, AnUnreadableCertificateIsAnErrorNamingIt) {
  ASSERT_TRUE(WriteFileAtomic(dir_.cert_path, "not a certificate", 0644));
  auto renewed = RenewCertificateIfDue(dir_, now_);
  ASSERT_FALSE(renewed);
  EXPECT_NE(renewed.error().message().find(dir_.cert_path), std::string::npos);
}

}  // namespace
}  // namespace sluice::server
