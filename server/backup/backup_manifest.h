#pragma once
// A backup's manifest: what the file holds, what it leaves out and where that comes back from
// (docs/backup-format.md). It is the last record of the archive (backup_archive.h) and what
// `sluicectl backup inspect` prints.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace sluice::backup {

inline constexpr std::string_view kProduct = "sluice";

// Top-level folders of a data dir that belong to the server running there, never to a backup:
// run-time files, its own backups, the package store (listed in a manifest, not held), caches
// and its failover pair's state and key. Backups leave them out; a restore refuses a file that
// brings them.
inline constexpr std::string_view kServerOwnedDirs[] = {"run", "backups", "packages", "cache",
                                                        "pair"};
inline bool ServerOwned(std::string_view top_level) {
  for (std::string_view dir : kServerOwnedDirs) {
    if (dir == top_level) return true;
  }
  return false;
}

// One file in the backup.
struct ManifestEntry {
  std::string name{};  // relative to the data dir, e.g. "db/sluice.db", "keys/signing.pem"
  uint64_t size = 0;
  std::string sha256{};  // hex
};

// A file of the data dir the backup leaves out, and how a restore gets it back.
struct OmittedFile {
  std::string name{};  // relative to the data dir
  uint64_t size = 0;
  std::string sha256{};        // hex; empty when not computed (e.g. unreadable)
  std::string reason{};        // "package", "archived-msi", "over-200-kb", "over-50-files"
  std::string restore_from{};  // advice for the admin, e.g. "the site update bundle"
};

struct Manifest {
  std::string product{kProduct};
  int format_version = 0;
  bool is_protected = false;
  int schema_version = 0;  // the database's, as migrated by the software that wrote it
  std::string site_version{};
  std::string base_version{};  // "" before any base update
  int64_t created_ms = 0;
  std::string source_root{};                    // the data dir it was taken from (absolute)
  bool history = true;                          // false: made with --no-history
  std::vector<std::string> history_left_out{};  // e.g. {"audit"}
  std::vector<ManifestEntry> entries{};
  std::vector<OmittedFile> omitted{};
  std::string content_sha256{};  // SHA-256 (hex) of every archive byte before the manifest
};

nlohmann::json ManifestJson(const Manifest& manifest);
nlohmann::json OmittedJson(const OmittedFile& file);
// Errc::kCorrupt "backup manifest: ..." for invalid JSON or a missing or mistyped field.
[[nodiscard]] Result<Manifest> ParseManifest(std::string_view text);

}  // namespace sluice::backup
