#include "server/pair/pair_auth.h"

#include "common/crypto/compare.h"
#include "common/crypto/hash.h"

namespace sluice::pair {
namespace {

constexpr std::string_view kExporterLabel = "EXPORTER-sluice-pair";

}  // namespace

Result<Bytes> MakeProof(std::string_view key, Side side, ByteView dialer_nonce,
                        ByteView listener_nonce, const tls::TlsSession& tls) {
  auto binding = tls.ExportKeyingMaterial(kExporterLabel, 32);
  if (!binding) return Fail(binding.error());
  const std::string_view label =
      side == Side::kDialer ? "sluice-pair/1 dialer" : "sluice-pair/1 listener";
  Bytes message(label.begin(), label.end());
  message.insert(message.end(), dialer_nonce.begin(), dialer_nonce.end());
  message.insert(message.end(), listener_nonce.begin(), listener_nonce.end());
  message.insert(message.end(), binding->begin(), binding->end());
  const crypto::Sha256Digest mac = crypto::HmacSha256(AsBytes(key), message);
  return Bytes(mac.begin(), mac.end());
}

bool CheckProof(std::string_view key, Side side, ByteView dialer_nonce, ByteView listener_nonce,
                const tls::TlsSession& tls, ByteView proof) {
  auto expected = MakeProof(key, side, dialer_nonce, listener_nonce, tls);
  return expected && crypto::ConstantTimeEquals(AsChars(*expected), AsChars(proof));
}

}  // namespace sluice::pair
