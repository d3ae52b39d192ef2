#pragma once
// Offline update files: the updates one site still needs, in dependency order, in one file that
// travels on removable media (sluicectl update fetch-offline -> update install-file).
//
//   "SLUICE-OFFLINE-1\n"   17 bytes, the magic
//   index length           4 bytes, big-endian
//   index                  JSON {"site_id", "created_ms", "bundles": [{"id", "size"}, ...]}
//   bundles                each bundle file's bytes (update_bundle.h), in index order
//
// The index is not signed: every bundle carries the vendor's signature, and the site id only
// guards against installing a file on the wrong site by mistake. Blocking; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/update/update_bundle.h"

namespace sluice::update {

inline constexpr std::string_view kOfflineMagic = "SLUICE-OFFLINE-1\n";

struct OfflineFile {
  std::string site_id{};
  int64_t created_ms = 0;
  std::vector<std::string> ids{};         // one per bundle, in install order
  std::vector<BundleLocation> bundles{};  // where each bundle lies inside the file
};

// Writes `bundles` (whole bundle files, in install order, with their ids) for `site_id` to
// `out`, atomically. Errors: kNotFound / kIo naming the file.
[[nodiscard]] Status WriteOfflineFile(
    const std::string& out, const std::string& site_id, int64_t created_ms,
    const std::vector<std::pair<std::string, BundleLocation>>& bundles);

// Reads the index of the offline file at `path` (bundles are verified when installed).
// Errors: kCorrupt "not an offline update file" / "truncated"; kNotFound, kIo.
[[nodiscard]] Result<OfflineFile> ReadOfflineFile(const std::string& path);

}  // namespace sluice::update
