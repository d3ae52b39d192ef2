#pragma once
// Site update bundles: one file, signed by the vendor's Ed25519 "update signing key", that
// carries a base or site update of the server and, for a site update, the client packages it
// brings. Layout (docs/admin.md, "Site updates"):
//
//   "SLUICE-UPDATE-1\n"              16 bytes, the magic
//   header length                    4 bytes, big-endian
//   header                           compact JSON with sorted keys (EncodeBundleHeader)
//   signature                        64 bytes: Ed25519 of the header bytes
//   payloads                         every package's bytes, in header order, nothing after
//
// The header names each payload's size and SHA-256, so the signature covers the whole file.
// All functions are thread-safe; the file-reading ones block (call them off the loop thread).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/crypto/ed25519.h"

namespace sluice::update {

inline constexpr std::string_view kBundleMagic = "SLUICE-UPDATE-1\n";
// Bundles and offline files give their JSON header's length in this many bytes, big-endian.
inline constexpr size_t kHeaderLengthBytes = 4;
inline constexpr size_t kMaxHeaderBytes = 1 << 20;

// One client package inside a site update.
struct BundlePackage {
  std::string kind{};      // a client kind wire name ("jump-client", ...)
  std::string platform{};  // "linux-x86_64", "windows-x86_64", ...
  std::string version{};   // the version the package installs (the bundle's version)
  uint64_t size = 0;
  std::string sha256{};  // lowercase hex
  bool operator==(const BundlePackage&) const = default;
};

struct BundleHeader {
  std::string id{};                       // BundleId(kind, version)
  std::string kind{};                     // "base" or "site"
  std::string version{};                  // dotted numeric
  std::vector<std::string> depends_on{};  // ids of updates that must be installed first
  int64_t created_ms = 0;
  std::vector<BundlePackage> packages{};  // site updates only; empty for base updates
  bool operator==(const BundleHeader&) const = default;
};

// "<kind>-<version>", e.g. "base-5.1.0", "site-2.0.0": the id dependencies name.
std::string BundleId(std::string_view kind, std::string_view version);

// Checks kind, version, id, dependency ids and packages (site: at least one, each a valid
// kind/platform/version with a 64-hex sha256 and a size; base: none; no kind/platform twice).
// Errors: kInvalidArgument naming the field.
[[nodiscard]] Status ValidateBundleHeader(const BundleHeader& header);

Bytes EncodeBundleHeader(const BundleHeader& header);

// The packages of a header as the JSON array the header and the admin commands both use.
nlohmann::json BundlePackagesJson(const std::vector<BundlePackage>& packages);
// Errors: kCorrupt naming the missing or malformed field, or what ValidateBundleHeader finds.
[[nodiscard]] Result<BundleHeader> ParseBundleHeader(ByteView bytes);

// Where a bundle lives: `length` bytes from `offset` of the file at `path` (a bundle file of its
// own, or one bundle inside an offline update file).
struct BundleLocation {
  std::string path{};
  uint64_t offset = 0;
  uint64_t length = 0;
};
// The whole file at `path` as one bundle. Errors: kNotFound, kIo.
[[nodiscard]] Result<BundleLocation> WholeFile(const std::string& path);

// A bundle whose header was read and whose signature verified.
struct OpenedBundle {
  BundleHeader header{};
  BundleLocation where{};
  std::vector<uint64_t> payload_offsets{};  // absolute file offsets, one per package
  std::string header_sha256{};              // SHA-256 of header + signature: the bundle's identity
};

// Reads and verifies the bundle at `where` against the trusted update key (raw 32 bytes; empty:
// the signature is not checked — only for choosing files on a machine without the key, never
// for installing):
// magic, header, signature, then the sizes add up to exactly `where.length`; with
// `check_payloads`, also every payload's SHA-256 (reads the whole bundle).
// Errors: kCorrupt "not an update bundle" / "truncated" / "fails its SHA-256 check" (naming the
// file and package); kCrypto "not signed by the trusted update signing key"; kNotFound, kIo.
[[nodiscard]] Result<OpenedBundle> ReadBundle(const BundleLocation& where, ByteView trusted_key,
                                              bool check_payloads);

// Copies package `index` of `bundle` to `dest` (created 0600, replaced if present), checking its
// SHA-256 again as it goes (the file may have changed since ReadBundle). Errors: kCorrupt on a
// hash mismatch (nothing left at `dest`), kIo naming the file.
[[nodiscard]] Status ExtractPayload(const OpenedBundle& bundle, size_t index,
                                    const std::string& dest);

// A package to put into a new bundle: its kind and platform, and the file holding it.
struct PackageInput {
  std::string kind{};
  std::string platform{};
  std::string path{};
};

// Builds a bundle file at `out` (written atomically): hashes every input, fills in the header's
// packages (version = header.version), signs the header with `key`, appends the payloads.
// `header.id` is set from kind and version. Returns the header written.
// Errors: kInvalidArgument (bad header or package), kNotFound / kIo naming the file.
[[nodiscard]] Result<BundleHeader> WriteBundle(const std::string& out, BundleHeader header,
                                               const std::vector<PackageInput>& packages,
                                               const crypto::SigningKey& key);

}  // namespace sluice::update
