#include "common/proto/frame_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::proto {
namespace {

Bytes Payload(size_t size, uint8_t seed) {
  Bytes p(size);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<uint8_t>(seed + i * 7);
  return p;
}

// Payloads of assorted sizes, including ones whose length bytes are all non-zero.
std::vector<Bytes> SamplePayloads() {
  return {Payload(1, 1),   Payload(3, 2),    Payload(4, 3),        Payload(5, 4), Payload(127, 5),
          Payload(256, 6), Payload(1000, 7), Payload(0x010203, 8), Payload(2, 9)};
}

Bytes Stream(const std::vector<Bytes>& payloads) {
  Bytes out;
  for (const Bytes& p : payloads) AppendFrame(p, &out);
  return out;
}

// Drains every complete payload; fails the test on an error.
void Drain(FrameDecoder& decoder, std::vector<Bytes>* out) {
  while (true) {
    auto next = decoder.Next();
    ASSERT_TRUE(next.has_value()) << next.error().ToString();
    if (!next->has_value()) return;
    out->push_back(std::move(**next));
  }
}

TEST(FrameCodecTest, AppendFrameWritesBigEndianLength) {
  Bytes out = {0xAA};
  AppendFrame(Payload(0x010203, 0), &out);
  ASSERT_EQ(out.size(), 1u + 4u + 0x010203u);
  EXPECT_EQ(out[0], 0xAA);
  EXPECT_EQ(out[1], 0x00);
  EXPECT_EQ(out[2], 0x01);
  EXPECT_EQ(out[3], 0x02);
  EXPECT_EQ(out[4], 0x03);
  EXPECT_EQ(out[5], 0x00);  // first payload byte
}

TEST(FrameDecoderTest, AllFramesInOneAppend) {
  const auto payloads = SamplePayloads();
  FrameDecoder decoder;
  decoder.Append(Stream(payloads));
  std::vector<Bytes> got;
  Drain(decoder, &got);
  EXPECT_EQ(got, payloads);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, OneByteAtATime) {
  const auto payloads = SamplePayloads();
  const Bytes stream = Stream(payloads);
  FrameDecoder decoder;
  std::vector<Bytes> got;
  for (uint8_t b : stream) {
    decoder.Append(ByteView(&b, 1));
    Drain(decoder, &got);
  }
  EXPECT_EQ(got, payloads);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, SplitAtEveryBytePosition) {
  const std::vector<Bytes> payloads = {Payload(1, 1), Payload(9, 2), Payload(300, 3), Payload(4, 4),
                                       Payload(70, 5)};
  const Bytes stream = Stream(payloads);
  for (size_t split = 0; split <= stream.size(); ++split) {
    FrameDecoder decoder;
    std::vector<Bytes> got;
    decoder.Append(ByteView(stream).first(split));
    Drain(decoder, &got);
    decoder.Append(ByteView(stream).subspan(split));
    Drain(decoder, &got);
    ASSERT_EQ(got, payloads) << "split at " << split;
    ASSERT_EQ(decoder.buffered_bytes(), 0u) << "split at " << split;
  }
}

TEST(FrameDecoderTest, NeedsMoreBytesReportsBufferedCount) {
  const Bytes stream = Stream({Payload(10, 1)});
  FrameDecoder decoder;
  decoder.Append(ByteView(stream).first(7));
  auto next = decoder.Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(decoder.buffered_bytes(), 7u);
}

TEST(FrameDecoderTest, ManySmallFramesInOneReadStayCheap) {
  // 100k frames in one Append: consumed with an offset, so this is linear, not quadratic.
  std::vector<Bytes> payloads;
  for (int i = 0; i < 100000; ++i) payloads.push_back(Payload(3, static_cast<uint8_t>(i)));
  FrameDecoder decoder;
  decoder.Append(Stream(payloads));
  std::vector<Bytes> got;
  Drain(decoder, &got);
  EXPECT_EQ(got.size(), payloads.size());
  EXPECT_EQ(got, payloads);
}

TEST(FrameDecoderTest, AcceptsFrameOfExactlyTheMaximum) {
  FrameDecoder decoder(64);
  decoder.Append(Stream({Payload(64, 1)}));
  auto next = decoder.Next();
  ASSERT_TRUE(next.has_value());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->size(), 64u);
}

TEST(FrameDecoderTest, OversizeHeaderRejectedBeforeBodyArrives) {
  FrameDecoder decoder(1024);
  const uint8_t header[] = {0x00, 0x00, 0x04, 0x01};  // 1025 bytes announced, none sent
  decoder.Append(header);
  auto next = decoder.Next();
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code(), Errc::kFrameTooLarge);
  EXPECT_NE(next.error().message().find("1025"), std::string::npos);
  EXPECT_EQ(FrameErrorCode(next.error()), ErrorCode::kFrameTooLarge);
}

TEST(FrameDecoderTest, HugeHeaderRejectedWithDefaultMaximum) {
  FrameDecoder decoder;
  const uint8_t header[] = {0xFF, 0xFF, 0xFF, 0xFF};
  decoder.Append(header);
  auto next = decoder.Next();
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code(), Errc::kFrameTooLarge);
}

TEST(FrameDecoderTest, OversizeFrameAfterGoodOnesStillDeliversGoodOnesFirst) {
  FrameDecoder decoder(16);
  Bytes stream = Stream({Payload(5, 1), Payload(16, 2)});
  const uint8_t bad[] = {0x00, 0x00, 0x00, 0x11};
  stream.insert(stream.end(), bad, bad + 4);
  decoder.Append(stream);
  ASSERT_EQ(decoder.Next().value()->size(), 5u);
  ASSERT_EQ(decoder.Next().value()->size(), 16u);
  auto next = decoder.Next();
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code(), Errc::kFrameTooLarge);
}

TEST(FrameDecoderTest, ZeroLengthRejected) {
  FrameDecoder decoder;
  const uint8_t header[] = {0x00, 0x00, 0x00, 0x00, 0x81};
  decoder.Append(header);
  auto next = decoder.Next();
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code(), Errc::kProtocol);
  EXPECT_EQ(FrameErrorCode(next.error()), ErrorCode::kMalformedFrame);
}

TEST(FrameDecoderTest, ErrorsAreSticky) {
  FrameDecoder decoder(8);
  const uint8_t header[] = {0x00, 0x00, 0x00, 0x09};
  decoder.Append(header);
  auto first = decoder.Next();
  ASSERT_FALSE(first.has_value());
  // Valid frames appended afterwards are never delivered; the same error keeps coming back.
  decoder.Append(Stream({Payload(2, 1)}));
  for (int i = 0; i < 3; ++i) {
    auto again = decoder.Next();
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code(), first.error().code());
    EXPECT_EQ(again.error().message(), first.error().message());
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, ZeroLengthErrorIsSticky) {
  FrameDecoder decoder;
  Bytes stream = {0, 0, 0, 0};
  AppendFrame(Payload(3, 1), &stream);
  decoder.Append(stream);
  ASSERT_FALSE(decoder.Next().has_value());
  auto again = decoder.Next();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), Errc::kProtocol);
}

}  // namespace
}  // namespace sluice::proto
