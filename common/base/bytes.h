#pragma once
// Byte buffers. Bytes owns; ByteView borrows and must not outlive what it points into.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsChars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Appends the low `width` bytes of `value`, most significant first (width 1..8).
inline void AppendBigEndian(Bytes& out, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}
// Reads a `width`-byte (1..8) big-endian number at `in`.
inline uint64_t ReadBigEndian(const uint8_t* in, int width) {
  uint64_t value = 0;
  for (int i = 0; i < width; ++i) value = (value << 8) | in[i];
  return value;
}

}  // namespace sluice
