#pragma once
// The certificate the site serves on its client port: loaded at start, renewed in place when
// self-signed (RenewCertificateIfDue), replaced by an admin's import — each time new
// connections get the new TLS context while open sessions keep theirs (docs/admin.md,
// "Certificates"). Loop thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/base/error.h"
#include "common/tls/cert_bundle.h"
#include "common/tls/tls_context.h"
#include "server/site/data_dir.h"

namespace sluice::server {

class SiteCertificate {
 public:
  // `dir` must outlive this; its certificate_pin follows imports. `on_pin_changed` (may be
  // empty) hears of a new key, so that what hands out the pin (installers) follows.
  SiteCertificate(DataDir& dir, std::function<void(const std::string& pin)> on_pin_changed);

  // Loads DIR/tls/cert.pem and key.pem. Errors: those of TlsContext::CreateServer.
  [[nodiscard]] Status Load();
  const std::shared_ptr<tls::TlsContext>& context() const { return context_; }

  // Renews a self-signed certificate that is due (RenewCertificateIfDue) and reloads it.
  void RenewIfDue(int64_t now_s);

  // What the served certificate says about itself.
  [[nodiscard]] Result<tls::CertDetails> Describe() const;

  struct Imported {
    tls::CertDetails details{};
    std::string previous_pin{};
    bool key_changed = false;
  };
  // Installs `bundle` (certificate, chain and key) and serves it to new connections. Refuses,
  // changing nothing: a key that does not match the certificate, a certificate not valid at
  // `now_s` (expired or not yet valid), and — unless `new_key` — a key other than the one the
  // site's `clients` enrolled clients pin (kInvalidArgument, each message saying what to do).
  [[nodiscard]] Result<Imported> Import(const tls::CertBundle& bundle, bool new_key,
                                        int64_t clients, int64_t now_s);

 private:
  [[nodiscard]] Status Reload();

  DataDir& dir_;
  std::function<void(const std::string&)> on_pin_changed_;
  std::shared_ptr<tls::TlsContext> context_;
};

}  // namespace sluice::server
