#pragma once
// Adding a file to the package store: copy it in under its SHA-256 and sign its manifest.

#include <atomic>
#include <cstdint>
#include <string>

#include "common/base/error.h"
#include "common/crypto/ed25519.h"
#include "server/pkg/package_store.h"

namespace sluice::server {

// Validates `spec` (ValidatePackageSpec), then streams `source_path` once, computing its SHA-256
// and size while copying it into `packages_dir` (created 0700 if missing) under a temp name,
// fsyncs the copy and renames it to PackageFilePath(packages_dir, sha256), then fsyncs the
// directory. Content-addressed: an existing file with the same digest is kept and the copy
// dropped (an existing file under that name whose content differs is replaced). Finally builds
// the pkg::Manifest (spec fields, size, sha256, created_ms = now_ms) and signs it with `key`.
// On any failure nothing is left under `packages_dir` but what was there before.
//
// BLOCKING (reads and writes the whole file): never call it on the loop thread. Thread-safe;
// `key` must stay valid for the call. If `cancel` is given and becomes true, the copy stops at
// the next chunk with Errc::kClosed.
// Errors: kInvalidArgument for a bad spec, a source that is not a regular file or is empty;
// kNotFound for a missing source; kIo for read failures of the source or any failure writing
// the store (full disk, permissions), each naming the file involved.
[[nodiscard]] Result<PackageRecord> ImportPackage(const std::string& packages_dir,
                                                  const std::string& source_path,
                                                  const PackageSpec& spec,
                                                  const crypto::SigningKey& key, int64_t now_ms,
                                                  const std::atomic<bool>* cancel = nullptr);

}  // namespace sluice::server
