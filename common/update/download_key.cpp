#include "common/update/download_key.h"

#include <nlohmann/json.hpp>

#include "common/base/time_format.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"

namespace sluice::update {
namespace {

using nlohmann::json;

std::unexpected<Error> Altered(std::string_view why) {
  return Fail(Errc::kCrypto, "appliance download key is damaged or altered (" + std::string(why) +
                                 "); generate a new one with `sluicectl update download-key`");
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::string SiteIdFor(ByteView public_key) {
  const auto digest = crypto::Sha256(public_key);
  return crypto::HexEncode(ByteView(digest).first(16));
}

std::string EncodeDownloadKey(DownloadKey key, const crypto::SigningKey& signing_key) {
  key.public_key = signing_key.PublicKey();
  key.site_id = SiteIdFor(key.public_key);
  const std::string payload =
      json{{"site_id", key.site_id},           {"public_key", crypto::Base64Encode(key.public_key)},
           {"base_version", key.base_version}, {"site_version", key.site_version},
           {"installed", key.installed},       {"issued_ms", key.issued_ms},
           {"expires_ms", key.expires_ms}}
          .dump();
  const Bytes signature = signing_key.Sign(AsBytes(payload));
  return std::string(kDownloadKeyPrefix) + crypto::Base64UrlEncode(AsBytes(payload)) + "." +
         crypto::Base64UrlEncode(signature);
}

Result<DownloadKey> VerifyDownloadKey(std::string_view text, int64_t now_ms) {
  text = Trim(text);
  if (!text.starts_with(kDownloadKeyPrefix)) {
    return Fail(Errc::kInvalidArgument, "not an appliance download key (it must start with '" +
                                            std::string(kDownloadKeyPrefix) + "')");
  }
  text.remove_prefix(kDownloadKeyPrefix.size());
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return Altered("no signature");
  auto payload = crypto::Base64UrlDecode(text.substr(0, dot));
  auto signature = crypto::Base64UrlDecode(text.substr(dot + 1));
  if (!payload || !signature) return Altered("not base64url");
  json root = json::parse(AsChars(*payload), nullptr, false);
  if (root.is_discarded() || !root.is_object()) return Altered("payload is not JSON");
  DownloadKey key;
  try {
    auto public_key = crypto::Base64Decode(root.at("public_key").get<std::string>());
    if (!public_key) return Altered("bad public key");
    key = DownloadKey{.site_id = root.at("site_id").get<std::string>(),
                      .public_key = std::move(*public_key),
                      .base_version = root.at("base_version").get<std::string>(),
                      .site_version = root.at("site_version").get<std::string>(),
                      .installed = root.at("installed").get<std::vector<std::string>>(),
                      .issued_ms = root.at("issued_ms").get<int64_t>(),
                      .expires_ms = root.at("expires_ms").get<int64_t>()};
  } catch (const json::exception&) {
    return Altered("payload field missing or mistyped");
  }
  if (auto verified = crypto::VerifyEd25519(key.public_key, *payload, *signature); !verified) {
    return Altered("signature does not verify");
  }
  if (key.site_id != SiteIdFor(key.public_key)) return Altered("site id does not match its key");
  if (now_ms >= key.expires_ms) {
    return Fail(Errc::kTimeout, "appliance download key expired at " +
                                    FormatIsoUtc(key.expires_ms) + " (now " + FormatIsoUtc(now_ms) +
                                    "); generate a new one with `sluicectl update download-key` "
                                    "(check both machines' clocks)");
  }
  return key;
}

}  // namespace sluice::update
