// Bytes off the socket: the frame decoder, fed in pieces, then every payload through message
// decoding. A message that decodes must encode and decode back to itself.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/proto/frame_codec.h"
#include "common/proto/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  // The first byte picks how the rest is split into reads, as TCP may split it.
  const size_t piece = 1 + data[0] % 64;
  proto::FrameDecoder decoder(64 * 1024);
  for (size_t at = 1; at < size; at += piece) {
    decoder.Append(ByteView(data + at, std::min(piece, size - at)));
    while (true) {
      auto frame = decoder.Next();
      if (!frame || !frame->has_value()) break;
      auto message = proto::DecodeMessageForReply(**frame);
      if (!message) continue;
      auto again = proto::DecodeMessage(proto::EncodeMessage(*message));
      if (!again || !(*again == *message)) std::abort();  // the codec must round-trip
    }
  }
  return 0;
}
