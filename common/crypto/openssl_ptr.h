#pragma once
// Owning pointers for OpenSSL handles, shared by sluice::crypto and sluice::tls. Each frees its
// handle with the matching OpenSSL *_free function; all are move-only and null-safe.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/base/c_ptr.h"

namespace sluice::crypto {

using BioPtr = CPtr<BIO, BIO_free>;
using BignumPtr = CPtr<BIGNUM, BN_free>;
using EvpPkeyPtr = CPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpMdPtr = CPtr<EVP_MD, EVP_MD_free>;
using EvpMdCtxPtr = CPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using EvpCipherPtr = CPtr<EVP_CIPHER, EVP_CIPHER_free>;
using EvpCipherCtxPtr = CPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using EvpKdfPtr = CPtr<EVP_KDF, EVP_KDF_free>;
using EvpKdfCtxPtr = CPtr<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using X509Ptr = CPtr<X509, X509_free>;
using X509ExtensionPtr = CPtr<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralNamesPtr = CPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using GeneralNamePtr = CPtr<GENERAL_NAME, GENERAL_NAME_free>;
using Asn1StringPtr = CPtr<ASN1_STRING, ASN1_STRING_free>;
using SslCtxPtr = CPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = CPtr<SSL, SSL_free>;

}  // namespace sluice::crypto
