#include "server/pkg/package_repo.h"

#include <algorithm>
#include <tuple>

#include "common/base/version.h"
#include "common/pkg/manifest.h"

namespace sluice::server {
namespace {

// Column order shared by the statements and ReadPackage.
#define SLUICE_PACKAGE_COLUMNS \
  "kind, platform, version, sha256, path, size, manifest, signature, created_ms"

PackageRecord ReadPackage(const db::Statement& row) {
  return PackageRecord{.kind = row.Text(0),
                       .platform = row.Text(1),
                       .version = row.Text(2),
                       .sha256 = row.Text(3),
                       .path = row.Text(4),
                       .size = static_cast<uint64_t>(row.Int64(5)),
                       .manifest = row.Blob(6),
                       .signature = row.Blob(7),
                       .created_ms = row.Int64(8)};
}

std::string Name(std::string_view kind, std::string_view platform, std::string_view version) {
  return "package " + std::string(kind) + " " + std::string(platform) + " " + std::string(version);
}

// The manifest's allow_downgrade flag; nullopt if the manifest does not parse.
std::optional<bool> AllowsDowngrade(const PackageRecord& record) {
  auto manifest = pkg::ParseManifest(record.manifest);
  if (!manifest) return std::nullopt;
  return manifest->allow_downgrade;
}

// Whether `stored` already is what `wanted` would add; otherwise why not.
std::optional<std::string> Difference(const PackageRecord& stored, const PackageRecord& wanted) {
  if (stored.sha256 != wanted.sha256 || stored.size != wanted.size) {
    return "different content (stored sha256=" + stored.sha256 + ")";
  }
  auto stored_flag = AllowsDowngrade(stored);
  if (!stored_flag || stored_flag != AllowsDowngrade(wanted)) {
    return std::string("a different allow_downgrade flag (stored ") +
           (stored_flag.value_or(false) ? "true" : "false") + ")";
  }
  return std::nullopt;
}

// Orders versions numerically; text that does not parse sorts by its spelling, after the rest.
bool VersionLess(const std::string& a, const std::string& b) {
  auto va = Version::Parse(a);
  auto vb = Version::Parse(b);
  if (va && vb) return *va != *vb ? *va < *vb : a < b;
  if (va || vb) return va.has_value();
  return a < b;
}

}  // namespace

Status InsertPackage(db::Database& db, const PackageRecord& r) {
  auto inserted = db.Run("INSERT INTO packages (" SLUICE_PACKAGE_COLUMNS
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                         r.kind, r.platform, r.version, r.sha256, r.path,
                         static_cast<int64_t>(r.size), r.manifest, r.signature, r.created_ms);
  if (inserted) return {};
  const std::string name = Name(r.kind, r.platform, r.version);
  if (inserted.error().code() != Errc::kAlreadyExists) {
    return Context(inserted.error(), "adding " + name);
  }
  auto stored = FindPackage(db, r.kind, r.platform, r.version);
  if (!stored) return Fail(stored.error());
  if (!*stored) return Fail(Errc::kAlreadyExists, name + " already exists");
  if (auto why = Difference(**stored, r)) {
    return Fail(Errc::kAlreadyExists, name + " already exists with " + *why);
  }
  return {};
}

Result<std::optional<PackageRecord>> FindPackage(db::Database& db, std::string_view kind,
                                                 std::string_view platform,
                                                 std::string_view version) {
  std::optional<PackageRecord> found;
  auto read = db.Query(
      "SELECT " SLUICE_PACKAGE_COLUMNS
      " FROM packages WHERE kind = ?1 AND platform = ?2 AND version = ?3",
      [&found](const db::Statement& row) { found = ReadPackage(row); }, kind, platform, version);
  if (!read) return Context(read.error(), "reading " + Name(kind, platform, version));
  return found;
}

Result<std::vector<PackageRecord>> ListPackages(db::Database& db) {
  std::vector<PackageRecord> packages;
  auto read =
      db.Query("SELECT " SLUICE_PACKAGE_COLUMNS " FROM packages",
               [&packages](const db::Statement& row) { packages.push_back(ReadPackage(row)); });
  if (!read) return Context(read.error(), "listing packages");
  std::sort(packages.begin(), packages.end(), [](const PackageRecord& a, const PackageRecord& b) {
    if (std::tie(a.kind, a.platform) != std::tie(b.kind, b.platform)) {
      return std::tie(a.kind, a.platform) < std::tie(b.kind, b.platform);
    }
    return VersionLess(a.version, b.version);
  });
  return packages;
}

#undef SLUICE_PACKAGE_COLUMNS

}  // namespace sluice::server
