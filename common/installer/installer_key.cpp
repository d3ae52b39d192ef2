#include "common/installer/installer_key.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base/version.h"
#include "common/crypto/encoding.h"

namespace sluice::installer {
namespace {

using nlohmann::json;

std::string EncodePayload(const InstallerKey& key) {
  // nlohmann::json objects keep keys sorted, so the encoding is canonical.
  json payload = {{"id", key.id},
                  {"endpoint", key.endpoint},
                  {"pin", key.pin},
                  {"signing_key", crypto::Base64Encode(key.signing_key)},
                  {"kind", key.kind},
                  {"mode", key.mode},
                  {"jump_group", key.jump_group},
                  {"tag", key.tag},
                  {"expires_ms", key.expires_ms},
                  {"site_version", key.site_version},
                  {"overrides", key.overrides}};
  // ensure_ascii: the key travels in MSI properties and command lines.
  return payload.dump(-1, ' ', /*ensure_ascii=*/true);
}

std::unexpected<Error> Corrupt(const char* field) {
  return Fail(Errc::kCorrupt,
              std::string("installer key field '") + field + "' is missing or invalid");
}

Result<InstallerKey> ParsePayload(std::string_view text) {
  json payload = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded() || !payload.is_object()) {
    return Fail(Errc::kCorrupt, "installer key payload is not a JSON object");
  }
  InstallerKey key;
  for (auto [name, out] : {std::pair{"id", &key.id},
                           {"endpoint", &key.endpoint},
                           {"pin", &key.pin},
                           {"kind", &key.kind},
                           {"mode", &key.mode},
                           {"jump_group", &key.jump_group},
                           {"tag", &key.tag},
                           {"site_version", &key.site_version}}) {
    auto it = payload.find(name);
    if (it == payload.end() || !it->is_string()) return Corrupt(name);
    *out = it->get<std::string>();
  }
  for (const char* name : {"id", "endpoint", "pin", "kind", "mode", "site_version"}) {
    if (payload[name].get<std::string>().empty()) return Corrupt(name);
  }
  auto signing = payload.find("signing_key");
  if (signing == payload.end() || !signing->is_string()) return Corrupt("signing_key");
  auto raw = crypto::Base64Decode(signing->get<std::string>());
  if (!raw || raw->size() != crypto::kEd25519PublicKeySize) return Corrupt("signing_key");
  key.signing_key = std::move(*raw);
  auto expires = payload.find("expires_ms");
  if (expires == payload.end() || !expires->is_number_integer()) return Corrupt("expires_ms");
  key.expires_ms = expires->get<int64_t>();
  auto overrides = payload.find("overrides");
  if (overrides == payload.end() || !overrides->is_array()) return Corrupt("overrides");
  for (const json& name : *overrides) {
    if (!name.is_string()) return Corrupt("overrides");
    key.overrides.push_back(name.get<std::string>());
  }
  if (!ValidateOverrides(key.overrides)) return Corrupt("overrides");
  if (!IsInstallerKind(key.kind)) return Corrupt("kind");
  if (key.mode != "active" && key.mode != "passive") return Corrupt("mode");
  if (!Version::Parse(key.site_version)) return Corrupt("site_version");
  return key;
}

struct SplitKey {
  Bytes payload;
  Bytes signature;
};

Result<SplitKey> Split(std::string_view text) {
  if (!text.starts_with(kKeyPrefix)) {
    return Fail(Errc::kInvalidArgument, "installer key must start with '" +
                                            std::string(kKeyPrefix) +
                                            "' (copy the whole KEY_INFO value)");
  }
  text.remove_prefix(kKeyPrefix.size());
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || text.find('.', dot + 1) != std::string_view::npos) {
    return Fail(Errc::kInvalidArgument,
                "installer key must be SLK1.<payload>.<signature>; it looks truncated");
  }
  auto payload = crypto::Base64UrlDecode(text.substr(0, dot));
  auto signature = crypto::Base64UrlDecode(text.substr(dot + 1));
  if (!payload || !signature) {
    return Fail(Errc::kInvalidArgument, "installer key is not valid base64url; it was altered");
  }
  if (signature->size() != crypto::kEd25519SignatureSize) {
    return Fail(Errc::kInvalidArgument, "installer key signature has the wrong length");
  }
  return SplitKey{.payload = std::move(*payload), .signature = std::move(*signature)};
}

Result<InstallerKey> VerifySplit(const SplitKey& split, ByteView public_key) {
  if (auto verified = crypto::VerifyEd25519(public_key, split.payload, split.signature);
      !verified) {
    return Fail(Errc::kCrypto,
                "installer key signature does not verify (altered, or made by another site)");
  }
  return ParsePayload(AsChars(split.payload));
}

}  // namespace

std::string SignInstallerKey(const InstallerKey& key, const crypto::SigningKey& signing_key) {
  const std::string payload = EncodePayload(key);
  const Bytes signature = signing_key.Sign(AsBytes(payload));
  return std::string(kKeyPrefix) + crypto::Base64UrlEncode(AsBytes(payload)) + "." +
         crypto::Base64UrlEncode(signature);
}

Result<InstallerKey> VerifyInstallerKey(std::string_view text, ByteView public_key) {
  auto split = Split(text);
  if (!split) return Fail(split.error());
  return VerifySplit(*split, public_key);
}

Result<InstallerKey> OpenInstallerKey(std::string_view text) {
  auto split = Split(text);
  if (!split) return Fail(split.error());
  // Read the embedded key first (unverified), then check the payload against it.
  auto unverified = ParsePayload(AsChars(split->payload));
  if (!unverified) return Fail(unverified.error());
  return VerifySplit(*split, unverified->signing_key);
}

Status ValidateOverrides(const std::vector<std::string>& overrides) {
  for (const std::string& name : overrides) {
    if (name != kOverrideMode && name != kOverrideJumpGroup && name != kOverrideTag) {
      return Fail(Errc::kInvalidArgument,
                  "unknown override '" + name + "' (allowed: mode, jump-group, tag)");
    }
  }
  return {};
}

}  // namespace sluice::installer
