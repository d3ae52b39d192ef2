#include "common/tls/certificate.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/base/file_util.h"
#include "common/crypto/openssl_util.h"

namespace sluice::tls {
namespace {

using crypto::Asn1StringPtr;
using crypto::BignumPtr;
using crypto::BioPtr;
using crypto::DrainOpensslErrors;
using crypto::EvpPkeyPtr;
using crypto::GeneralNamePtr;
using crypto::GeneralNamesPtr;
using crypto::X509ExtensionPtr;
using crypto::X509Ptr;

constexpr long kValidityDays = kSelfSignedValidityDays;
constexpr int kSerialBits = 159;       // positive and within RFC 5280's 20-octet limit
constexpr size_t kMaxCommonName = 64;  // ub-common-name

std::unexpected<Error> CryptoFailure(std::string_view what) {
  std::string message = "generating certificate: " + std::string(what);
  if (std::string reasons = DrainOpensslErrors(); !reasons.empty()) message += ": " + reasons;
  return Fail(Errc::kCrypto, std::move(message));
}

Status ValidateCommonName(const std::string& name) {
  if (name.empty() || name.size() > kMaxCommonName) {
    return Fail(Errc::kInvalidArgument, "certificate common name must be 1 to 64 characters");
  }
  for (char c : name) {
    if (c <= ' ' || c > '~') {
      return Fail(Errc::kInvalidArgument,
                  "certificate common name must be printable ASCII without spaces: '" + name + "'");
    }
  }
  return {};
}

// Appends one name (GEN_DNS from an ASCII string, or GEN_IPADD from a textual address).
bool AddGeneralName(GENERAL_NAMES* names, int type, const std::string& value) {
  Asn1StringPtr data;
  if (type == GEN_IPADD) {
    data.reset(a2i_IPADDRESS(value.c_str()));
  } else {
    data.reset(ASN1_IA5STRING_new());
    if (data && ASN1_STRING_set(data.get(), value.data(), static_cast<int>(value.size())) != 1) {
      return false;
    }
  }
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!data || !name) return false;
  GENERAL_NAME_set0_value(name.get(), type, data.release());
  if (sk_GENERAL_NAME_push(names, name.get()) <= 0) return false;
  name.release();  // now owned by `names`
  return true;
}

Status AddSubjectAltNames(X509* cert, const std::string& common_name) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return CryptoFailure("allocating subjectAltName");
  bool ok = AddGeneralName(names.get(), GEN_DNS, "localhost");
  if (ok && common_name != "localhost") ok = AddGeneralName(names.get(), GEN_DNS, common_name);
  ok = ok && AddGeneralName(names.get(), GEN_IPADD, "127.0.0.1");
  ok = ok && AddGeneralName(names.get(), GEN_IPADD, "::1");
  if (!ok ||
      X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return CryptoFailure("adding subjectAltName");
  }
  return {};
}

Status AddExtension(X509* cert, X509V3_CTX* v3, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, v3, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return CryptoFailure(OBJ_nid2sn(nid));
  return {};
}

Status SetSerialAndValidity(X509* cert) {
  BignumPtr serial(BN_new());
  if (!serial) return CryptoFailure("allocating serial");
  do {
    if (BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
      return CryptoFailure("drawing serial");
    }
  } while (BN_is_zero(serial.get()));
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert), 0) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), kValidityDays, 0, nullptr) == nullptr) {
    return CryptoFailure("setting serial and validity");
  }
  return {};
}

Result<X509Ptr> BuildCertificate(EVP_PKEY* key, const std::string& common_name) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return CryptoFailure("allocating certificate");
  }
  if (auto s = SetSerialAndValidity(cert.get()); !s) return std::unexpected(s.error());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return CryptoFailure("setting names and key");
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature"},
                            std::pair{NID_ext_key_usage, "serverAuth"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto s = AddExtension(cert.get(), &v3, nid, value); !s) return std::unexpected(s.error());
  }
  if (auto s = AddSubjectAltNames(cert.get(), common_name); !s) return std::unexpected(s.error());
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return CryptoFailure("signing");
  return cert;
}

// Runs `write` against a memory BIO and returns what it wrote.
template <typename WriteFn>
Result<std::string> ToPem(WriteFn write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return CryptoFailure("encoding PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Status WriteCertificate(const std::string& cert_path, X509* cert) {
  auto cert_pem = ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
  if (!cert_pem) return std::unexpected(cert_pem.error());
  if (auto s = WriteFileAtomic(cert_path, *cert_pem, 0644); !s) {
    return Context(s.error(), "writing certificate");
  }
  return {};
}

// The first PEM certificate in the file. Errors name the file.
Result<X509Ptr> ReadCertificate(const std::string& cert_pem_path) {
  auto pem = ReadFile(cert_pem_path);
  if (!pem) return Context(pem.error(), "reading certificate");
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return Fail(Errc::kCrypto, "allocating BIO: " + DrainOpensslErrors());
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    std::string reasons = DrainOpensslErrors();
    return Fail(Errc::kInvalidArgument,
                "'" + cert_pem_path + "' does not hold a PEM certificate: " + reasons);
  }
  return cert;
}

}  // namespace

Status GenerateSelfSigned(const std::string& cert_path, const std::string& key_path,
                          const std::string& common_name) {
  if (auto valid = ValidateCommonName(common_name); !valid) return valid;
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return CryptoFailure("generating P-256 key");
  auto cert = BuildCertificate(key.get(), common_name);
  if (!cert) return std::unexpected(cert.error());

  auto key_pem = ToPem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (!key_pem) return std::unexpected(key_pem.error());
  if (auto s = WriteFileAtomic(key_path, *key_pem, 0600); !s) {
    return Context(s.error(), "writing private key");
  }
  return WriteCertificate(cert_path, cert->get());
}

Status RenewSelfSigned(const std::string& cert_path, const std::string& key_path,
                       const std::string& common_name) {
  if (auto valid = ValidateCommonName(common_name); !valid) return valid;
  auto pem = ReadFile(key_path);
  if (!pem) return Context(pem.error(), "reading private key");
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return CryptoFailure("allocating BIO");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return Fail(Errc::kInvalidArgument, "'" + key_path + "' does not hold a PEM private key: " +
                                            DrainOpensslErrors());
  }
  auto cert = BuildCertificate(key.get(), common_name);
  if (!cert) return std::unexpected(cert.error());
  return WriteCertificate(cert_path, cert->get());
}

Result<CertificateInfo> ReadCertificateInfo(const std::string& cert_pem_path) {
  auto cert = ReadCertificate(cert_pem_path);
  if (!cert) return std::unexpected(cert.error());
  CertificateInfo info;
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert->get()), &tm) != 1) {
    return Fail(Errc::kCrypto, "'" + cert_pem_path + "': unreadable notAfter");
  }
  info.not_after_s = static_cast<int64_t>(::timegm(&tm));
  info.self_signed =
      X509_NAME_cmp(X509_get_subject_name(cert->get()), X509_get_issuer_name(cert->get())) == 0;
  char name[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert->get()), NID_commonName, name,
                                sizeof(name)) > 0) {
    info.common_name = name;
  }
  return info;
}

Result<std::string> PinOfCertificateFile(const std::string& cert_pem_path) {
  auto cert = ReadCertificate(cert_pem_path);
  if (!cert) return std::unexpected(cert.error());
  std::string pin = PinOfCertificate(cert->get());
  if (pin.empty()) {
    return Fail(Errc::kCrypto,
                "cannot encode the public key of '" + cert_pem_path + "': " + DrainOpensslErrors());
  }
  return pin;
}

std::string PinOfCertificate(X509* cert) {
  if (cert == nullptr) return {};
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  const int der_size = i2d_X509_PUBKEY(spki, nullptr);
  if (der_size <= 0) return {};
  // P-256 keys encode in 91 bytes; only unusually large (e.g. RSA 8192) keys need the heap.
  std::array<unsigned char, 1024> stack_der;
  std::vector<unsigned char> heap_der;
  unsigned char* der = stack_der.data();
  if (static_cast<size_t>(der_size) > stack_der.size()) {
    heap_der.resize(static_cast<size_t>(der_size));
    der = heap_der.data();
  }
  unsigned char* cursor = der;  // i2d advances its output pointer
  if (i2d_X509_PUBKEY(spki, &cursor) != der_size) return {};

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
  unsigned int digest_size = 0;
  if (EVP_Digest(der, static_cast<size_t>(der_size), digest.data(), &digest_size, EVP_sha256(),
                 nullptr) != 1) {
    return {};
  }
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> base64;
  const int base64_size =
      EVP_EncodeBlock(base64.data(), digest.data(), static_cast<int>(digest_size));
  std::string pin = "sha256/";
  pin.append(reinterpret_cast<const char*>(base64.data()), static_cast<size_t>(base64_size));
  return pin;
}

}  // namespace sluice::tls
