#include "common/update/offline_file.h"

#include <nlohmann/json.hpp>

#include "common/update/file_range.h"

namespace sluice::update {
namespace {

using nlohmann::json;

}  // namespace

Status WriteOfflineFile(const std::string& out, const std::string& site_id, int64_t created_ms,
                        const std::vector<std::pair<std::string, BundleLocation>>& bundles) {
  json list = json::array();
  for (const auto& [id, where] : bundles) list.push_back({{"id", id}, {"size", where.length}});
  const std::string index =
      json{{"site_id", site_id}, {"created_ms", created_ms}, {"bundles", std::move(list)}}.dump();
  auto writer = AtomicFileWriter::Create(out, 0644);
  if (!writer) return Fail(writer.error());
  const auto n = static_cast<uint32_t>(index.size());
  const uint8_t length[kHeaderLengthBytes] = {static_cast<uint8_t>(n >> 24),
                                        static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                                        static_cast<uint8_t>(n)};
  for (ByteView part : {AsBytes(kOfflineMagic), ByteView(length), AsBytes(index)}) {
    if (auto written = writer->Write(part); !written) return written;
  }
  for (const auto& [id, where] : bundles) {
    auto file = ReadOnlyFile::Open(where.path);
    if (!file) return Fail(file.error());
    auto copied = file->Stream(where.offset, where.length,
                               [&](ByteView chunk) { return writer->Write(chunk); });
    if (!copied) return copied;
  }
  return writer->Commit();
}

Result<OfflineFile> ReadOfflineFile(const std::string& path) {
  auto file = ReadOnlyFile::Open(path);
  if (!file) return Fail(file.error());
  const size_t prefix = kOfflineMagic.size() + kHeaderLengthBytes;
  auto start = file->Read(0, prefix);
  if (!start || AsChars(ByteView(*start).first(kOfflineMagic.size())) != kOfflineMagic) {
    return Fail(Errc::kCorrupt, path +
                                    " is not an offline update file (made by `sluicectl "
                                    "update fetch-offline`)");
  }
  const uint8_t* p = start->data() + kOfflineMagic.size();
  const auto index_size = static_cast<uint32_t>(ReadBigEndian(p, 4));
  auto index_bytes = file->Read(prefix, index_size);
  if (!index_bytes) return Fail(index_bytes.error());
  json index = json::parse(AsChars(*index_bytes), nullptr, false);
  OfflineFile offline;
  uint64_t offset = prefix + index_size;
  try {
    offline.site_id = index.at("site_id").get<std::string>();
    offline.created_ms = index.at("created_ms").get<int64_t>();
    for (const json& bundle : index.at("bundles")) {
      const auto size = bundle.at("size").get<uint64_t>();
      offline.ids.push_back(bundle.at("id").get<std::string>());
      offline.bundles.push_back({.path = path, .offset = offset, .length = size});
      offset += size;
    }
  } catch (const json::exception&) {
    return Fail(Errc::kCorrupt, path + ": the offline file's index is damaged");
  }
  if (offset != file->size()) {
    return Fail(Errc::kCorrupt,
                path + (offset > file->size() ? " is truncated" : " has trailing bytes") +
                    ": its index describes " + std::to_string(offset) + " bytes, the file has " +
                    std::to_string(file->size()));
  }
  return offline;
}

}  // namespace sluice::update
