// Every class of decode error, built from raw msgpack so each test breaks exactly one thing.

#include <gtest/gtest.h>

#include <limits>
#include <msgpack.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/proto/messages.h"
#include "tests/common/proto/raw_msgpack.h"

namespace sluice::proto {
namespace {

using namespace sluice::proto::testing;  // NOLINT: test-only helpers

// Decoding `payload` fails with `errc`, the reply code `code`, and a message containing `text`.
void ExpectFailure(const Bytes& payload, Errc errc, ErrorCode code, std::string_view text) {
  auto result = DecodeMessageForReply(payload);
  ASSERT_FALSE(result.has_value()) << "decoded as " << MessageType(*result);
  EXPECT_EQ(result.error().error.code(), errc) << result.error().error.ToString();
  EXPECT_EQ(result.error().code, code) << result.error().error.ToString();
  EXPECT_NE(result.error().error.message().find(text), std::string::npos)
      << "'" << result.error().error.message() << "' lacks '" << text << "'";
  auto plain = DecodeMessage(payload);
  ASSERT_FALSE(plain.has_value());
  EXPECT_EQ(plain.error().message(), result.error().error.message());
}

void ExpectMalformed(const Bytes& payload) {
  ExpectFailure(payload, Errc::kProtocol, ErrorCode::kMalformedFrame, "malformed msgpack");
}

void ExpectFieldError(const Fields& fields, std::string_view text) {
  ExpectFailure(PackMap(fields), Errc::kProtocol, ErrorCode::kInvalidField, text);
}

TEST(MessageDecodeErrorTest, EmptyPayloadIsMalformed) { ExpectMalformed(Bytes{}); }

TEST(MessageDecodeErrorTest, TruncatedMsgpackIsMalformedAtEveryCut) {
  const Bytes full = EncodeMessage(CheckinOk{.site_version = "1.2.3", .server_time_ms = 1234});
  for (size_t cut = 1; cut < full.size(); ++cut) {
    SCOPED_TRACE(cut);
    ExpectMalformed(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut)));
  }
}

TEST(MessageDecodeErrorTest, TrailingGarbageIsMalformed) {
  Bytes payload = EncodeMessage(Heartbeat{.seq = 1});
  payload.push_back(0xC0);  // a complete msgpack nil after the map
  ExpectMalformed(payload);
  ExpectFailure(payload, Errc::kProtocol, ErrorCode::kMalformedFrame, "1 trailing bytes");
}

TEST(MessageDecodeErrorTest, TwoMessagesInOnePayloadAreMalformed) {
  Bytes payload = EncodeMessage(Heartbeat{.seq = 1});
  const Bytes second = EncodeMessage(Heartbeat{.seq = 2});
  payload.insert(payload.end(), second.begin(), second.end());
  ExpectMalformed(payload);
}

TEST(MessageDecodeErrorTest, NonMapPayloadIsMalformed) {
  ExpectFailure(PackWith([](Packer& pk) { pk.pack(42); }), Errc::kProtocol,
                ErrorCode::kMalformedFrame, "not a map");
  ExpectMalformed(PackWith([](Packer& pk) { pk.pack(std::string("checkin")); }));
  ExpectMalformed(PackWith([](Packer& pk) {
    pk.pack_array(2);
    pk.pack(1);
    pk.pack(std::string("heartbeat"));
  }));
  ExpectMalformed(PackWith([](Packer& pk) { pk.pack_nil(); }));
}

TEST(MessageDecodeErrorTest, InvalidMsgpackByteIsMalformed) {
  ExpectMalformed(Bytes{0xC1});  // never used in msgpack
}

TEST(MessageDecodeErrorTest, HugeAnnouncedContainersAreRefusedWithoutAllocating) {
  ExpectMalformed(Bytes{0xDD, 0xFF, 0xFF, 0xFF, 0xFF});  // array32 of 4 billion elements
  ExpectMalformed(Bytes{0xDF, 0xFF, 0xFF, 0xFF, 0xFF});  // map32 of 4 billion pairs
  Bytes deep = {0x81, 0xA1, 'x'};                        // {"x": [[[...[0]...]]]} nested 40 deep
  deep.insert(deep.end(), 40, 0x91);
  deep.push_back(0x00);
  ExpectMalformed(deep);
}

TEST(MessageDecodeErrorTest, MissingOrNonUintVersionIsProtocolError) {
  const Fields hb = Envelope("heartbeat", {{"seq", Val(1)}});
  ExpectFailure(PackMap(Without(hb, "v")), Errc::kProtocol, ErrorCode::kInvalidField, "'v'");
  ExpectFailure(PackMap(With(hb, "v", Val(std::string("1")))), Errc::kProtocol,
                ErrorCode::kInvalidField, "'v'");
  ExpectFailure(PackMap(With(hb, "v", Val(-1))), Errc::kProtocol, ErrorCode::kInvalidField, "'v'");
  ExpectFailure(PackMap(With(hb, "v", Float64(1.0))), Errc::kProtocol, ErrorCode::kInvalidField,
                "'v'");
}

TEST(MessageDecodeErrorTest, OtherVersionIsUnsupported) {
  const Fields hb = Envelope("heartbeat", {{"seq", Val(1)}});
  ExpectFailure(PackMap(With(hb, "v", Val(2))), Errc::kUnsupportedVersion,
                ErrorCode::kUnsupportedVersion,
                "protocol version 2 not supported (this peer speaks 1)");
  ExpectFailure(PackMap(With(hb, "v", Val(0))), Errc::kUnsupportedVersion,
                ErrorCode::kUnsupportedVersion, "protocol version 0 not supported");
}

TEST(MessageDecodeErrorTest, VersionIsCheckedBeforeType) {
  // A v2 peer may have message types this peer has never heard of: the version error wins.
  ExpectFailure(PackMap({{"v", Val(2)}, {"t", Val(std::string("teleport"))}}),
                Errc::kUnsupportedVersion, ErrorCode::kUnsupportedVersion, "version 2");
}

TEST(MessageDecodeErrorTest, MissingOrUnknownTypeIsProtocolError) {
  const Fields hb = Envelope("heartbeat", {{"seq", Val(1)}});
  ExpectFailure(PackMap(Without(hb, "t")), Errc::kProtocol, ErrorCode::kUnknownType,
                "unknown message type");
  ExpectFailure(PackMap(With(hb, "t", Val(7))), Errc::kProtocol, ErrorCode::kUnknownType,
                "unknown message type");
  ExpectFailure(PackMap(With(hb, "t", Val(std::string("launch")))), Errc::kProtocol,
                ErrorCode::kUnknownType, "unknown message type 'launch'");
  ExpectFailure(PackMap(With(hb, "t", Val(std::string("Heartbeat")))), Errc::kProtocol,
                ErrorCode::kUnknownType, "unknown message type 'Heartbeat'");
}

TEST(MessageDecodeErrorTest, UnknownTypeTextIsSanitizedAndShortened) {
  const std::string nasty = "a\nb" + std::string(200, 'z');
  auto r = DecodeMessage(PackMap({{"v", Val(1)}, {"t", Val(nasty)}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
  EXPECT_LT(r.error().message().size(), 120u);
}

TEST(MessageDecodeErrorTest, MissingRequiredFieldNamesFieldAndType) {
  ExpectFieldError(Without(ValidCheckin(), "client_secret"),
                   "field 'client_secret' of 'checkin' must be str");
  ExpectFieldError(Envelope("heartbeat", {}), "field 'seq' of 'heartbeat' must be uint");
  ExpectFieldError(Envelope("checkin_ok", {{"site_version", Val(std::string("1"))},
                                           {"heartbeat_s", Val(30)},
                                           {"next_checkin_s", Val(0)},
                                           {"server_time_ms", Val(1)}}),
                   "field 'up_to_date' of 'checkin_ok' must be bool");
  // nil counts as absent
  ExpectFieldError(With(ValidCheckin(), "version", Nil()), "field 'version' of 'checkin'");
}

TEST(MessageDecodeErrorTest, WrongFieldTypeNamesFieldAndType) {
  ExpectFieldError(Envelope("heartbeat", {{"seq", Val(std::string("1"))}}),
                   "field 'seq' of 'heartbeat' must be uint");
  ExpectFieldError(Envelope("heartbeat_ack", {{"seq", Val(-5)}}),
                   "field 'seq' of 'heartbeat_ack' must be uint");
  ExpectFieldError(Envelope("checkin_ok", {{"site_version", Val(std::string("1"))},
                                           {"up_to_date", Val(1)},
                                           {"heartbeat_s", Val(30)},
                                           {"next_checkin_s", Val(0)},
                                           {"server_time_ms", Val(1)}}),
                   "field 'up_to_date' of 'checkin_ok' must be bool");
  ExpectFieldError(With(ValidCheckin(), "platform", Val(3)),
                   "field 'platform' of 'checkin' must be str");
  ExpectFieldError(With(ValidCheckin(), "stats", Val(std::string("busy"))),
                   "field 'stats' of 'checkin' must be map");
  ExpectFieldError(With(ValidCheckin(), "stats",
                        [](Packer& pk) {
                          PackFields(pk, {{"cpu_load", Val(true)}});
                        }),
                   "field 'stats.cpu_load' of 'checkin' must be float64");
  ExpectFieldError(With(ValidCheckin(), "stats",
                        [](Packer& pk) {
                          PackFields(pk, {{"uptime_s", Val(1.5)}});
                        }),
                   "field 'stats.uptime_s' of 'checkin' must be uint");
  ExpectFieldError(
      With(ValidCheckin(), "stats",
           [](Packer& pk) {
             PackFields(pk, {{"disk_used_pct", Val(std::numeric_limits<double>::quiet_NaN())}});
           }),
      "field 'stats.disk_used_pct' of 'checkin' must be float64");
}

TEST(MessageDecodeErrorTest, UnparsableEnumsAreFieldErrors) {
  ExpectFieldError(With(ValidCheckin(), "kind", Val(std::string("toaster"))),
                   "field 'kind' of 'checkin' must be one of 'jump-client'");
  ExpectFieldError(With(ValidCheckin(), "mode", Val(std::string("ACTIVE"))),
                   "field 'mode' of 'checkin' must be one of 'active', 'passive'");
  ExpectFieldError(
      Envelope("error", {{"code", Val(std::string("oops"))}, {"message", Val(std::string("x"))}}),
      "field 'code' of 'error' must be one of");
  ExpectFieldError(Envelope("error", {{"code", Val(3)}, {"message", Val(std::string("x"))}}),
                   "field 'code' of 'error'");
}

TEST(MessageDecodeErrorTest, ClientIdMustBeLowercaseUuidText) {
  ExpectFieldError(With(ValidCheckin(), "client_id", Val(std::string("not-a-uuid"))),
                   "field 'client_id' of 'checkin' must be a lowercase UUID");
  ExpectFieldError(
      With(ValidCheckin(), "client_id", Val(std::string("3F2B8C1E-9A4D-4E6F-8B7A-0C1D2E3F4A5B"))),
      "field 'client_id' of 'checkin'");
  ExpectFieldError(
      With(ValidCheckin(), "client_id", Val(std::string("3f2b8c1e9a4d-4e6f-8b7a-0c1d2e3f4a5b0"))),
      "field 'client_id' of 'checkin'");
}

TEST(MessageDecodeErrorTest, StringsOverTheLimitAreFieldErrors) {
  ExpectFieldError(With(ValidCheckin(), "platform", Val(std::string(kMaxStringBytes + 1, 'p'))),
                   "field 'platform' of 'checkin' must be str of at most 4096 bytes");
  auto ok = DecodeMessage(
      PackMap(With(ValidCheckin(), "platform", Val(std::string(kMaxStringBytes, 'p')))));
  EXPECT_TRUE(ok.has_value()) << ok.error().ToString();
}

TEST(MessageDecodeErrorTest, FirstBadFieldInDecodeOrderIsReported) {
  Fields fields = With(ValidCheckin(), "client_secret", Val(1));
  fields = With(fields, "version", Val(2));
  ExpectFieldError(fields, "field 'client_secret'");
}

TEST(MessageDecodeErrorTest, CorruptedPayloadsNeverCrash) {
  // Deterministic mutation of valid payloads: every outcome must be a message or an Error.
  std::mt19937 rng(12345);
  const std::vector<Bytes> seeds = {
      EncodeMessage(Checkin{.client_id = kUuid, .stats = {.cpu_load = 0.5, .uptime_s = 7}}),
      EncodeMessage(Enroll{.enrollment_key = "k", .client_id = kUuid}),
      EncodeMessage(ErrorMessage{.code = ErrorCode::kTimeout, .message = "slow"})};
  size_t decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes payload = seeds[i % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) payload[rng() % payload.size()] = static_cast<uint8_t>(rng());
    auto result = DecodeMessageForReply(payload);
    if (result.has_value()) {
      ++decoded;
    } else {
      EXPECT_FALSE(result.error().error.message().empty());
    }
  }
  EXPECT_LT(decoded, 3000u);
}

}  // namespace
}  // namespace sluice::proto
