#pragma once
// The installer key: what a generated installer hands its client (the MSI's KEY_INFO property,
// or `sluice-client enroll --key-info KEY`). It says where the site is, how to recognise it
// and what the new client will be, and it is signed with the site's Ed25519 signing key (the
// one that signs package manifests), so the server can trust it at enrollment.
//
// Wire form, ASCII only: "SLK1." + base64url(payload) + "." + base64url(signature), where the
// payload is compact JSON with sorted keys, e.g.
//   {"endpoint":"site.example.com:443","expires_ms":1764144000000,"id":"inst-0a1b2c3d4e5f",
//    "jump_group":"","kind":"jump-client","mode":"active","overrides":["mode"],
//    "pin":"sha256/...","signing_key":"<base64 Ed25519 public key>","site_version":"2.0.0",
//    "tag":""}
// and the signature is over the payload's exact bytes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/crypto/ed25519.h"
#include "common/proto/enums.h"

namespace sluice::installer {

inline constexpr std::string_view kKeyPrefix = "SLK1.";

// The kinds installers are made for (MSIs exist for these): jump clients and access consoles.
constexpr bool IsInstallerKind(std::string_view kind) {
  const auto parsed = proto::ParseEnum<proto::ClientKind>(kind);
  return parsed == proto::ClientKind::kJumpClient || parsed == proto::ClientKind::kAccessConsole;
}

// Installer parameters a client may override at install time, when its installer allows it.
inline constexpr std::string_view kOverrideMode = "mode";
inline constexpr std::string_view kOverrideJumpGroup = "jump-group";
inline constexpr std::string_view kOverrideTag = "tag";

struct InstallerKey {
  std::string id{};            // installer id, e.g. "inst-0a1b2c3d4e5f"
  std::string endpoint{};      // "HOST:PORT" the client connects to
  std::string pin{};           // "sha256/<base64>": the site certificate's public-key pin
  Bytes signing_key{};         // the site's raw 32-byte Ed25519 public key (package manifests)
  std::string kind{};          // "jump-client" or "access-console"
  std::string mode{};          // "active" or "passive"
  std::string jump_group{};    // may be empty
  std::string tag{};           // may be empty
  int64_t expires_ms = 0;      // Unix ms after which the installer may no longer enroll clients
  std::string site_version{};  // the site version the installer was made for
  std::vector<std::string> overrides{};  // subset of kOverride*, sorted
  bool operator==(const InstallerKey&) const = default;
};

// The signed text form. Pure.
std::string SignInstallerKey(const InstallerKey& key, const crypto::SigningKey& signing_key);

// Verifies `text` against `public_key` (the server's own signing key), then parses it.
// Errors: kInvalidArgument "installer key ..." for text that is not an installer key (prefix,
// base64url, shape); kCrypto "installer key signature does not verify" for a tampered or
// foreign key; kCorrupt naming the field for a well-signed but malformed payload. Thread-safe.
[[nodiscard]] Result<InstallerKey> VerifyInstallerKey(std::string_view text, ByteView public_key);

// For clients: parses `text` and checks its signature against the signing key it carries. That
// proves the text was not damaged or edited after signing (the client pins that key from now
// on); only the server can tell whether the site really issued it. Same errors as above.
[[nodiscard]] Result<InstallerKey> OpenInstallerKey(std::string_view text);

// kInvalidArgument naming the unknown name unless every entry is a kOverride* name. Pure.
[[nodiscard]] Status ValidateOverrides(const std::vector<std::string>& overrides);

}  // namespace sluice::installer
