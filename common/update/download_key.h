#pragma once
// Appliance download keys: what a site on a restricted network hands to a machine that can
// reach an update mirror, so that machine can pick the updates the site still needs
// (sluicectl update fetch-offline). ASCII, one line:
//
//   "SLUICE-DLKEY-1." base64url(payload JSON) "." base64url(Ed25519 signature of the payload)
//
// The payload carries the site's public signing key; the signature is checked against it and
// the site id must be SiteIdFor(that key), so an altered key is refused. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/crypto/ed25519.h"

namespace sluice::update {

inline constexpr std::string_view kDownloadKeyPrefix = "SLUICE-DLKEY-1.";

struct DownloadKey {
  std::string site_id{};
  Bytes public_key{};          // the site's raw 32-byte Ed25519 signing key
  std::string base_version{};  // "" before the first base update
  std::string site_version{};
  std::vector<std::string> installed{};  // ids of the updates installed on the site
  int64_t issued_ms = 0;
  int64_t expires_ms = 0;
  bool operator==(const DownloadKey&) const = default;
};

// The site's id: the first 16 bytes of SHA-256(public key), as 32 lowercase hex digits.
std::string SiteIdFor(ByteView public_key);

// Signs `key` (public_key and site_id are filled in from `signing_key`).
std::string EncodeDownloadKey(DownloadKey key, const crypto::SigningKey& signing_key);

// Parses and verifies `text` (surrounding whitespace ignored) at wall-clock time `now_ms`.
// Errors: kInvalidArgument "not an appliance download key"; kCrypto "damaged or altered" for a
// bad signature, a key that does not match its site id, or an unreadable payload;
// kTimeout "expired at ..." once now_ms >= expires_ms.
[[nodiscard]] Result<DownloadKey> VerifyDownloadKey(std::string_view text, int64_t now_ms);

}  // namespace sluice::update
