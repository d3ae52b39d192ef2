#include "server/update/update_source.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "common/base/version.h"

namespace sluice::server {
namespace {

// Base updates first, then by version: the order of updates that do not depend on each other.
bool NaturalOrder(const update::BundleHeader& a, const update::BundleHeader& b) {
  if (a.kind != b.kind) return a.kind == "base";
  auto va = Version::Parse(a.version);
  auto vb = Version::Parse(b.version);
  if (va && vb && *va != *vb) return *va < *vb;
  return a.id < b.id;
}

}  // namespace

Result<SourceScan> ScanSource(const std::string& dir, ByteView trusted_key) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return Fail(ec == std::errc::no_such_file_or_directory ? Errc::kNotFound : Errc::kIo,
                "update source " + dir + ": " + ec.message());
  }
  SourceScan scan;
  std::map<std::string, SourceEntry> by_id;
  for (const auto& file : it) {
    const std::string name = file.path().filename().string();
    if (name.starts_with('.') || name.find(".tmp-") != std::string::npos) continue;
    if (!file.is_regular_file(ec)) continue;
    auto where = update::WholeFile(file.path().string());
    if (!where) {
      scan.problems.push_back(name + ": " + where.error().message());
      continue;
    }
    auto bundle = update::ReadBundle(*where, trusted_key, /*check_payloads=*/false);
    if (!bundle) {
      scan.problems.push_back(name + ": " + bundle.error().message());
      continue;
    }
    const std::string id = bundle->header.id;
    if (by_id.contains(id)) {
      scan.problems.push_back(name + ": another file in the source is update " + id +
                              " too; this one is ignored");
      continue;
    }
    by_id.emplace(id, SourceEntry{.header = std::move(bundle->header), .where = *where});
  }
  for (auto& [id, entry] : by_id) scan.entries.push_back(std::move(entry));
  std::sort(scan.problems.begin(), scan.problems.end());
  return scan;
}

bool IsNewFor(const update::BundleHeader& header, const SiteState& site) {
  if (site.installed.contains(header.id)) return false;
  const std::string& current = header.kind == "base" ? site.base_version : site.site_version;
  if (current.empty()) return true;
  auto have = Version::Parse(current);
  auto offered = Version::Parse(header.version);
  return !have || !offered || *offered > *have;
}

std::vector<Candidate> AvailableUpdates(const std::vector<SourceEntry>& entries,
                                        const SiteState& site) {
  std::vector<const SourceEntry*> pending;
  for (const auto& entry : entries) {
    if (IsNewFor(entry.header, site)) pending.push_back(&entry);
  }
  std::sort(pending.begin(), pending.end(), [](const SourceEntry* a, const SourceEntry* b) {
    return NaturalOrder(a->header, b->header);
  });
  // Repeatedly take the first update whose listed dependencies are already placed.
  std::set<std::string> listed;
  for (const auto* entry : pending) listed.insert(entry->header.id);
  std::set<std::string> placed;
  std::vector<Candidate> out;
  while (!pending.empty()) {
    auto ready = std::find_if(pending.begin(), pending.end(), [&](const SourceEntry* entry) {
      return std::all_of(
          entry->header.depends_on.begin(), entry->header.depends_on.end(),
          [&](const std::string& id) { return !listed.contains(id) || placed.contains(id); });
    });
    if (ready == pending.end()) ready = pending.begin();  // a dependency cycle: keep going
    Candidate candidate{.entry = **ready, .missing = {}};
    for (const auto& id : (*ready)->header.depends_on) {
      if (!site.installed.contains(id)) candidate.missing.push_back(id);
    }
    placed.insert((*ready)->header.id);
    out.push_back(std::move(candidate));
    pending.erase(ready);
  }
  return out;
}

std::vector<SourceEntry> InstallPlan(const std::vector<SourceEntry>& entries, const SiteState& site,
                                     std::vector<std::string>* skipped) {
  std::set<std::string> have = site.installed;
  std::vector<SourceEntry> plan;
  for (auto& candidate : AvailableUpdates(entries, site)) {
    std::string lacking;
    for (const auto& id : candidate.entry.header.depends_on) {
      if (!have.contains(id)) {
        lacking = id;
        break;
      }
    }
    if (!lacking.empty()) {
      if (skipped != nullptr) {
        skipped->push_back(candidate.entry.header.id + ": needs " + lacking +
                           ", which the source does not have");
      }
      continue;
    }
    have.insert(candidate.entry.header.id);
    plan.push_back(std::move(candidate.entry));
  }
  return plan;
}

}  // namespace sluice::server
