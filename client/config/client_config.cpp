#include "client/config/client_config.h"

#include <nlohmann/json.hpp>

#include "common/base/file_util.h"
#include "common/base/version.h"
#include "common/crypto/encoding.h"
#include "common/uv/stream.h"

namespace sluice::client {
namespace {

Result<std::string> RequiredString(const nlohmann::json& json, const char* field) {
  auto it = json.find(field);
  if (it == json.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Fail(Errc::kInvalidArgument,
                std::string("client config field '") + field + "' must be a non-empty string");
  }
  return it->get<std::string>();
}

}  // namespace

Result<ClientConfig> ClientConfig::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Context(text.error(), "client config");
  auto config = Parse(*text);
  if (!config) return Context(config.error(), path);
  return config;
}

Result<ClientConfig> ClientConfig::Parse(std::string_view json_text) {
  nlohmann::json json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Fail(Errc::kInvalidArgument, "client config is not a JSON object");
  }
  ClientConfig config;
  auto server = RequiredString(json, "server");
  if (!server) return Fail(server.error());
  auto host_port = uv::SplitHostPort(*server);
  if (!host_port) return Context(host_port.error(), "client config field 'server'");
  config.host = host_port->first;
  config.port = host_port->second;
  auto pin = RequiredString(json, "pin");
  if (!pin) return Fail(pin.error());
  if (!pin->starts_with("sha256/")) {
    return Fail(Errc::kInvalidArgument, "client config field 'pin' must start with sha256/");
  }
  config.pin = *pin;
  for (auto [name, out] : {std::pair{"installer_key", &config.installer_key},
                           {"jump_group", &config.jump_group}, {"tag", &config.tag}}) {
    if (!json.contains(name)) continue;
    if (!json[name].is_string()) {
      return Fail(Errc::kInvalidArgument,
                  std::string("client config field '") + name + "' must be a string");
    }
    *out = json[name].get<std::string>();
  }
  if (config.installer_key.empty()) {
    auto key = RequiredString(json, "enrollment_key");
    if (!key) return Fail(key.error());
    config.enrollment_key = *key;
  }
  auto kind = RequiredString(json, "kind");
  if (!kind) return Fail(kind.error());
  auto parsed_kind = proto::ParseClientKind(*kind);
  if (!parsed_kind) return Fail(parsed_kind.error());
  config.kind = *parsed_kind;
  auto mode = RequiredString(json, "mode");
  if (!mode) return Fail(mode.error());
  auto parsed_mode = proto::ParseMode(*mode);
  if (!parsed_mode) return Fail(parsed_mode.error());
  config.mode = *parsed_mode;
  if (json.contains("signing_key")) {
    auto text = RequiredString(json, "signing_key");
    if (!text) return Fail(text.error());
    auto key = crypto::Base64Decode(*text);
    if (!key || key->size() != 32) {
      return Fail(Errc::kInvalidArgument,
                  "client config field 'signing_key' must be a base64 Ed25519 public key");
    }
    config.signing_key = std::move(*key);
  }
  if (json.contains("health_check")) {
    const auto& check = json["health_check"];
    bool valid = check.is_array() && !check.empty();
    for (const auto& arg : check) valid = valid && arg.is_string();
    if (!valid) {
      return Fail(Errc::kInvalidArgument,
                  "client config field 'health_check' must be a non-empty array of strings");
    }
    for (const auto& arg : check) config.health_check.push_back(arg.get<std::string>());
  }
  if (json.contains("version")) {
    auto version = RequiredString(json, "version");
    if (!version) return Fail(version.error());
    if (auto valid = Version::Parse(*version); !valid) return Fail(valid.error());
    config.version = *version;
  }
  return config;
}

}  // namespace sluice::client
