// Installer keys (common/installer/installer_key.h). First byte even: the rest is the key text
// as it arrives in `enroll`. Odd: the rest is a payload, signed here with this process's key, so
// the payload parser behind the signature check is reached too.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/crypto/ed25519.h"
#include "common/crypto/encoding.h"
#include "common/installer/installer_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  static const crypto::SigningKey key = [] {
    auto made = crypto::SigningKey::Generate();
    if (!made) std::abort();
    return std::move(*made);
  }();
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string text = rest;
  if (data[0] % 2 == 1) {
    text = std::string(installer::kKeyPrefix) + crypto::Base64UrlEncode(AsBytes(rest)) + "." +
           crypto::Base64UrlEncode(key.Sign(AsBytes(rest)));
  }
  (void)installer::VerifyInstallerKey(text, key.PublicKey());
  return 0;
}
