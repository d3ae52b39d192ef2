#pragma once
// Client secrets: issued once to a client at enrollment, stored by the server only as a hash.
// A secret is 256 bits from the CSPRNG, so it cannot be brute-forced and a plain SHA-256 (no
// salt, no slow KDF) is the right stored form. Compare stored hashes with ConstantTimeEquals.

#include <string>
#include <string_view>

namespace sluice::crypto {

// A fresh secret: 32 random bytes as 64 lowercase hex characters. Thread-safe.
std::string NewClientSecret();

// The stored form of `secret`: lowercase hex SHA-256 of its characters (64 characters).
std::string HashSecret(std::string_view secret);

}  // namespace sluice::crypto
