#pragma once
// Text encodings of binary data. Encoders never fail; decoders are strict and reject anything
// that a matching encoder would not have produced (with Errc::kInvalidArgument), so a value has
// exactly one accepted spelling per encoding, apart from hex letter case.
// All functions are pure and thread-safe.

#include <string>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::crypto {

// Lowercase hex, two characters per byte.
std::string HexEncode(ByteView data);
// Accepts upper- or lowercase digits; rejects odd lengths and any other character.
[[nodiscard]] Result<Bytes> HexDecode(std::string_view text);

// RFC 4648 standard alphabet with '=' padding.
std::string Base64Encode(ByteView data);
// Requires a multiple of 4 characters, correct padding, no whitespace, zero unused bits.
Result<Bytes> Base64Decode(std::string_view text);

// RFC 4648 URL-safe alphabet ('-', '_'), no padding.
std::string Base64UrlEncode(ByteView data);
// Rejects '=', characters outside the URL-safe alphabet, impossible lengths and nonzero unused
// bits.
Result<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace sluice::crypto
