#include "common/pkg/manifest.h"

#include <nlohmann/json.hpp>

#include "common/base/version.h"

namespace sluice::pkg {

Bytes EncodeManifest(const Manifest& manifest) {
  // nlohmann::json objects keep keys sorted, so the encoding is canonical.
  nlohmann::json json = {{"kind", manifest.kind},
                         {"platform", manifest.platform},
                         {"version", manifest.version},
                         {"size", manifest.size},
                         {"sha256", manifest.sha256},
                         {"allow_downgrade", manifest.allow_downgrade},
                         {"created_ms", manifest.created_ms}};
  std::string text = json.dump();
  return Bytes(text.begin(), text.end());
}

Result<Manifest> ParseManifest(ByteView bytes) {
  nlohmann::json json = nlohmann::json::parse(AsChars(bytes), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Fail(Errc::kCorrupt, "manifest is not a JSON object");
  }
  auto field = [&](const char* name, nlohmann::json::value_t type) -> const nlohmann::json* {
    auto it = json.find(name);
    if (it == json.end()) return nullptr;
    if (type == nlohmann::json::value_t::number_unsigned ? !it->is_number_unsigned()
                                                         : it->type() != type) {
      return nullptr;
    }
    return &*it;
  };
  using T = nlohmann::json::value_t;
  Manifest manifest;
  for (auto [name, out] : {std::pair{"kind", &manifest.kind}, {"platform", &manifest.platform},
                           {"version", &manifest.version}, {"sha256", &manifest.sha256}}) {
    const auto* value = field(name, T::string);
    if (value == nullptr) return Fail(Errc::kCorrupt, std::string("manifest field '") + name + "'");
    *out = value->get<std::string>();
  }
  const auto* size = field("size", T::number_unsigned);
  const auto* downgrade = field("allow_downgrade", T::boolean);
  const auto* created = field("created_ms", T::number_unsigned);
  if (size == nullptr || downgrade == nullptr || created == nullptr) {
    return Fail(Errc::kCorrupt, "manifest lacks size, allow_downgrade or created_ms");
  }
  manifest.size = size->get<uint64_t>();
  manifest.allow_downgrade = downgrade->get<bool>();
  manifest.created_ms = created->get<int64_t>();
  if (manifest.sha256.size() != 64) return Fail(Errc::kCorrupt, "manifest sha256 is not 64 hex");
  if (auto version = Version::Parse(manifest.version); !version) {
    return Fail(Errc::kCorrupt, "manifest " + version.error().message());
  }
  return manifest;
}

SignedManifest SignManifest(const Manifest& manifest, const crypto::SigningKey& key) {
  SignedManifest signed_manifest{.manifest = EncodeManifest(manifest), .signature = {}};
  signed_manifest.signature = key.Sign(signed_manifest.manifest);
  return signed_manifest;
}

Result<Manifest> VerifyManifest(ByteView manifest, ByteView signature, ByteView public_key) {
  if (auto verified = crypto::VerifyEd25519(public_key, manifest, signature); !verified) {
    return Context(verified.error(), "package manifest");
  }
  return ParseManifest(manifest);
}

}  // namespace sluice::pkg
