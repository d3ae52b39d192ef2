#pragma once
// Cryptographically secure randomness and identifiers built from it. All functions are
// thread-safe. If the CSPRNG fails the process aborts: continuing with weak randomness would
// silently produce guessable secrets.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/bytes.h"

namespace sluice::crypto {

// `n` bytes from OpenSSL's RAND_bytes.
Bytes RandomBytes(size_t n);

// A random 64-bit value (e.g. to seed a Jitter).
uint64_t RandomU64();

// `n_bytes` random bytes as 2 * n_bytes lowercase hex characters.
std::string RandomHex(size_t n_bytes);

// A random RFC 4122 version-4 UUID, lowercase, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string NewUuid();

// True if `text` is exactly 8-4-4-4-12 hex digits (either case) separated by '-', with no braces
// or whitespace. Does not check the version or variant bits.
bool IsUuid(std::string_view text);

// A random v4 GUID in Windows Installer form, "{XXXXXXXX-XXXX-4XXX-YXXX-XXXXXXXXXXXX}", uppercase
// (ProductCode, PackageCode).
std::string NewGuidUpper();

}  // namespace sluice::crypto
