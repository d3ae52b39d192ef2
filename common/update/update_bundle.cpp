#include "common/update/update_bundle.h"

#include <nlohmann/json.hpp>
#include <set>

#include "common/base/version.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/proto/enums.h"
#include "common/update/file_range.h"

namespace sluice::update {
namespace {

using nlohmann::json;

constexpr size_t kMaxPlatform = 64;

std::unexpected<Error> Invalid(std::string message) {
  return Fail(Errc::kInvalidArgument, std::move(message));
}

bool IsHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsPlatform(std::string_view text) {
  if (text.empty() || text.size() > kMaxPlatform) return false;
  for (char c : text) {
    if (c < '!' || c > '~' || c == ':') return false;
  }
  return true;
}

Status ValidatePackage(const BundlePackage& package, const std::string& version) {
  if (!proto::ParseClientKind(package.kind)) {
    return Invalid("package kind '" + package.kind + "' is not a client kind (" +
                   proto::EnumChoices<proto::ClientKind>() + ")");
  }
  if (!IsPlatform(package.platform)) {
    return Invalid("package platform '" + package.platform +
                   "' must be 1 to 64 printable characters without spaces or ':'");
  }
  if (package.version != version) {
    return Invalid("package " + package.kind + " " + package.platform + " has version '" +
                   package.version + "', not the bundle's " + version);
  }
  if (!IsHex64(package.sha256)) return Invalid("package sha256 must be 64 lowercase hex digits");
  if (package.size == 0) return Invalid("package " + package.kind + " is empty");
  return {};
}

}  // namespace

std::string BundleId(std::string_view kind, std::string_view version) {
  return std::string(kind) + "-" + std::string(version);
}

Status ValidateBundleHeader(const BundleHeader& header) {
  if (header.kind != "base" && header.kind != "site") {
    return Invalid("update kind '" + header.kind + "' must be 'base' or 'site'");
  }
  if (auto version = Version::Parse(header.version); !version) return Fail(version.error());
  if (header.id != BundleId(header.kind, header.version)) {
    return Invalid("update id '" + header.id + "' must be '" +
                   BundleId(header.kind, header.version) + "'");
  }
  for (const auto& dependency : header.depends_on) {
    const auto dash = dependency.find('-');
    if (dash == std::string::npos ||
        (dependency.substr(0, dash) != "base" && dependency.substr(0, dash) != "site") ||
        !Version::Parse(dependency.substr(dash + 1))) {
      return Invalid("dependency '" + dependency +
                     "' is not an update id (base-VERSION or site-VERSION)");
    }
    if (dependency == header.id) return Invalid("update " + header.id + " depends on itself");
  }
  if (header.kind == "base" && !header.packages.empty()) {
    return Invalid("a base update carries no client packages");
  }
  if (header.kind == "site" && header.packages.empty()) {
    return Invalid("a site update needs at least one client package");
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& package : header.packages) {
    if (auto valid = ValidatePackage(package, header.version); !valid) return valid;
    if (!seen.emplace(package.kind, package.platform).second) {
      return Invalid("two packages for " + package.kind + " " + package.platform);
    }
  }
  return {};
}

json BundlePackagesJson(const std::vector<BundlePackage>& packages) {
  json out = json::array();
  for (const auto& package : packages) {
    out.push_back({{"kind", package.kind},
                   {"platform", package.platform},
                   {"version", package.version},
                   {"size", package.size},
                   {"sha256", package.sha256}});
  }
  return out;
}

Bytes EncodeBundleHeader(const BundleHeader& header) {
  // nlohmann::json objects keep keys sorted, so the encoding is canonical.
  const std::string text = json{
      {"format", 1},
      {"id", header.id},
      {"kind", header.kind},
      {"version", header.version},
      {"depends_on", header.depends_on},
      {"created_ms", header.created_ms},
      {"packages", BundlePackagesJson(header.packages)}}.dump();
  return Bytes(text.begin(), text.end());
}

Result<BundleHeader> ParseBundleHeader(ByteView bytes) {
  json root = json::parse(AsChars(bytes), nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    return Fail(Errc::kCorrupt, "update header is not a JSON object");
  }
  try {
    if (root.at("format").get<int>() != 1) {
      return Fail(Errc::kUnsupportedVersion, "update header format " + root.at("format").dump() +
                                                 " is not supported (this build reads 1)");
    }
    BundleHeader header{.id = root.at("id").get<std::string>(),
                        .kind = root.at("kind").get<std::string>(),
                        .version = root.at("version").get<std::string>(),
                        .depends_on = root.at("depends_on").get<std::vector<std::string>>(),
                        .created_ms = root.at("created_ms").get<int64_t>(),
                        .packages = {}};
    for (const json& package : root.at("packages")) {
      header.packages.push_back({.kind = package.at("kind").get<std::string>(),
                                 .platform = package.at("platform").get<std::string>(),
                                 .version = package.at("version").get<std::string>(),
                                 .size = package.at("size").get<uint64_t>(),
                                 .sha256 = package.at("sha256").get<std::string>()});
    }
    if (auto valid = ValidateBundleHeader(header); !valid) {
      return Fail(Errc::kCorrupt, "update header: " + valid.error().message());
    }
    return header;
  } catch (const json::exception& e) {
    return Fail(Errc::kCorrupt,
                std::string("update header field missing or mistyped: ") + e.what());
  }
}

Result<BundleLocation> WholeFile(const std::string& path) {
  auto file = ReadOnlyFile::Open(path);
  if (!file) return Fail(file.error());
  return BundleLocation{.path = path, .offset = 0, .length = file->size()};
}

Result<OpenedBundle> ReadBundle(const BundleLocation& where, ByteView trusted_key,
                                bool check_payloads) {
  auto file = ReadOnlyFile::Open(where.path);
  if (!file) return Fail(file.error());
  const std::string name =
      where.offset == 0 ? where.path
                        : where.path + " (bundle at byte " + std::to_string(where.offset) + ")";
  const uint64_t end = where.offset + where.length;
  if (end > file->size()) {
    return Fail(Errc::kCorrupt, name + " is truncated: " + std::to_string(file->size()) +
                                    " bytes, " + std::to_string(end) + " expected");
  }
  const size_t prefix = kBundleMagic.size() + kHeaderLengthBytes;
  if (where.length < prefix) return Fail(Errc::kCorrupt, name + " is not an update bundle");
  auto start = file->Read(where.offset, prefix);
  if (!start) return Fail(start.error());
  if (AsChars(ByteView(*start).first(kBundleMagic.size())) != kBundleMagic) {
    return Fail(Errc::kCorrupt, name + " is not an update bundle (bad magic)");
  }
  const auto header_size =
      static_cast<uint32_t>(ReadBigEndian(start->data() + kBundleMagic.size(), 4));
  if (header_size == 0 || header_size > kMaxHeaderBytes ||
      prefix + header_size + crypto::kEd25519SignatureSize > where.length) {
    return Fail(Errc::kCorrupt, name + " is truncated or damaged (header length " +
                                    std::to_string(header_size) + ")");
  }
  auto signed_part = file->Read(where.offset + prefix, header_size + crypto::kEd25519SignatureSize);
  if (!signed_part) return Fail(signed_part.error());
  ByteView header_bytes = ByteView(*signed_part).first(header_size);
  ByteView signature = ByteView(*signed_part).subspan(header_size);
  if (auto verified = trusted_key.empty()
                          ? Status{}
                          : crypto::VerifyEd25519(trusted_key, header_bytes, signature);
      !verified) {
    return Fail(Errc::kCrypto, name +
                                   " is not signed by the trusted update signing key (signed by "
                                   "another key, or altered): " +
                                   verified.error().message());
  }
  auto header = ParseBundleHeader(header_bytes);
  if (!header) return Context(header.error(), name);

  OpenedBundle bundle{.header = std::move(*header),
                      .where = where,
                      .payload_offsets = {},
                      .header_sha256 = crypto::HexEncode(crypto::Sha256(*signed_part))};
  uint64_t offset = where.offset + prefix + header_size + crypto::kEd25519SignatureSize;
  for (const auto& package : bundle.header.packages) {
    bundle.payload_offsets.push_back(offset);
    offset += package.size;
  }
  if (offset != end) {
    return Fail(Errc::kCorrupt, name + (offset > end ? " is truncated" : " has trailing bytes") +
                                    ": its packages need " + std::to_string(offset - where.offset) +
                                    " bytes, the bundle has " + std::to_string(where.length));
  }
  if (!check_payloads) return bundle;
  for (size_t i = 0; i < bundle.header.packages.size(); ++i) {
    const auto& package = bundle.header.packages[i];
    crypto::Sha256Hasher hasher;
    auto streamed = file->Stream(bundle.payload_offsets[i], package.size, [&](ByteView chunk) {
      hasher.Update(chunk);
      return Status{};
    });
    if (!streamed) return Fail(streamed.error());
    if (crypto::HexEncode(hasher.Finish()) != package.sha256) {
      return Fail(Errc::kCorrupt, name + ": package " + package.kind + " " + package.platform +
                                      " fails its SHA-256 check (the bundle is damaged)");
    }
  }
  return bundle;
}

Status ExtractPayload(const OpenedBundle& bundle, size_t index, const std::string& dest) {
  const BundlePackage& package = bundle.header.packages.at(index);
  auto file = ReadOnlyFile::Open(bundle.where.path);
  if (!file) return Fail(file.error());
  auto out = AtomicFileWriter::Create(dest, 0600);
  if (!out) return Fail(out.error());
  crypto::Sha256Hasher hasher;
  auto copied = file->Stream(bundle.payload_offsets.at(index), package.size, [&](ByteView chunk) {
    hasher.Update(chunk);
    return out->Write(chunk);
  });
  if (!copied) return copied;
  if (crypto::HexEncode(hasher.Finish()) != package.sha256) {
    return Fail(Errc::kCorrupt, bundle.where.path + ": package " + package.kind + " " +
                                    package.platform + " fails its SHA-256 check");
  }
  return out->Commit();
}

Result<BundleHeader> WriteBundle(const std::string& out, BundleHeader header,
                                 const std::vector<PackageInput>& packages,
                                 const crypto::SigningKey& key) {
  header.id = BundleId(header.kind, header.version);
  header.packages.clear();
  std::vector<ReadOnlyFile> files;
  for (const auto& input : packages) {
    auto file = ReadOnlyFile::Open(input.path);
    if (!file) return Fail(file.error());
    auto digest = crypto::Sha256File(input.path);
    if (!digest) return Fail(digest.error());
    header.packages.push_back({.kind = input.kind,
                               .platform = input.platform,
                               .version = header.version,
                               .size = file->size(),
                               .sha256 = crypto::HexEncode(*digest)});
    files.push_back(std::move(*file));
  }
  if (auto valid = ValidateBundleHeader(header); !valid) return Fail(valid.error());
  const Bytes header_bytes = EncodeBundleHeader(header);
  const Bytes signature = key.Sign(header_bytes);
  auto writer = AtomicFileWriter::Create(out, 0644);
  if (!writer) return Fail(writer.error());
  const auto n = static_cast<uint32_t>(header_bytes.size());
  const uint8_t length[kHeaderLengthBytes] = {static_cast<uint8_t>(n >> 24),
                                        static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                                        static_cast<uint8_t>(n)};
  for (ByteView part :
       {AsBytes(kBundleMagic), ByteView(length), ByteView(header_bytes), ByteView(signature)}) {
    if (auto written = writer->Write(part); !written) return Fail(written.error());
  }
  for (size_t i = 0; i < files.size(); ++i) {
    // Hashed above; a file that changed meanwhile is caught by the size/hash check at install.
    auto copied = files[i].Stream(0, header.packages[i].size,
                                  [&](ByteView chunk) { return writer->Write(chunk); });
    if (!copied) return Fail(copied.error());
  }
  if (auto committed = writer->Commit(); !committed) return Fail(committed.error());
  return header;
}

}  // namespace sluice::update
