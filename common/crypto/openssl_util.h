#pragma once
// Helpers shared by the sluice::crypto and sluice::tls sources: the one place that turns
// OpenSSL's per-thread error queue into text or an Error. Handle pointers live in openssl_ptr.h.

#include <string>
#include <string_view>

#include "common/base/error.h"
#include "common/crypto/openssl_ptr.h"

namespace sluice::crypto {

// Empties this thread's OpenSSL error queue and returns its reasons joined by "; " (oldest
// first, duplicates dropped; "X lib" wrapper reasons only if nothing else), or "" if it was empty.
std::string DrainOpensslErrors();

// Returns Error{code, "<what>: <first queued OpenSSL reason>"} and empties this thread's OpenSSL
// error queue, so a stale entry cannot confuse a later SSL_get_error on the same thread.
Error OpensslError(Errc code, std::string_view what);

// Empties this thread's OpenSSL error queue after an expected, already-handled failure.
void ClearOpensslErrors();

// For failures that cannot happen short of memory exhaustion or a broken OpenSSL install, in
// calls whose contract has no error channel: logs `what` at critical level and aborts.
[[noreturn]] void DieOnCryptoFailure(std::string_view what);

}  // namespace sluice::crypto
