#include "common/crypto/encoding.h"

#include <array>
#include <cstdint>

namespace sluice::crypto {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kBase64Std =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xff;

using DecodeTable = std::array<uint8_t, 256>;

constexpr DecodeTable MakeDecodeTable(std::string_view alphabet) {
  DecodeTable table{};
  table.fill(kInvalid);
  for (size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  }
  return table;
}

constexpr DecodeTable kStdTable = MakeDecodeTable(kBase64Std);
constexpr DecodeTable kUrlTable = MakeDecodeTable(kBase64Url);

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string EncodeBase64(ByteView data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t group = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[(group >> 18) & 0x3f];
    out += alphabet[(group >> 12) & 0x3f];
    out += alphabet[(group >> 6) & 0x3f];
    out += alphabet[group & 0x3f];
  }
  const size_t rest = data.size() - i;
  if (rest == 0) return out;
  uint32_t group = uint32_t{data[i]} << 16;
  if (rest == 2) group |= uint32_t{data[i + 1]} << 8;
  out += alphabet[(group >> 18) & 0x3f];
  out += alphabet[(group >> 12) & 0x3f];
  if (rest == 2) out += alphabet[(group >> 6) & 0x3f];
  if (pad) out.append(rest == 1 ? "==" : "=");
  return out;
}

// Decodes unpadded base64 text (padding already stripped by the caller).
Result<Bytes> DecodeBase64(std::string_view text, const DecodeTable& table, const char* name) {
  if (text.size() % 4 == 1) return Fail(Errc::kInvalidArgument, std::string(name) + ": bad length");
  Bytes out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t accumulator = 0;
  int bits = 0;
  for (char c : text) {
    const uint8_t value = table[static_cast<uint8_t>(c)];
    if (value == kInvalid) {
      return Fail(Errc::kInvalidArgument, std::string(name) + ": invalid character");
    }
    accumulator = (accumulator << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(accumulator >> bits));
      accumulator &= (1u << bits) - 1;
    }
  }
  // Leftover bits (2 or 4) must be zero, or two spellings would decode to the same bytes.
  if (accumulator != 0) {
    return Fail(Errc::kInvalidArgument, std::string(name) + ": nonzero trailing bits");
  }
  return out;
}

}  // namespace

std::string HexEncode(ByteView data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 0x0f];
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return Fail(Errc::kInvalidArgument, "hex: odd length");
  Bytes out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = HexValue(text[i]);
    const int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return Fail(Errc::kInvalidArgument, "hex: invalid character");
    out.push_back(static_cast<uint8_t>((hi << 4) | lo));
  }
  return out;
}

std::string Base64Encode(ByteView data) { return EncodeBase64(data, kBase64Std, true); }

Result<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Fail(Errc::kInvalidArgument, "base64: bad length");
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  // Any '=' left (a third one, or one in the middle) is rejected as an invalid character.
  return DecodeBase64(text.substr(0, text.size() - padding), kStdTable, "base64");
}

std::string Base64UrlEncode(ByteView data) { return EncodeBase64(data, kBase64Url, false); }

Result<Bytes> Base64UrlDecode(std::string_view text) {
  return DecodeBase64(text, kUrlTable, "base64url");
}

}  // namespace sluice::crypto
