#pragma once
// Comparison of secrets without a timing side channel.

#include <string_view>

namespace sluice::crypto {

// True if `a` and `b` hold the same bytes. For equal lengths the time taken does not depend on
// where they differ (CRYPTO_memcmp); different lengths return false at once, so only the length
// can leak. Thread-safe.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sluice::crypto
