#include "common/proto/frame_codec.h"

#include <cassert>
#include <string>
#include <utility>

namespace sluice::proto {

void PutFrameLength(size_t payload_size, uint8_t* header) {
  assert(payload_size <= UINT32_MAX);
  const auto n = static_cast<uint32_t>(payload_size);
  header[0] = static_cast<uint8_t>(n >> 24);
  header[1] = static_cast<uint8_t>(n >> 16);
  header[2] = static_cast<uint8_t>(n >> 8);
  header[3] = static_cast<uint8_t>(n);
}

void AppendFrame(ByteView payload, Bytes* out) {
  assert(!payload.empty());
  uint8_t header[kFrameHeaderBytes];
  PutFrameLength(payload.size(), header);
  out->insert(out->end(), header, header + kFrameHeaderBytes);
  out->insert(out->end(), payload.begin(), payload.end());
}

FrameDecoder::FrameDecoder(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

void FrameDecoder::Append(ByteView data) {
  if (error_ || data.empty()) return;
  Compact();
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

// Drops consumed bytes once they make up at least half of the buffer, so every byte is moved
// at most a constant number of times in total (amortized O(1) per byte).
namespace {
constexpr size_t kKeepCapacity = 4 * 1024;
}  // namespace

void FrameDecoder::Compact() {
  if (offset_ == 0) return;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    // A drained decoder of an idle connection keeps no large buffer (a chunk or a burst).
    if (buffer_.capacity() > kKeepCapacity) buffer_.shrink_to_fit();
    offset_ = 0;
  } else if (offset_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset_));
    offset_ = 0;
  }
}

std::unexpected<Error> FrameDecoder::SetError(Error error) {
  error_ = std::move(error);
  buffer_ = Bytes();  // nothing after a broken header can be trusted; free the memory
  offset_ = 0;
  return Fail(*error_);
}

Result<std::optional<Bytes>> FrameDecoder::Next() {
  if (error_) return Fail(*error_);
  const size_t available = buffered_bytes();
  if (available < kFrameHeaderBytes) {
    if (available == 0) Compact();  // drained: an idle connection keeps no large buffer
    return std::nullopt;
  }
  const uint8_t* p = buffer_.data() + offset_;
  const size_t n = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
  if (n == 0) return SetError(Error(Errc::kProtocol, "empty frame (length 0)"));
  if (n > max_frame_bytes_) {
    return SetError(Error(Errc::kFrameTooLarge, "frame of " + std::to_string(n) +
                                                    " bytes exceeds the maximum of " +
                                                    std::to_string(max_frame_bytes_)));
  }
  if (available - kFrameHeaderBytes < n) return std::nullopt;
  const uint8_t* body = p + kFrameHeaderBytes;
  Bytes payload(body, body + n);
  offset_ += kFrameHeaderBytes + n;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    // A drained decoder of an idle connection keeps no large buffer (a chunk or a burst).
    if (buffer_.capacity() > kKeepCapacity) buffer_.shrink_to_fit();
    offset_ = 0;
  }
  return payload;
}

ErrorCode FrameErrorCode(const Error& frame_error) {
  return frame_error.code() == Errc::kFrameTooLarge ? ErrorCode::kFrameTooLarge
                                                    : ErrorCode::kMalformedFrame;
}

}  // namespace sluice::proto
