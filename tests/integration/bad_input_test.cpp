// Every kind of bad input against a live sluiced: each gets an error frame where the protocol
// allows one and a closed connection, is logged once with the peer address, leaves nothing in
// SQLite, and the server keeps serving everyone else.

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/crypto/random.h"
#include "tests/support/agent_runner.h"
#include "tests/support/raw_tls_client.h"
#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;

Bytes Pack(const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& write) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  write(packer);
  return Bytes(buffer.data(), buffer.data() + buffer.size());
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  // The server answered with an `error` frame carrying `code`, then closed.
  void ExpectErrorThenClose(RawTlsClient& client, proto::ErrorCode code) {
    auto message = client.ReadMessage();
    ASSERT_TRUE(message.has_value()) << "no error frame\n" << server_.log();
    auto* error = std::get_if<proto::ErrorMessage>(&*message);
    ASSERT_NE(error, nullptr) << "got " << proto::MessageType(*message);
    EXPECT_EQ(error->code, code) << error->message;
    EXPECT_TRUE(client.WaitClosed());
  }

  // Enrolls a new active jump client on `client`'s connection and sends its check-in (the answer
  // is left to read).
  void EnrollAndCheckIn(RawTlsClient& client) {
    const json config = json::parse(FileText(server_.WriteClientConfig("jump-client", "active")));
    const std::string id = crypto::NewUuid();
    ASSERT_TRUE(client.WriteMessage(proto::Enroll{.enrollment_key = config["enrollment_key"],
                                                  .client_id = id,
                                                  .platform = "linux-x86_64",
                                                  .version = "1.0.0"}));
    auto enrolled = client.ReadMessage();
    ASSERT_TRUE(enrolled && std::holds_alternative<proto::Enrolled>(*enrolled)) << server_.log();
    ASSERT_TRUE(client.WriteMessage(
        proto::Checkin{.client_id = id,
                       .client_secret = std::get<proto::Enrolled>(*enrolled).client_secret,
                       .version = "1.0.0",
                       .platform = "linux-x86_64"}));
  }

  // The bad connection was logged exactly once with its peer address, nothing reached the
  // clients table, and a well-behaved client is still served.
  void ExpectServerUnharmed(int bad_local_port, size_t clients_before = 0) {
    const std::string peer = "peer=127.0.0.1:" + std::to_string(bad_local_port) + " ";
    ASSERT_TRUE(WaitUntil([&] { return CountOccurrences(server_.log(), peer) >= 1; }))
        << server_.log();
    EXPECT_EQ(CountOccurrences(server_.log(), peer), 1) << server_.log();
    EXPECT_EQ(server_.Admin("clients")["result"]["clients"].size(), clients_before);
    TempDir state;
    const std::string config = server_.WriteClientConfig("jump-client", "passive");
    EXPECT_TRUE(CheckInOnce(config, state / "s")) << server_.log();
  }

  ServerProcess server_{{"--handshake-timeout-ms", "500", "--max-frame-bytes", "65536"}};
};

TEST_F(BadInputTest, MalformedMsgpack) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  const uint8_t garbage[] = {0xc1, 0xff, 0x00, 0x13};
  ASSERT_TRUE(client->WriteFrame(garbage));
  ExpectErrorThenClose(*client, proto::ErrorCode::kMalformedFrame);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, AnErrorFromTheClientIsNotAnswered) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteMessage(
      proto::ErrorMessage{.code = proto::ErrorCode::kInternal, .message = "client trouble"}));
  auto answer = client->ReadMessage();
  EXPECT_FALSE(answer.has_value()) << "answered with " << proto::MessageType(*answer);
  EXPECT_TRUE(client->WaitClosed());
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, FrameOverTheMaximum) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  // Announce 64 KiB + 1 and send only the header: refused before the body arrives.
  const uint8_t header[] = {0x00, 0x01, 0x00, 0x01};
  ASSERT_TRUE(client->Write(header));
  ExpectErrorThenClose(*client, proto::ErrorCode::kFrameTooLarge);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, TruncatedFrameThenDisconnect) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  const uint8_t partial[] = {0x00, 0x00, 0x01, 0x00, 0x82, 0xa1};
  ASSERT_TRUE(client->Write(partial));
  const int port = client->local_port();
  client->Abort();
  ExpectServerUnharmed(port);
  EXPECT_NE(server_.log().find("truncated frame"), std::string::npos);
}

TEST_F(BadInputTest, UnknownMessageType) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteFrame(Pack([](auto& p) {
    p.pack_map(2);
    p.pack("v");
    p.pack(1);
    p.pack("t");
    p.pack("launch_missiles");
  })));
  ExpectErrorThenClose(*client, proto::ErrorCode::kUnknownType);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, UnsupportedProtocolVersion) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteFrame(Pack([](auto& p) {
    p.pack_map(2);
    p.pack("v");
    p.pack(99);
    p.pack("t");
    p.pack("checkin");
  })));
  ExpectErrorThenClose(*client, proto::ErrorCode::kUnsupportedVersion);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, FieldOfTheWrongType) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteFrame(Pack([](auto& p) {
    p.pack_map(8);
    p.pack("v"), p.pack(1), p.pack("t"), p.pack("enroll");
    p.pack("enrollment_key"), p.pack(12345);  // must be a string
    p.pack("client_id"), p.pack(crypto::NewUuid());
    p.pack("kind"), p.pack("jump-client");
    p.pack("mode"), p.pack("active");
    p.pack("platform"), p.pack("linux-x86_64");
    p.pack("version"), p.pack("1.0.0");
  })));
  ExpectErrorThenClose(*client, proto::ErrorCode::kInvalidField);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, WellTypedButInvalidValuesNeverReachTheStore) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  // The right enrollment key, but a client id that is not a UUID.
  auto config = json::parse(std::ifstream(server_.WriteClientConfig("jump-client", "active")));
  ASSERT_TRUE(client->WriteMessage(proto::Enroll{
      .enrollment_key = config["enrollment_key"].get<std::string>(),
      .client_id = "'; DROP TABLE clients; --",
      .platform = "linux-x86_64",
      .version = "1.0.0"}));
  ExpectErrorThenClose(*client, proto::ErrorCode::kInvalidField);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, MessageUnexpectedInThisState) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteMessage(proto::Heartbeat{.seq = 1}));
  ExpectErrorThenClose(*client, proto::ErrorCode::kUnexpectedMessage);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, PlainTextInsteadOfTls) {
  auto client = RawTlsClient::Connect(server_.port(), /*handshake=*/false);
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WritePlain("GET / HTTP/1.1\r\nHost: sluice\r\n\r\n"));
  EXPECT_TRUE(client->WaitClosed());
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, HandshakeThatNeverCompletes) {
  auto client = RawTlsClient::Connect(server_.port(), /*handshake=*/false);
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->WaitClosed(10'000));
  ExpectServerUnharmed(client->local_port());
  EXPECT_NE(server_.log().find("handshake timed out"), std::string::npos);
}

TEST_F(BadInputTest, UnknownClientId) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteMessage(proto::Checkin{.client_id = crypto::NewUuid(),
                                                  .client_secret = std::string(64, 'a'),
                                                  .version = "1.0.0",
                                                  .platform = "linux-x86_64"}));
  ExpectErrorThenClose(*client, proto::ErrorCode::kNotEnrolled);
  ExpectServerUnharmed(client->local_port());
}

TEST_F(BadInputTest, WrongClientSecret) {
  TempDir state;
  ASSERT_TRUE(CheckInOnce(server_.WriteClientConfig("jumpoint", "passive"), state / "s"));
  auto listed = server_.Admin("clients")["result"]["clients"];
  ASSERT_EQ(listed.size(), 1u);
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->WriteMessage(proto::Checkin{.client_id = listed[0]["id"],
                                                  .client_secret = std::string(64, 'a'),
                                                  .kind = proto::ClientKind::kJumpoint,
                                                  .mode = proto::Mode::kPassive,
                                                  .version = "1.0.0",
                                                  .platform = "linux-x86_64"}));
  ExpectErrorThenClose(*client, proto::ErrorCode::kAuthFailed);
  ExpectServerUnharmed(client->local_port(), 1);
}

// A client may only report on a lease it was granted, with a version that is a version (it is
// stored and becomes a metrics label): a lease never granted (like another client's, which the
// same audit lookup refuses) gets lease_unknown, bytes that are not a version get invalid_field
// before the lease is even looked up, and either changes nothing: no audit row, no version.
TEST_F(BadInputTest, AForgedResultIsRefusedAndChangesNothing) {
  struct Forgery {
    proto::UpgradeResult result;
    proto::ErrorCode error;
  };
  const Forgery forgeries[] = {
      {{.lease_id = 999, .version = "9.9.9", .detail = "forged"}, proto::ErrorCode::kLeaseUnknown},
      {{.lease_id = 1, .version = "2.0\xff\n}", .detail = ""}, proto::ErrorCode::kInvalidField},
  };
  for (const Forgery& forgery : forgeries) {
    SCOPED_TRACE(proto::ToString(forgery.error));
    auto client = RawTlsClient::Connect(server_.port());
    ASSERT_TRUE(client);
    EnrollAndCheckIn(*client);
    auto ok = client->ReadMessage();
    ASSERT_TRUE(ok && std::holds_alternative<proto::CheckinOk>(*ok)) << server_.log();
    const size_t audit_before = server_.Admin("audit")["result"]["events"].size();
    ASSERT_TRUE(client->WriteMessage(forgery.result));
    ExpectErrorThenClose(*client, forgery.error);
    EXPECT_EQ(server_.Admin("audit")["result"]["events"].size(), audit_before);
    const auto clients = server_.Admin("clients");  // held: a range-for keeps no temporary alive
    for (const auto& listed : clients["result"]["clients"]) {
      EXPECT_EQ(listed["version"], "1.0.0") << listed.dump();
    }
  }
}

// A check-in and the connection gone at once: it ends while the check-in is being recorded as
// online. The client must end up offline, not online with no connection.
TEST_F(BadInputTest, ACheckInRefusedMidConnectionLeavesTheClientOffline) {
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  EnrollAndCheckIn(*client);
  client->Abort();  // gone before the check-in is recorded
  auto offline = [&] {
    auto rows = server_.Admin("clients")["result"]["clients"];
    return rows.size() == 1 && !rows[0]["online"].get<bool>();
  };
  EXPECT_TRUE(WaitUntil(offline)) << server_.Admin("clients").dump() << server_.log();
}

// Only ALPN sluice/1 reaches the client protocol: no ALPN is closed after the handshake without
// an answer, http/1.1 is the dashboard's (a frame there is a bad HTTP request), and any other
// protocol fails the handshake itself.
TEST_F(BadInputTest, ConnectionsWithoutTheSluiceAlpnAreRefused) {
  size_t clients = 0;  // each ExpectServerUnharmed enrolls one well-behaved client
  for (const std::string alpn : {"", "http/1.1"}) {
    auto client = RawTlsClient::Connect(server_.port(), true, alpn);
    ASSERT_TRUE(client) << alpn;
    ASSERT_TRUE(client->WriteMessage(proto::Checkin{.client_id = crypto::NewUuid(),
                                                    .client_secret = std::string(64, 'a'),
                                                    .version = "1.0.0",
                                                    .platform = "linux-x86_64"}));
    if (alpn.empty()) {
      auto answer = client->ReadMessage();
      EXPECT_FALSE(answer.has_value()) << "answered with " << proto::MessageType(*answer);
    } else {
      auto answer = client->ReadBytes();
      ASSERT_TRUE(answer);
      EXPECT_TRUE(answer->starts_with("HTTP/1.1 400 Bad Request\r\n")) << *answer;
    }
    EXPECT_TRUE(client->WaitClosed()) << alpn;
    ExpectServerUnharmed(client->local_port(), clients++);
  }
  EXPECT_EQ(RawTlsClient::Connect(server_.port(), true, "h2"), nullptr);
}

// A download asked for at exactly the package size gets one empty chunk at that offset, not
// silence (docs/protocol.md section 8).
TEST_F(BadInputTest, ADownloadAtTheEndGetsAnEmptyChunk) {
  TempDir payload_dir;
  PublishPackage(server_, "jump-client", "2.0.0", MakePayload(payload_dir.path(), "v2", 0, 0));
  const uint64_t size = server_.Admin("packages")["result"]["packages"][0]["size"];
  auto client = RawTlsClient::Connect(server_.port());
  ASSERT_TRUE(client);
  EnrollAndCheckIn(*client);
  auto ok = client->ReadMessage();
  ASSERT_TRUE(ok && std::holds_alternative<proto::CheckinOk>(*ok)) << server_.log();
  ASSERT_TRUE(server_.Admin("site-set-version", {{"version", "2.0.0"}})["ok"].get<bool>());
  auto grant = client->ReadMessage();  // pushed: the client is connected and active
  ASSERT_TRUE(grant && std::holds_alternative<proto::UpgradeGrant>(*grant)) << server_.log();
  const uint64_t lease = std::get<proto::UpgradeGrant>(*grant).lease_id;
  ASSERT_TRUE(client->WriteMessage(proto::Download{.lease_id = lease, .offset = size}));
  auto chunk = client->ReadMessage();
  ASSERT_TRUE(chunk && std::holds_alternative<proto::Chunk>(*chunk)) << server_.log();
  EXPECT_EQ(std::get<proto::Chunk>(*chunk).offset, size);
  EXPECT_TRUE(std::get<proto::Chunk>(*chunk).data.empty());
}

}  // namespace
}  // namespace sluice::testing
