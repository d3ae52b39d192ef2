#pragma once
// Authenticode signing of generated installers with osslsigncode.

#include <string>

#include "common/base/error.h"

namespace sluice::msi {

struct SigningConfig {
  // Path of the signing certificate (PEM, may hold the chain). When key_pem is empty, this is
  // instead a PKCS#12 file holding both certificate and key.
  std::string cert_pem;
  // Path of the PEM private key; empty when cert_pem is PKCS#12.
  std::string key_pem;
  // Shown by Windows as the signed content's description.
  std::string description = "Sluice client";
  // Passphrase of an encrypted key or PKCS#12 file; empty when unencrypted. Handed to
  // osslsigncode through a 0600 temporary file, never on its command line.
  std::string password;
};

// Signs `msi_path` in place (SHA-256 Authenticode, no timestamp: the appliance may have no
// network). The signed file replaces the original atomically; on failure the original is
// untouched. Errors: kInvalidArgument for an empty cert path, kIo when the MSI or key material
// is missing or osslsigncode cannot run, kCrypto with osslsigncode's stderr when signing
// fails, kTimeout if osslsigncode hangs. Blocking; thread-safe for distinct files.
[[nodiscard]] Status SignInstaller(const std::string& msi_path, const SigningConfig& config);

}  // namespace sluice::msi
