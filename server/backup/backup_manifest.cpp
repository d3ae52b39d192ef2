#include "server/backup/backup_manifest.h"

#include <exception>

namespace sluice::backup {

using nlohmann::json;

json OmittedJson(const OmittedFile& o) {
  return {{"name", o.name},
          {"size", o.size},
          {"sha256", o.sha256},
          {"reason", o.reason},
          {"restore_from", o.restore_from}};
}

json ManifestJson(const Manifest& m) {
  json entries = json::array();
  for (const ManifestEntry& e : m.entries) {
    entries.push_back({{"name", e.name}, {"size", e.size}, {"sha256", e.sha256}});
  }
  json omitted = json::array();
  for (const OmittedFile& o : m.omitted) omitted.push_back(OmittedJson(o));
  return {{"product", m.product},
          {"format_version", m.format_version},
          {"protected", m.is_protected},
          {"schema_version", m.schema_version},
          {"site_version", m.site_version},
          {"base_version", m.base_version},
          {"created_ms", m.created_ms},
          {"source_root", m.source_root},
          {"history", m.history},
          {"history_left_out", m.history_left_out},
          {"entries", std::move(entries)},
          {"omitted", std::move(omitted)},
          {"content_sha256", m.content_sha256}};
}

Result<Manifest> ParseManifest(std::string_view text) {
  try {
    const json j = json::parse(text);
    Manifest m;
    m.product = j.at("product").get<std::string>();
    m.format_version = j.at("format_version").get<int>();
    m.is_protected = j.at("protected").get<bool>();
    m.schema_version = j.at("schema_version").get<int>();
    m.site_version = j.at("site_version").get<std::string>();
    m.base_version = j.at("base_version").get<std::string>();
    m.created_ms = j.at("created_ms").get<int64_t>();
    m.source_root = j.at("source_root").get<std::string>();
    m.history = j.at("history").get<bool>();
    m.history_left_out = j.at("history_left_out").get<std::vector<std::string>>();
    for (const json& e : j.at("entries")) {
      m.entries.push_back({.name = e.at("name").get<std::string>(),
                           .size = e.at("size").get<uint64_t>(),
                           .sha256 = e.at("sha256").get<std::string>()});
    }
    for (const json& o : j.at("omitted")) {
      m.omitted.push_back({.name = o.at("name").get<std::string>(),
                           .size = o.at("size").get<uint64_t>(),
                           .sha256 = o.at("sha256").get<std::string>(),
                           .reason = o.at("reason").get<std::string>(),
                           .restore_from = o.at("restore_from").get<std::string>()});
    }
    m.content_sha256 = j.at("content_sha256").get<std::string>();
    return m;
  } catch (const std::exception& e) {
    return Fail(Errc::kCorrupt, std::string("backup manifest: ") + e.what());
  }
}

}  // namespace sluice::backup
