#pragma once
// Self-signed certificates and public-key pins for Sluice's TLS layer.
// A pin identifies a server by its key, not by a CA: "sha256/" + standard base64 of the SHA-256
// of the certificate's DER SubjectPublicKeyInfo (the same value curl's --pinnedpubkey takes).

#include <openssl/x509.h>

#include <string>

#include "common/base/error.h"

namespace sluice::tls {

// Self-signed certificates are valid this long (the CA/Browser Forum's 397-day cap, which TLS
// scanners hold every certificate to). Clients pin the key, so renewing with the same key
// (RenewSelfSigned) changes nothing for them.
inline constexpr int kSelfSignedValidityDays = 397;

// Creates a self-signed ECDSA P-256 certificate for `common_name` (CN=common_name; SAN
// DNS:localhost, DNS:<common_name>, IP:127.0.0.1, IP:::1; valid kSelfSignedValidityDays from
// now; random 159-bit serial) and writes the PEM certificate to `cert_path` (mode 0644) and the PEM PKCS#8
// private key to `key_path` (mode 0600). Each file is replaced atomically (temp file + rename);
// the key is written first. Thread-safe.
// Errors: kInvalidArgument if `common_name` is empty, longer than 64 characters or not printable
// ASCII; kCrypto if OpenSSL fails; kIo (naming the path) if a file cannot be written.
[[nodiscard]] Status GenerateSelfSigned(const std::string& cert_path, const std::string& key_path,
                                        const std::string& common_name);

// A new self-signed certificate (as GenerateSelfSigned makes) for the existing private key in
// `key_path`, replacing `cert_path` atomically: the pin stays the same. Thread-safe.
// Errors: as GenerateSelfSigned; kNotFound / kIo / kInvalidArgument for an unreadable key.
[[nodiscard]] Status RenewSelfSigned(const std::string& cert_path, const std::string& key_path,
                                     const std::string& common_name);

struct CertificateInfo {
  int64_t not_after_s = 0;  // Unix seconds
  bool self_signed = false;  // issuer == subject
  std::string common_name;
};
// What the first PEM certificate in `cert_pem_path` says about itself. Thread-safe.
// Errors: as PinOfCertificateFile.
[[nodiscard]] Result<CertificateInfo> ReadCertificateInfo(const std::string& cert_pem_path);

// Returns the pin of the first PEM certificate in `cert_pem_path`. Thread-safe.
// Errors: kNotFound / kIo if the file cannot be read, kInvalidArgument if it holds no PEM
// certificate; the message names the file.
[[nodiscard]] Result<std::string> PinOfCertificateFile(const std::string& cert_pem_path);

// Returns the pin of `cert` (borrowed, not modified), or "" if `cert` is null or its public key
// cannot be encoded. Thread-safe; no heap allocation beyond the returned string.
std::string PinOfCertificate(X509* cert);

}  // namespace sluice::tls
