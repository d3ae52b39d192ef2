#pragma once
// Internal helpers shared by the sluice::crypto sources: owning pointers for OpenSSL handles and
// conversion of OpenSSL's per-thread error queue into an Error.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <string_view>

#include "common/base/c_ptr.h"
#include "common/base/error.h"

namespace sluice::crypto {

using BioPtr = CPtr<BIO, BIO_free>;
using EvpPkeyPtr = CPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpMdPtr = CPtr<EVP_MD, EVP_MD_free>;
using EvpMdCtxPtr = CPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using EvpCipherPtr = CPtr<EVP_CIPHER, EVP_CIPHER_free>;
using EvpCipherCtxPtr = CPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using EvpKdfPtr = CPtr<EVP_KDF, EVP_KDF_free>;
using EvpKdfCtxPtr = CPtr<EVP_KDF_CTX, EVP_KDF_CTX_free>;

// Returns Error{code, "<what>: <first queued OpenSSL reason>"} and empties this thread's OpenSSL
// error queue, so a stale entry cannot confuse a later SSL_get_error on the same thread.
Error OpensslError(Errc code, std::string_view what);

// Empties this thread's OpenSSL error queue after an expected, already-handled failure.
void ClearOpensslErrors();

// For failures that cannot happen short of memory exhaustion or a broken OpenSSL install, in
// calls whose contract has no error channel: logs `what` at critical level and aborts.
[[noreturn]] void DieOnCryptoFailure(std::string_view what);

}  // namespace sluice::crypto
