#pragma once
// Password hashes for accounts (the dashboard's admins): scrypt, stored as one self-describing
// string so the cost can be raised later without breaking stored hashes:
//
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
//
// salt (16 random bytes) and hash (32 bytes) in unpadded base64url. Verification reads the
// parameters from the string, so a hash made with older parameters still verifies; callers may
// re-hash when NeedsRehash() says the defaults moved. All functions are pure and thread-safe
// (the web layer verifies on a worker thread); each hash or verify costs one scrypt run
// (128 * N * r bytes of memory: 32 MiB with the defaults, tens of milliseconds).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::crypto {

// scrypt cost of new hashes. Accepted (for hashing and verifying alike): log2_n 10..20, r 1..16,
// p 1..4 and 128 * N * r <= 256 MiB, so a forged stored string cannot make a verify burn
// unbounded memory or time.
struct PasswordHashParams {
  uint32_t log2_n = 15;
  uint32_t r = 8;
  uint32_t p = 1;
  bool operator==(const PasswordHashParams&) const = default;
};

// A new encoded hash of `password` with a fresh random salt. Errors: kInvalidArgument for an
// empty password or unsupported params; kCrypto if OpenSSL fails (out of memory).
[[nodiscard]] Result<std::string> HashPassword(std::string_view password,
                                               const PasswordHashParams& params = {});

// True if `password` matches `encoded`, compared in constant time. False for a wrong password
// and for anything that is not a well-formed hash of this format (wrong prefix, unsupported
// parameters, bad base64, wrong lengths): a corrupt stored hash never lets anyone in.
[[nodiscard]] bool VerifyPassword(std::string_view password, std::string_view encoded);

// A well-formed hash at the default cost of no password at all (a random salt and a random
// "hash"): verifying any password against it costs what checking a real account costs and never
// succeeds. For unknown account names, so that they answer in the same time. Runs no scrypt.
[[nodiscard]] std::string UnmatchablePasswordHash();

// The parameters of a well-formed `encoded` hash. Errors: kCorrupt saying what is wrong.
[[nodiscard]] Result<PasswordHashParams> ParsePasswordHashParams(std::string_view encoded);

// True if `encoded` is not well-formed or was made with parameters other than `current`: a
// caller that just verified the password may store a new hash.
[[nodiscard]] bool NeedsRehash(std::string_view encoded, const PasswordHashParams& current = {});

}  // namespace sluice::crypto
