#pragma once
// Framing of the Sluice wire protocol: a 4-byte big-endian length N, then N bytes of payload
// (one msgpack map, see messages.h). N == 0 is malformed; N over the receiver's maximum is
// refused as soon as the header is seen.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/proto/enums.h"

namespace sluice::proto {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kDefaultMaxFrameBytes = 1 << 20;

// Writes the 4-byte big-endian length `payload_size` to header[0..3]. payload_size < 4 GiB.
void PutFrameLength(size_t payload_size, uint8_t* header);

// Appends the 4-byte header and `payload` to `*out`. `payload` must be non-empty and shorter
// than 4 GiB (a message payload always is).
void AppendFrame(ByteView payload, Bytes* out);

// Reassembles frames from a byte stream that arrives split or coalesced arbitrarily.
// Not thread-safe: one owner (the connection's loop thread) calls everything.
// Cost: each byte is copied once into the buffer and once into the returned payload; consumed
// bytes are skipped with an offset and the buffer is compacted only when that pays off.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes = kDefaultMaxFrameBytes);

  // Adds received bytes. After an error has been returned by Next(), bytes are discarded.
  void Append(ByteView data);

  // The next complete payload, or nullopt if more bytes are needed. Errors:
  //  kFrameTooLarge as soon as a header announces N > max_frame_bytes (without waiting for the
  //  body); kProtocol for N == 0. Errors are sticky: every later call returns the same error.
  [[nodiscard]] Result<std::optional<Bytes>> Next();

  // Bytes received but not yet returned as a payload (header included).
  size_t buffered_bytes() const { return buffer_.size() - offset_; }
  size_t max_frame_bytes() const { return max_frame_bytes_; }

 private:
  void Compact();
  std::unexpected<Error> SetError(Error error);

  size_t max_frame_bytes_;
  Bytes buffer_;
  size_t offset_ = 0;  // start of the first unconsumed byte in buffer_
  std::optional<Error> error_;
};

// The wire code to answer a FrameDecoder error with: frame_too_large or malformed_frame.
ErrorCode FrameErrorCode(const Error& frame_error);

}  // namespace sluice::proto
