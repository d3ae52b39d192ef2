#pragma once
// The server's package store: client packages content-addressed under DIR/packages/<sha256>,
// one database row per (kind, platform, version) carrying the site-signed manifest.
//
//   package_import.h  copies a file into the store and signs its manifest (blocking, off-loop)
//   package_repo.h    the `packages` table (store thread)
//
// Callers run ImportPackage on a uv::WorkerThread and pass it the worker's cancelled() flag.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::server {

// One stored package. Members all have initializers so designated initializers may omit any.
struct PackageRecord {
  std::string kind{}, platform{}, version{};
  std::string sha256{};  // lowercase hex of the content
  std::string path{};    // the content file as imported: PackageFilePath(packages_dir, sha256)
  uint64_t size = 0;
  Bytes manifest{};   // pkg::EncodeManifest bytes, exactly as signed
  Bytes signature{};  // Ed25519 signature of `manifest` by the site key
  int64_t created_ms = 0;
  bool operator==(const PackageRecord&) const = default;
};

// What an admin says about a file being added.
struct PackageSpec {
  std::string kind{};      // a proto::ClientKind wire name ("jump-client", ...)
  std::string platform{};  // e.g. "linux-x86_64"
  std::string version{};   // dotted numeric (common/base/version.h)
  bool allow_downgrade = false;
};

// Longest platform name accepted.
inline constexpr size_t kMaxPlatformLength = 64;

// Checks kind (a client kind name), version (parses as a Version) and platform (1..64 ASCII
// characters from '!' to '~': printable, no spaces). Pure; thread-safe.
// Errors: kInvalidArgument naming the field and the value.
[[nodiscard]] Status ValidatePackageSpec(const PackageSpec& spec);

// "<packages_dir>/<sha256>": where content with that digest lives. Pure.
std::string PackageFilePath(std::string_view packages_dir, std::string_view sha256);

// "ok" when the package's file can be served (present, readable, the recorded size), else what
// is wrong: "missing", "unreadable" or "wrong size (N bytes)". Blocks on stat(2).
std::string PackageFileState(const PackageRecord& record);

}  // namespace sluice::server
