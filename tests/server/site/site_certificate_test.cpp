// Importing a certificate into a real data dir: each refusal leaves the served certificate as
// it was; an accepted one is served to new connections and survives a crash mid-switch.

#include "server/site/site_certificate.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/base/file_util.h"
#include "common/tls/certificate.h"
#include "tests/support/temp_dir.h"

namespace sluice::server {
namespace {

class SiteCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = DataDir::Prepare(dir_ / "data");
    ASSERT_TRUE(dir) << dir.error().ToString();
    data_ = std::move(*dir);
    data_.lock_fd.reset();
    certificate_ = std::make_unique<SiteCertificate>(
        data_, [this](const std::string& pin) { announced_ = pin; });
    ASSERT_TRUE(certificate_->Load());
    ASSERT_TRUE(tls::GenerateSelfSigned(dir_ / "other.pem", dir_ / "other-key.pem", "other"));
    other_ = *tls::ReadCertFiles(dir_ / "other.pem", dir_ / "other-key.pem");
    now_ = tls::DescribeCertificate(other_)->not_before_s + 60;
  }
  std::string Files() { return *ReadFile(data_.cert_path) + *ReadFile(data_.key_path); }

  testing::TempDir dir_;
  DataDir data_;
  std::unique_ptr<SiteCertificate> certificate_;
  tls::CertBundle other_;
  int64_t now_ = 0;
  std::string announced_;
};

TEST_F(SiteCertificateTest, RefusalsChangeNothing) {
  const std::string before = Files();
  const std::string pin = data_.certificate_pin;
  const auto context = certificate_->context();
  tls::CertBundle mismatched = other_;
  mismatched.key_pem = *ReadFile(data_.key_path);
  const tls::CertDetails details = *tls::DescribeCertificate(other_);
  struct Case {
    const char* name;
    tls::CertBundle bundle;
    int64_t clients, now;
    const char* says;
  };
  for (const Case& c :
       {Case{"mismatched key", mismatched, 0, now_, "does not match"},
        Case{"expired", other_, 0, details.not_after_s + 1, "expired at"},
        Case{"not yet valid", other_, 0, details.not_before_s - 3600, "not valid before"},
        Case{"clients pin the old key", other_, 3, now_, "not the one the site's 3 clients pin"}}) {
    SCOPED_TRACE(c.name);
    auto imported = certificate_->Import(c.bundle, /*new_key=*/false, c.clients, c.now);
    ASSERT_FALSE(imported);
    EXPECT_EQ(imported.error().code(), Errc::kInvalidArgument);
    EXPECT_NE(imported.error().message().find(c.says), std::string::npos)
        << imported.error().ToString();
    EXPECT_EQ(Files(), before);
    EXPECT_EQ(data_.certificate_pin, pin);
    EXPECT_EQ(certificate_->context(), context);
  }
  EXPECT_TRUE(announced_.empty());
}

TEST_F(SiteCertificateTest, ANewKeyIsServedAtOnceWhenExplicit) {
  const auto context = certificate_->context();
  auto imported = certificate_->Import(other_, /*new_key=*/true, 3, now_);
  ASSERT_TRUE(imported) << imported.error().ToString();
  EXPECT_TRUE(imported->key_changed);
  EXPECT_EQ(data_.certificate_pin, imported->details.pin);
  EXPECT_EQ(announced_, imported->details.pin);
  EXPECT_NE(certificate_->context(), context);  // new connections get the new certificate
  EXPECT_EQ(*tls::PinOfCertificateFile(data_.cert_path), imported->details.pin);
  EXPECT_EQ(certificate_->Describe()->subject, "CN=other");
}

TEST_F(SiteCertificateTest, TheSameKeyNeedsNoFlagEvenWithClients) {
  ASSERT_TRUE(tls::RenewSelfSigned(dir_ / "renewed.pem", data_.key_path, "site.example.org"));
  auto bundle = tls::ReadCertFiles(dir_ / "renewed.pem", data_.key_path);
  ASSERT_TRUE(bundle);
  auto imported = certificate_->Import(*bundle, false, 1000, now_);
  ASSERT_TRUE(imported) << imported.error().ToString();
  EXPECT_FALSE(imported->key_changed);
  EXPECT_TRUE(announced_.empty());
}

TEST_F(SiteCertificateTest, AnInterruptedSwitchIsFinishedOrDroppedAtTheNextStart) {
  // Crashed after the key moved, before the certificate did: finished.
  ASSERT_TRUE(WriteFileAtomic(data_.key_path, other_.key_pem, 0600));
  ASSERT_TRUE(WriteFileAtomic(data_.root + "/tls/import-cert.pem", other_.leaf_pem, 0644));
  auto started = DataDir::Prepare(data_.root);
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_EQ(started->certificate_pin, tls::DescribeCertificate(other_)->pin);
  EXPECT_FALSE(std::filesystem::exists(data_.root + "/tls/import-cert.pem"));
  started->lock_fd.reset();
  // Crashed before anything moved: dropped, the old pair stays.
  const std::string before = Files();
  ASSERT_TRUE(WriteFileAtomic(data_.root + "/tls/import-key.pem", "new key", 0600));
  ASSERT_TRUE(WriteFileAtomic(data_.root + "/tls/import-cert.pem", "new cert", 0644));
  ASSERT_TRUE(DataDir::Prepare(data_.root));
  EXPECT_EQ(Files(), before);
  EXPECT_FALSE(std::filesystem::exists(data_.root + "/tls/import-key.pem"));
}

}  // namespace
}  // namespace sluice::server
