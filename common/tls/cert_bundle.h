#pragma once
// A site certificate with its chain and private key, moved between a data dir and the files an
// admin exports and imports (PEM or PKCS#12; `sluicectl cert`, docs/admin.md "Certificates").
// Pure functions over OpenSSL; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::tls {

struct CertBundle {
  std::string leaf_pem{};   // the certificate the server presents
  std::string chain_pem{};  // intermediates after it, in order ("" when none)
  std::string key_pem{};    // PKCS#8, unencrypted ("" when not part of the bundle)
};

struct CertDetails {
  std::string subject{};
  std::string issuer{};
  int64_t not_before_s = 0;
  int64_t not_after_s = 0;
  bool self_signed = false;
  std::string pin{};     // "sha256/..." of the public key: what clients check
  int chain_length = 0;  // intermediates after the leaf
};

enum class CertFormat { kPem, kPkcs12 };

// The certificate and chain of a server's cert file (leaf first, as TLS serves it) and, when
// `key_path` is not empty, its key. Errors: kNotFound/kIo naming the file, kInvalidArgument for
// a file without a certificate or key.
[[nodiscard]] Result<CertBundle> ReadCertFiles(const std::string& cert_path,
                                               const std::string& key_path);

[[nodiscard]] Result<CertDetails> DescribeCertificate(const CertBundle& bundle);

// The export file: the leaf, the chain when `chain`, the key when `key` — encrypted with
// `passphrase` (PKCS#8 AES-256-CBC in PEM; AES-256 with PBKDF2 in PKCS#12) unless it is empty.
// Errors: kInvalidArgument (a key requested but not in the bundle), kCrypto.
[[nodiscard]] Result<Bytes> ExportBundle(const CertBundle& bundle, CertFormat format, bool chain,
                                         bool key, std::string_view passphrase);

// Reads an import file, PEM (certificates, then or before a private key, encrypted or not) or
// PKCS#12 (told apart by content). Errors: kAuth for a wrong or missing passphrase,
// kInvalidArgument for a file holding no certificate or no key.
[[nodiscard]] Result<CertBundle> ParseImport(ByteView file, std::string_view passphrase);

// Errors: kInvalidArgument "the private key does not match the certificate".
[[nodiscard]] Status CheckKeyMatches(const CertBundle& bundle);

}  // namespace sluice::tls
