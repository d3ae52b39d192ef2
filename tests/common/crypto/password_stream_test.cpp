#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "common/crypto/password_box.h"
#include "common/crypto/random.h"

namespace sluice::crypto {
namespace {

constexpr ScryptParams kCheapScrypt{.n = 1u << 10, .r = 1, .p = 1};
constexpr uint32_t kSegment = 1024;

struct Sealed {
  Bytes header;
  std::vector<Bytes> segments;
};

Sealed SealAll(ByteView plaintext, std::string_view password = "pw") {
  auto sealer = PasswordStreamSealer::Start(password, kSegment, kCheapScrypt);
  EXPECT_TRUE(sealer) << sealer.error().ToString();
  Sealed out{Bytes(sealer->header().begin(), sealer->header().end()), {}};
  size_t offset = 0;
  do {
    const size_t take = std::min<size_t>(kSegment, plaintext.size() - offset);
    const bool last = offset + take == plaintext.size() && take < kSegment;
    auto segment = sealer->Seal(plaintext.subspan(offset, take), last);
    EXPECT_TRUE(segment) << segment.error().ToString();
    out.segments.push_back(*segment);
    offset += take;
    if (last) break;
    if (offset == plaintext.size()) {
      // An exact multiple: an empty last segment closes the stream.
      auto end = sealer->Seal({}, true);
      EXPECT_TRUE(end);
      out.segments.push_back(*end);
      break;
    }
  } while (true);
  return out;
}

Result<Bytes> OpenAll(const Sealed& sealed, std::string_view password = "pw") {
  auto opener = PasswordStreamOpener::Start(sealed.header, password);
  if (!opener) return Fail(opener.error());
  Bytes out;
  for (size_t i = 0; i < sealed.segments.size(); ++i) {
    auto plain = opener->Open(sealed.segments[i], i + 1 == sealed.segments.size());
    if (!plain) return Fail(plain.error());
    out.insert(out.end(), plain->begin(), plain->end());
  }
  return out;
}

TEST(PasswordStreamTest, RoundTripsEverySizeAroundTheSegmentBoundaries) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{kSegment - 1}, size_t{kSegment},
                      size_t{kSegment + 1}, size_t{5 * kSegment}, size_t{5 * kSegment + 7}}) {
    const Bytes plaintext = RandomBytes(size);
    const Sealed sealed = SealAll(plaintext);
    auto opened = OpenAll(sealed);
    ASSERT_TRUE(opened) << size << ": " << opened.error().ToString();
    EXPECT_EQ(*opened, plaintext) << size;
  }
}

TEST(PasswordStreamTest, AWrongPasswordIsAnAuthError) {
  const Sealed sealed = SealAll(RandomBytes(3000));
  auto opened = OpenAll(sealed, "not-pw");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::kAuth);
}

TEST(PasswordStreamTest, TruncatedReorderedOrChangedStreamsFail) {
  const Sealed sealed = SealAll(RandomBytes(4 * kSegment + 100));
  {
    // Cut at a segment boundary: the new last segment was not sealed as the last.
    Sealed cut = sealed;
    cut.segments.pop_back();
    auto opened = OpenAll(cut);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code(), Errc::kAuth);
  }
  {
    // Cut inside a segment: a full-size segment shorter than the size.
    Sealed cut = sealed;
    cut.segments.pop_back();
    cut.segments.back().resize(100);
    cut.segments.push_back(sealed.segments.back());
    auto opened = OpenAll(cut);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code(), Errc::kCorrupt);
  }
  {
    Sealed swapped = sealed;
    std::swap(swapped.segments[0], swapped.segments[1]);
    EXPECT_FALSE(OpenAll(swapped));
  }
  {
    Sealed flipped = sealed;
    flipped.segments[2][17] ^= 0x01;
    auto opened = OpenAll(flipped);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code(), Errc::kAuth);
  }
  {
    // The header is authenticated too (here: its nonce prefix).
    Sealed changed = sealed;
    changed.header[35] ^= 0x80;
    EXPECT_FALSE(OpenAll(changed));
  }
}

TEST(PasswordStreamTest, ForeignOrDamagedHeadersAreNotStreams) {
  const Sealed sealed = SealAll(RandomBytes(10));
  for (size_t cut : {size_t{0}, size_t{4}, kStreamHeaderSize - 1}) {
    auto short_header = PasswordStreamOpener::Start(ByteView(sealed.header).first(cut), "pw");
    ASSERT_FALSE(short_header);
    EXPECT_EQ(short_header.error().code(), Errc::kCorrupt);
  }
  Bytes foreign = sealed.header;
  foreign[0] = 'X';
  auto not_ours = PasswordStreamOpener::Start(foreign, "pw");
  ASSERT_FALSE(not_ours);
  EXPECT_NE(not_ours.error().message().find("not a password stream"), std::string::npos);
  Bytes greedy = sealed.header;
  greedy[4] = 0x7f;  // N far beyond the accepted range: refused before any work
  EXPECT_EQ(PasswordStreamOpener::Start(greedy, "pw").error().code(), Errc::kCorrupt);
}

TEST(PasswordStreamTest, TheSealerEnforcesSegmentSizesAndTheEnd) {
  EXPECT_FALSE(PasswordStreamSealer::Start("", kSegment, kCheapScrypt));
  EXPECT_FALSE(PasswordStreamSealer::Start("pw", 100, kCheapScrypt));
  auto sealer = PasswordStreamSealer::Start("pw", kSegment, kCheapScrypt);
  ASSERT_TRUE(sealer);
  EXPECT_FALSE(sealer->Seal(RandomBytes(10), false));  // short but not last
  EXPECT_FALSE(sealer->Seal(RandomBytes(kSegment + 1), true));
  ASSERT_TRUE(sealer->Seal(RandomBytes(10), true));
  EXPECT_FALSE(sealer->Seal(RandomBytes(10), true));  // nothing after the last
  // Two streams under one password never share a key stream.
  auto other = PasswordStreamSealer::Start("pw", kSegment, kCheapScrypt);
  ASSERT_TRUE(other);
  EXPECT_NE(Bytes(sealer->header().begin(), sealer->header().end()),
            Bytes(other->header().begin(), other->header().end()));
}

}  // namespace
}  // namespace sluice::crypto
