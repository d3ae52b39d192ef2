#pragma once
// The client configuration file written by `sluicectl client-config` (and, later, embedded in
// installers): where the site is, which key it must present, and what this client is.
//
//   {"server": "site.example.com:443", "pin": "sha256/...", "enrollment_key": "<64 hex>",
//    "signing_key": "<base64 Ed25519 public key>", "kind": "jump-client", "mode": "active",
//    "version": "1.0.0"}
// A config made from an installer key has "installer_key" (and optionally "jump_group", "tag")
// instead of "enrollment_key".

#include <string>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/proto/enums.h"

namespace sluice::client {

struct ClientConfig {
  std::string host;
  int port = 443;
  std::string pin;
  std::string enrollment_key;
  // Set when the config was written from an installer key (`sluice-client enroll --key-info`):
  // sent at enrollment instead of enrollment_key, with the jump group and tag overrides the
  // installing admin asked for (empty: the installer's).
  std::string installer_key;
  std::string jump_group;
  std::string tag;
  // The site's Ed25519 package-signing key (raw 32 bytes); packages signed by any other key
  // are refused. Empty in configurations that predate it: such a client never upgrades.
  Bytes signing_key;
  proto::ClientKind kind = proto::ClientKind::kJumpClient;
  proto::Mode mode = proto::Mode::kActive;
  // The version installed with this configuration; the state dir's own record wins later.
  std::string version = "1.0.0";
  // Health check of a newly applied version ("{payload}" is replaced by its path); empty:
  // the updater's default, `{payload} --self-test`.
  std::vector<std::string> health_check;

  // Errors: kNotFound / kIo for the file, kInvalidArgument naming the bad field.
  [[nodiscard]] static Result<ClientConfig> Load(const std::string& path);
  [[nodiscard]] static Result<ClientConfig> Parse(std::string_view json_text);
};

}  // namespace sluice::client
