#pragma once
// Certificate admin commands (docs/admin.md, "Certificates"):
//   cert-show    {}  -> CERT + {"served_at": {"listen", "advertised"}, "days_left"}
//   cert-import  {"cert_pem", "chain_pem"?, "key_pem", "new_key"?}
//                    -> CERT + {"previous_pin", "key_changed", "clients"}
// CERT is {"subject", "issuer", "not_before", "not_after", "self_signed", "pin",
// "chain_length"}. sluicectl reads export and import files itself (PEM or PKCS#12, with their
// passphrases); only unencrypted PEM crosses the owner-only admin socket.

#include <string>

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/site/site_certificate.h"
#include "server/store/store.h"

namespace sluice::server {

struct ServedAt {
  std::string listen{};
  std::string advertised{};
};

// Registers the commands above. Everything passed must outlive `admin`. Loop thread.
void RegisterCertCommands(admin::AdminServer& admin, SiteCertificate& certificate,
                          store::Store& store, Clock& clock, ServedAt served_at);

}  // namespace sluice::server
