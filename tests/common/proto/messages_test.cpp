#include "common/proto/messages.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "common/proto/frame_codec.h"
#include "tests/common/proto/raw_msgpack.h"

namespace sluice::proto {
namespace {

using namespace sluice::proto::testing;  // NOLINT: test-only helpers

std::vector<Message> OneOfEach() {
  return {
      Enroll{.enrollment_key = "site-key-123",
             .client_id = kUuid,
             .kind = ClientKind::kAccessConsole,
             .mode = Mode::kPassive,
             .platform = "windows-x86_64",
             .version = "24.1.3"},
      Enrolled{.client_id = kUuid, .client_secret = std::string(64, 'f')},
      Checkin{.client_id = kUuid,
              .client_secret = std::string(64, '0'),
              .kind = ClientKind::kIntegrationClient,
              .mode = Mode::kActive,
              .version = "24.1.2",
              .platform = "macos-arm64",
              .stats = {.cpu_load = 0.75,
                        .disk_used_pct = 41.5,
                        .uptime_s = 86400,
                        .console_user = "alice"}},
      CheckinOk{.site_version = "24.2.0",
                .up_to_date = true,
                .heartbeat_s = 30,
                .next_checkin_s = 0,
                .server_time_ms = 1700000000123},
      Heartbeat{.seq = std::numeric_limits<uint64_t>::max()},
      HeartbeatAck{.seq = 7},
      ErrorMessage{.code = ErrorCode::kNotEnrolled, .message = "client is not enrolled"},
      UpgradeGrant{.lease_id = 42,
                   .version = "24.2.0",
                   .manifest = Bytes{'{', '}'},
                   .signature = Bytes(64, 0xab),
                   .lease_ttl_s = 120},
      UpgradeWait{.position = 17, .retry_after_s = 5, .hold_s = 270},
      UpgradeRefused{.reason = RefusalReason::kReinstallRequired, .message = "reinstall 24.2.0"},
      Download{.lease_id = 42, .offset = 65536},
      Chunk{.lease_id = 42, .offset = 65536, .data = Bytes(1000, 0x5a)},
      UpgradeResult{.lease_id = 42,
                    .version = "24.2.0",
                    .outcome = UpgradeOutcome::kRolledBack,
                    .detail = "health check exited 1"},
      UpgradeResultAck{.lease_id = 42},
      PairHello{.nonce = Bytes(kPairNonceBytes, 0x11), .server_id = "96ac0b8e1f5ce279"},
      PairChallenge{.nonce = Bytes(kPairNonceBytes, 0x22),
                    .proof = Bytes(kPairProofBytes, 0x33),
                    .server_id = "abff51da98a36f87"},
      PairProof{.proof = Bytes(kPairProofBytes, 0x44)},
      PairRequest{.id = 3, .op = "fetch", .body = Bytes{'{', '}'}},
      PairReply{
          .id = 3, .error = "not_found", .message = "no such snapshot", .body = Bytes{'{', '}'}},
      PairData{.id = 3, .offset = 262144, .data = Bytes(1000, 0x5a)},
  };
}

Checkin DecodeCheckinOrDie(const Fields& fields) {
  auto m = DecodeMessage(PackMap(fields));
  EXPECT_TRUE(m.has_value()) << m.error().ToString();
  if (!m.has_value() || !std::holds_alternative<Checkin>(*m)) return {};
  return std::get<Checkin>(*m);
}

TEST(MessageCodecTest, UpgradeWaitWithoutHoldIsNotHeld) {
  // hold_s is optional on the wire: a server that never holds omits it.
  const Bytes payload = EncodeMessage(UpgradeWait{.position = 4, .retry_after_s = 300});
  EXPECT_EQ(std::string(payload.begin(), payload.end()).find("hold_s"), std::string::npos);
  auto decoded = DecodeMessage(payload);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(std::get<UpgradeWait>(*decoded), (UpgradeWait{.position = 4, .retry_after_s = 300}));
}

TEST(MessageCodecTest, RoundTripsEveryType) {
  const auto messages = OneOfEach();
  ASSERT_EQ(messages.size(), std::variant_size_v<Message>);
  for (const Message& m : messages) {
    SCOPED_TRACE(std::string(MessageType(m)));
    auto decoded = DecodeMessage(EncodeMessage(m));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(decoded->index(), m.index());
    EXPECT_EQ(*decoded, m);
  }
}

TEST(MessageCodecTest, FramesRoundTripThroughTheFrameDecoder) {
  const auto messages = OneOfEach();
  Bytes stream;
  for (const Message& m : messages) AppendMessageFrame(m, &stream);
  FrameDecoder decoder;
  decoder.Append(stream);
  for (const Message& m : messages) {
    auto payload = decoder.Next();
    ASSERT_TRUE(payload.has_value() && payload->has_value());
    EXPECT_EQ(**payload, EncodeMessage(m));
    auto decoded = DecodeMessage(**payload);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(*decoded, m);
  }
}

TEST(MessageCodecTest, PayloadCarriesVersionAndTypeAsMsgpackMap) {
  const Bytes payload = EncodeMessage(Heartbeat{.seq = 5});
  msgpack::object_handle oh =
      msgpack::unpack(reinterpret_cast<const char*>(payload.data()), payload.size());
  ASSERT_EQ(oh.get().type, msgpack::type::MAP);
  auto map = oh.get().as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.at("v").as<uint64_t>(), kProtocolVersion);
  EXPECT_EQ(map.at("t").as<std::string>(), "heartbeat");
  EXPECT_EQ(map.at("seq").as<uint64_t>(), 5u);
}

TEST(MessageCodecTest, FloatFieldsAreAlwaysFloat64OnTheWire) {
  // Even integral values: the spec promises float64 (0xcb), not msgpack-c's integer shortcut.
  Checkin c{.client_id = kUuid, .stats = {.cpu_load = 1.0, .disk_used_pct = 0.0}};
  const Bytes payload = EncodeMessage(c);
  msgpack::object_handle oh =
      msgpack::unpack(reinterpret_cast<const char*>(payload.data()), payload.size());
  auto map = oh.get().as<std::map<std::string, msgpack::object>>();
  auto stats = map.at("stats").as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(stats.at("cpu_load").type, msgpack::type::FLOAT64);
  EXPECT_EQ(stats.at("disk_used_pct").type, msgpack::type::FLOAT64);
  EXPECT_EQ(stats.at("uptime_s").type, msgpack::type::POSITIVE_INTEGER);
}

TEST(MessageCodecTest, MessageTypeNamesEachAlternative) {
  EXPECT_EQ(MessageType(Enroll{}), "enroll");
  EXPECT_EQ(MessageType(Enrolled{}), "enrolled");
  EXPECT_EQ(MessageType(Checkin{}), "checkin");
  EXPECT_EQ(MessageType(CheckinOk{}), "checkin_ok");
  EXPECT_EQ(MessageType(Heartbeat{}), "heartbeat");
  EXPECT_EQ(MessageType(HeartbeatAck{}), "heartbeat_ack");
  EXPECT_EQ(MessageType(ErrorMessage{}), "error");
}

TEST(MessageCodecTest, IntegersAcceptedWhereFloatsAreExpected) {
  Fields fields = With(ValidCheckin(), "stats", [](Packer& pk) {
    PackFields(pk, {{"cpu_load", Val(2)}, {"disk_used_pct", Val(-3)}});
  });
  Checkin c = DecodeCheckinOrDie(fields);
  EXPECT_DOUBLE_EQ(c.stats.cpu_load, 2.0);
  EXPECT_DOUBLE_EQ(c.stats.disk_used_pct, -3.0);

  fields = With(ValidCheckin(), "stats", [](Packer& pk) {
    PackFields(pk, {{"cpu_load", Float32(1.5f)}, {"disk_used_pct", Float64(50.0)}});
  });
  EXPECT_DOUBLE_EQ(DecodeCheckinOrDie(fields).stats.cpu_load, 1.5);
  EXPECT_DOUBLE_EQ(DecodeCheckinOrDie(fields).stats.disk_used_pct, 50.0);
}

TEST(MessageCodecTest, StatsAreOptionalFieldByField) {
  Checkin c = DecodeCheckinOrDie(ValidCheckin());
  EXPECT_EQ(c.stats, CheckinStats{});
  EXPECT_EQ(c.kind, ClientKind::kJumpoint);
  EXPECT_EQ(c.mode, Mode::kPassive);

  c = DecodeCheckinOrDie(With(ValidCheckin(), "stats", [](Packer& pk) {
    PackFields(pk, {{"uptime_s", Val(99)}, {"console_user", Nil()}});
  }));
  EXPECT_EQ(c.stats.uptime_s, 99u);
  EXPECT_EQ(c.stats.cpu_load, 0.0);
  EXPECT_EQ(c.stats.console_user, "");
}

TEST(MessageCodecTest, UnknownFieldsAreIgnored) {
  Fields fields = ValidCheckin();
  fields.emplace_back("future_field", [](Packer& pk) {
    pk.pack_array(2);
    pk.pack(1);
    pk.pack("two");
  });
  fields.emplace_back("stats", [](Packer& pk) {
    PackFields(pk, {{"cpu_load", Val(0.5)}, {"gpu_load", Val(std::string("n/a"))}});
  });
  Checkin c = DecodeCheckinOrDie(fields);
  EXPECT_EQ(c.client_id, kUuid);
  EXPECT_DOUBLE_EQ(c.stats.cpu_load, 0.5);

  auto hb = DecodeMessage(PackMap(Envelope("heartbeat", {{"seq", Val(3)}, {"x", Val(true)}})));
  ASSERT_TRUE(hb.has_value()) << hb.error().ToString();
  EXPECT_EQ(std::get<Heartbeat>(*hb).seq, 3u);
}

TEST(MessageCodecTest, FieldOrderDoesNotMatter) {
  Bytes payload =
      PackMap({{"seq", Val(9)}, {"t", Val(std::string("heartbeat_ack"))}, {"v", Val(1)}});
  auto m = DecodeMessage(payload);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(std::get<HeartbeatAck>(*m).seq, 9u);
}

TEST(MessageCodecTest, MakeErrorMessageCutsLongTextAtCharacterBoundary) {
  std::string text(kMaxStringBytes - 1, 'x');
  text += "\xC3\xA9tail";  // a two-byte character straddling the limit
  ErrorMessage e = MakeErrorMessage(ErrorCode::kInternal, text);
  EXPECT_EQ(e.message.size(), kMaxStringBytes - 1);
  auto decoded = DecodeMessage(EncodeMessage(e));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(MakeErrorMessage(ErrorCode::kTimeout, "short").message, "short");
}

TEST(MessageEnumsTest, WireStringsRoundTrip) {
  for (const auto& [value, name] : EnumTraits<ClientKind>::kNames) {
    EXPECT_EQ(ToString(value), name);
    EXPECT_EQ(ParseClientKind(name).value(), value);
  }
  for (const auto& [value, name] : EnumTraits<Mode>::kNames) {
    EXPECT_EQ(ParseMode(name).value(), value);
  }
  for (const auto& [value, name] : EnumTraits<ErrorCode>::kNames) {
    EXPECT_EQ(ParseErrorCode(name).value(), value);
  }
  EXPECT_EQ(ToString(ClientKind::kConnectionAgent), "connection-agent");
  EXPECT_EQ(ToString(ErrorCode::kEnrollmentRefused), "enrollment_refused");
  auto bad = ParseClientKind("Jump-Client");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("'jump-client'"), std::string::npos);
  EXPECT_EQ(ErrcFor(ErrorCode::kAuthFailed), Errc::kAuth);
  EXPECT_EQ(ErrcFor(ErrorCode::kFrameTooLarge), Errc::kFrameTooLarge);
}

}  // namespace
}  // namespace sluice::proto
