#include "common/tls/cert_bundle.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <ctime>
#include <vector>

#include "common/base/file_util.h"
#include "common/crypto/openssl_ptr.h"
#include "common/crypto/openssl_util.h"
#include "common/tls/certificate.h"

namespace sluice::tls {
namespace {

using crypto::BioPtr;
using crypto::EvpPkeyPtr;
using crypto::X509Ptr;
using Pkcs12Ptr = CPtr<PKCS12, PKCS12_free>;
void FreeX509Stack(STACK_OF(X509) * stack) { sk_X509_pop_free(stack, X509_free); }
using X509StackPtr = CPtr<STACK_OF(X509), FreeX509Stack>;

BioPtr MemoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::vector<X509Ptr> ReadCertificates(std::string_view pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  crypto::ClearOpensslErrors();  // the loop ends on "no start line"
  return certs;
}

std::string CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioText(bio.get());
}

// The key as unencrypted PKCS#8 PEM (or encrypted with `passphrase`).
Result<std::string> KeyPem(EVP_PKEY* key, std::string_view passphrase) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  const int ok =
      passphrase.empty()
          ? PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
          : PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(),
                                          const_cast<char*>(passphrase.data()),
                                          static_cast<int>(passphrase.size()), nullptr, nullptr);
  if (ok != 1) return Fail(crypto::OpensslError(Errc::kCrypto, "writing the private key"));
  return BioText(bio.get());
}

Result<EvpPkeyPtr> ReadKey(std::string_view pem, std::string_view passphrase) {
  BioPtr bio = MemoryBio(pem);
  std::string pass(passphrase);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, pass.data());
  if (key == nullptr) {
    crypto::ClearOpensslErrors();
    return Fail(Errc::kAuth, "cannot read the private key: wrong or missing passphrase?");
  }
  return EvpPkeyPtr(key);
}

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return BioText(bio.get());
}

int64_t Seconds(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

bool HasPemKey(std::string_view text) {
  return text.find("PRIVATE KEY-----") != std::string_view::npos;
}

}  // namespace

Result<CertBundle> ReadCertFiles(const std::string& cert_path, const std::string& key_path) {
  auto text = ReadFile(cert_path);
  if (!text) return Fail(text.error());
  auto certs = ReadCertificates(*text);
  if (certs.empty()) return Fail(Errc::kInvalidArgument, cert_path + " holds no certificate");
  CertBundle bundle;
  bundle.leaf_pem = CertificatePem(certs[0].get());
  for (size_t i = 1; i < certs.size(); ++i) bundle.chain_pem += CertificatePem(certs[i].get());
  if (!key_path.empty()) {
    auto key_text = ReadFile(key_path);
    if (!key_text) return Fail(key_text.error());
    auto key = ReadKey(*key_text, "");
    if (!key) return Fail(Errc::kInvalidArgument, key_path + " holds no readable private key");
    auto pem = KeyPem(key->get(), "");
    if (!pem) return Fail(pem.error());
    bundle.key_pem = std::move(*pem);
  }
  return bundle;
}

Result<CertDetails> DescribeCertificate(const CertBundle& bundle) {
  auto certs = ReadCertificates(bundle.leaf_pem);
  if (certs.empty()) return Fail(Errc::kInvalidArgument, "no certificate");
  X509* leaf = certs[0].get();
  CertDetails details;
  details.subject = NameText(X509_get_subject_name(leaf));
  details.issuer = NameText(X509_get_issuer_name(leaf));
  details.not_before_s = Seconds(X509_get0_notBefore(leaf));
  details.not_after_s = Seconds(X509_get0_notAfter(leaf));
  details.self_signed = X509_NAME_cmp(X509_get_subject_name(leaf), X509_get_issuer_name(leaf)) == 0;
  details.pin = PinOfCertificate(leaf);
  details.chain_length = static_cast<int>(ReadCertificates(bundle.chain_pem).size());
  return details;
}

Result<Bytes> ExportBundle(const CertBundle& bundle, CertFormat format, bool chain, bool key,
                           std::string_view passphrase) {
  if (key && bundle.key_pem.empty()) {
    return Fail(Errc::kInvalidArgument, "the private key is not available to export");
  }
  if (format == CertFormat::kPem) {
    std::string out = bundle.leaf_pem;
    if (chain) out += bundle.chain_pem;
    if (key) {
      auto parsed = ReadKey(bundle.key_pem, "");
      if (!parsed) return Fail(parsed.error());
      auto pem = KeyPem(parsed->get(), passphrase);
      if (!pem) return Fail(pem.error());
      out += *pem;
    }
    return Bytes(out.begin(), out.end());
  }
  auto leaf = ReadCertificates(bundle.leaf_pem);
  if (leaf.empty()) return Fail(Errc::kInvalidArgument, "no certificate");
  EvpPkeyPtr private_key;
  if (key) {
    auto parsed = ReadKey(bundle.key_pem, "");
    if (!parsed) return Fail(parsed.error());
    private_key = std::move(*parsed);
  }
  X509StackPtr ca(sk_X509_new_null());
  if (chain) {
    for (auto& cert : ReadCertificates(bundle.chain_pem)) sk_X509_push(ca.get(), cert.release());
  }
  std::string pass(passphrase);
  // OpenSSL 3's defaults: AES-256-CBC with PBKDF2 for both bags, a SHA-256 MAC.
  Pkcs12Ptr p12(PKCS12_create(pass.empty() ? nullptr : pass.c_str(), "sluice-site",
                              private_key.get(), leaf[0].get(), ca.get(), 0, 0, 0, 0, 0));
  if (!p12) return Fail(crypto::OpensslError(Errc::kCrypto, "making the PKCS#12 file"));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (i2d_PKCS12_bio(bio.get(), p12.get()) != 1) {
    return Fail(crypto::OpensslError(Errc::kCrypto, "writing the PKCS#12 file"));
  }
  const std::string der = BioText(bio.get());
  return Bytes(der.begin(), der.end());
}

Result<CertBundle> ParseImport(ByteView file, std::string_view passphrase) {
  const std::string_view text = AsChars(file);
  CertBundle bundle;
  if (text.find("-----BEGIN ") != std::string_view::npos) {
    auto certs = ReadCertificates(text);
    if (certs.empty()) return Fail(Errc::kInvalidArgument, "the file holds no certificate");
    bundle.leaf_pem = CertificatePem(certs[0].get());
    for (size_t i = 1; i < certs.size(); ++i) bundle.chain_pem += CertificatePem(certs[i].get());
    if (!HasPemKey(text)) return Fail(Errc::kInvalidArgument, "the file holds no private key");
    auto key = ReadKey(text, passphrase);
    if (!key) return Fail(key.error());
    auto pem = KeyPem(key->get(), "");
    if (!pem) return Fail(pem.error());
    bundle.key_pem = std::move(*pem);
    return bundle;
  }
  BioPtr bio = MemoryBio(text);
  Pkcs12Ptr p12(d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) {
    crypto::ClearOpensslErrors();
    return Fail(Errc::kInvalidArgument, "the file is neither PEM nor PKCS#12");
  }
  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_ca = nullptr;
  std::string pass(passphrase);
  if (PKCS12_parse(p12.get(), pass.c_str(), &raw_key, &raw_cert, &raw_ca) != 1) {
    crypto::ClearOpensslErrors();
    return Fail(Errc::kAuth, "cannot open the PKCS#12 file: wrong or missing passphrase?");
  }
  EvpPkeyPtr key(raw_key);
  X509Ptr cert(raw_cert);
  X509StackPtr ca(raw_ca);
  if (!cert) return Fail(Errc::kInvalidArgument, "the file holds no certificate");
  if (!key) return Fail(Errc::kInvalidArgument, "the file holds no private key");
  bundle.leaf_pem = CertificatePem(cert.get());
  for (int i = 0; ca && i < sk_X509_num(ca.get()); ++i) {
    bundle.chain_pem += CertificatePem(sk_X509_value(ca.get(), i));
  }
  auto pem = KeyPem(key.get(), "");
  if (!pem) return Fail(pem.error());
  bundle.key_pem = std::move(*pem);
  return bundle;
}

Status CheckKeyMatches(const CertBundle& bundle) {
  auto certs = ReadCertificates(bundle.leaf_pem);
  auto key = ReadKey(bundle.key_pem, "");
  if (certs.empty() || !key) return Fail(Errc::kInvalidArgument, "no certificate or key");
  if (X509_check_private_key(certs[0].get(), key->get()) != 1) {
    crypto::ClearOpensslErrors();
    return Fail(Errc::kInvalidArgument, "the private key does not match the certificate");
  }
  return {};
}

}  // namespace sluice::tls
