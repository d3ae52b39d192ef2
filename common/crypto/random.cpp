#include "common/crypto/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "common/crypto/encoding.h"
#include "common/crypto/openssl_util.h"

namespace sluice::crypto {
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  size_t done = 0;
  while (done < n) {  // RAND_bytes takes an int length
    const int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(out.data() + done, chunk) != 1) DieOnCryptoFailure("RAND_bytes");
    done += static_cast<size_t>(chunk);
  }
  return out;
}

uint64_t RandomU64() {
  const Bytes bytes = RandomBytes(sizeof(uint64_t));
  uint64_t value = 0;
  std::memcpy(&value, bytes.data(), sizeof(value));
  return value;
}

std::string RandomHex(size_t n_bytes) { return HexEncode(RandomBytes(n_bytes)); }

std::string NewUuid() {
  Bytes b = RandomBytes(16);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = HexEncode(b);
  std::string out;
  out.reserve(36);
  out.append(hex, 0, 8).append("-");
  out.append(hex, 8, 4).append("-");
  out.append(hex, 12, 4).append("-");
  out.append(hex, 16, 4).append("-");
  out.append(hex, 20, 12);
  return out;
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !IsHexDigit(text[i])) return false;
  }
  return true;
}

std::string NewGuidUpper() {
  std::string uuid = NewUuid();
  for (char& c : uuid) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return "{" + uuid + "}";
}

}  // namespace sluice::crypto
