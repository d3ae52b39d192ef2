#include "server/site/site_certificate.h"

#include "common/base/log.h"
#include "common/base/time_format.h"
#include "common/tls/certificate.h"

namespace sluice::server {

SiteCertificate::SiteCertificate(DataDir& dir,
                                 std::function<void(const std::string& pin)> on_pin_changed)
    : dir_(dir), on_pin_changed_(std::move(on_pin_changed)) {}

Status SiteCertificate::Load() { return Reload(); }

Status SiteCertificate::Reload() {
  auto context =
      tls::TlsContext::CreateServer({.cert_path = dir_.cert_path, .key_path = dir_.key_path});
  if (!context) return Fail(context.error());
  context_ = std::move(*context);  // sessions keep the context they started with
  return {};
}

void SiteCertificate::RenewIfDue(int64_t now_s) {
  auto renewed = RenewCertificateIfDue(dir_, now_s);
  if (!renewed) {
    Log("server")->error("TLS certificate renewal failed: {}", renewed.error().ToString());
    return;
  }
  if (!*renewed) return;
  if (auto loaded = Reload(); !loaded) {
    Log("server")->error("cannot load the renewed TLS certificate: {}", loaded.error().ToString());
  }
}

Result<tls::CertDetails> SiteCertificate::Describe() const {
  auto bundle = tls::ReadCertFiles(dir_.cert_path, "");
  if (!bundle) return Fail(bundle.error());
  return tls::DescribeCertificate(*bundle);
}

Result<SiteCertificate::Imported> SiteCertificate::Import(const tls::CertBundle& bundle,
                                                          bool new_key, int64_t clients,
                                                          int64_t now_s) {
  if (auto matches = tls::CheckKeyMatches(bundle); !matches) return Fail(matches.error());
  auto details = tls::DescribeCertificate(bundle);
  if (!details) return Fail(details.error());
  if (details->not_after_s <= now_s) {
    return Fail(Errc::kInvalidArgument,
                "the certificate expired at " + FormatIsoUtc(details->not_after_s * 1000));
  }
  if (details->not_before_s > now_s) {
    return Fail(Errc::kInvalidArgument, "the certificate is not valid before " +
                                            FormatIsoUtc(details->not_before_s * 1000));
  }
  Imported imported{.details = *details,
                    .previous_pin = dir_.certificate_pin,
                    .key_changed = details->pin != dir_.certificate_pin};
  if (imported.key_changed && clients > 0 && !new_key) {
    return Fail(Errc::kInvalidArgument,
                "the certificate's key (" + details->pin + ") is not the one the site's " +
                    std::to_string(clients) + " clients pin (" + dir_.certificate_pin +
                    "): they could no longer connect. Import a certificate for the current key, "
                    "or pass --new-key and give every client a new installer");
  }
  if (auto installed = InstallCertificateFiles(dir_, bundle); !installed) {
    return Fail(installed.error());
  }
  if (auto loaded = Reload(); !loaded) return Fail(loaded.error());
  dir_.certificate_pin = details->pin;
  if (imported.key_changed && on_pin_changed_) on_pin_changed_(details->pin);
  Log("server")->warn(
      "imported a TLS certificate subject=\"{}\" pin={} previous_pin={} "
      "not_after={}",
      details->subject, details->pin, imported.previous_pin,
      FormatIsoUtc(details->not_after_s * 1000));
  return imported;
}

}  // namespace sluice::server
