#pragma once
// An update source: a directory (a mirror) of update bundle files, and the choice of which of
// its updates a site still needs. Blocking reads (ScanSource); the planning functions are pure.
// Thread-safe.

#include <set>
#include <string>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/update/update_bundle.h"

namespace sluice::server {

struct SourceEntry {
  update::BundleHeader header{};
  update::BundleLocation where{};
};

struct SourceScan {
  std::vector<SourceEntry> entries{};   // sorted by id
  std::vector<std::string> problems{};  // files skipped, each "<file>: <why>"
};

// Reads the header of every regular file directly in `dir` (hidden files and "*.tmp-*" files
// skipped) and verifies its signature against `trusted_key` (payload hashes are checked at
// install; an empty key skips the signature check, for sluicectl fetch-offline). Files that are
// not valid bundles, or a second bundle with an id already seen, are listed in `problems` and
// left out. Errors: kNotFound / kIo if `dir` cannot be listed.
[[nodiscard]] Result<SourceScan> ScanSource(const std::string& dir, ByteView trusted_key);

// What the site has: installed update ids and its current versions ("" base_version: none).
struct SiteState {
  std::set<std::string> installed{};
  std::string base_version{};
  std::string site_version{};
};

struct Candidate {
  SourceEntry entry{};
  std::vector<std::string> missing{};  // depends_on ids not installed yet
};

// True if `header` is not installed and newer than the site's version of its kind.
bool IsNewFor(const update::BundleHeader& header, const SiteState& site);

// The entries the site does not have yet (IsNewFor), each with its missing dependencies, in
// dependency order (an update after everything it depends on that is listed; otherwise base
// before site, then by version). Pure.
std::vector<Candidate> AvailableUpdates(const std::vector<SourceEntry>& entries,
                                        const SiteState& site);

// The subset of AvailableUpdates() a site can install in sequence: each update's dependencies
// are installed or come earlier in the list. Updates left out are described in `skipped`
// ("<id>: needs <dependency>, which the source does not have"). Pure.
std::vector<SourceEntry> InstallPlan(const std::vector<SourceEntry>& entries, const SiteState& site,
                                     std::vector<std::string>* skipped);

}  // namespace sluice::server
