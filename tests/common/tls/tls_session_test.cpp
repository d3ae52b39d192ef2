// TlsSession against real OpenSSL: a client and a server session pumped into each other in
// memory, with certificates generated into a temp dir.

#include "common/tls/tls_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/base/file_util.h"
#include "common/tls/certificate.h"
#include "common/tls/tls_context.h"

namespace sluice::tls {
namespace {

constexpr size_t kWholeFlight = SIZE_MAX;

struct Peer {
  std::unique_ptr<TlsSession> session;
  Bytes received;
  std::optional<Error> error;  // first error Receive returned
};

// Moves `from`'s pending ciphertext into `to`, `feed` bytes per Receive. Returns whether any
// bytes moved.
bool Deliver(Peer& from, Peer& to, size_t feed) {
  const Bytes data = from.session->TakeCiphertext();
  for (size_t offset = 0, n = 0; offset < data.size(); offset += n) {
    n = std::min(feed, data.size() - offset);
    auto status = to.session->Receive(ByteView(data).subspan(offset, n), &to.received);
    if (!status && !to.error) to.error = status.error();
  }
  return !data.empty();
}

// Exchanges ciphertext until both sides are quiet; bounded so a bug cannot hang the test.
void Pump(Peer& a, Peer& b, size_t feed = kWholeFlight) {
  for (int round = 0; round < 100; ++round) {
    const bool a_to_b = Deliver(a, b, feed);
    const bool b_to_a = Deliver(b, a, feed);
    if (!a_to_b && !b_to_a) return;
  }
  ADD_FAILURE() << "sessions still exchanging data after 100 rounds";
}

std::string Text(const Bytes& bytes) { return std::string(AsChars(bytes)); }

Bytes RandomBytes(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes out(size);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

class TlsSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = MakeTempDir("sluice-tls-session-test-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = new std::string(*dir);
    ASSERT_TRUE(GenerateSelfSigned(*dir_ + "/server.pem", *dir_ + "/server.key", "localhost"));
    ASSERT_TRUE(GenerateSelfSigned(*dir_ + "/other.pem", *dir_ + "/other.key", "localhost"));
  }
  static void TearDownTestSuite() {
    (void)RemoveAll(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Pin(const std::string& name) {
    auto pin = PinOfCertificateFile(*dir_ + "/" + name + ".pem");
    EXPECT_TRUE(pin) << pin.error().ToString();
    return pin.value_or("");
  }

  static std::shared_ptr<TlsContext> ServerContext(const std::string& name = "server") {
    auto ctx = TlsContext::CreateServer(
        {.cert_path = *dir_ + "/" + name + ".pem", .key_path = *dir_ + "/" + name + ".key"});
    EXPECT_TRUE(ctx) << ctx.error().ToString();
    return ctx.value_or(nullptr);
  }

  static std::shared_ptr<TlsContext> ClientContext(std::vector<std::string> alpn = {"sluice/1"}) {
    auto ctx = TlsContext::CreateClient({.pin = Pin("server"), .alpn = std::move(alpn)});
    EXPECT_TRUE(ctx) << ctx.error().ToString();
    return ctx.value_or(nullptr);
  }

  static Peer NewPeer(std::shared_ptr<TlsContext> ctx, std::shared_ptr<SSL_SESSION> resume = {}) {
    auto session = TlsSession::Create(std::move(ctx), std::move(resume));
    EXPECT_TRUE(session) << session.error().ToString();
    Peer peer;
    if (session) peer.session = std::move(*session);
    return peer;
  }

  // Starts the client and pumps until both sides are quiet.
  static void Connect(Peer& client, Peer& server, size_t feed = kWholeFlight) {
    ASSERT_TRUE(client.session->Start());
    Pump(client, server, feed);
  }

  static std::string* dir_;
};

std::string* TlsSessionTest::dir_ = nullptr;

TEST_F(TlsSessionTest, HandshakeNegotiatesTls13AndSluiceAlpn) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  Connect(client, server);

  ASSERT_FALSE(client.error) << client.error->ToString();
  ASSERT_FALSE(server.error) << server.error->ToString();
  EXPECT_TRUE(client.session->handshake_complete());
  EXPECT_TRUE(server.session->handshake_complete());
  EXPECT_EQ(client.session->alpn(), "sluice/1");
  EXPECT_EQ(server.session->alpn(), "sluice/1");
  EXPECT_EQ(client.session->protocol_version(), "TLSv1.3");
  EXPECT_EQ(server.session->protocol_version(), "TLSv1.3");
  EXPECT_EQ(client.session->peer_pin(), Pin("server"));
  EXPECT_EQ(server.session->peer_pin(), "");
  EXPECT_FALSE(client.session->resumed());
  EXPECT_TRUE(client.received.empty());
}

TEST_F(TlsSessionTest, ServerPrefersItsOwnAlpnOrderAndAcceptsClientsWithoutAlpn) {
  Peer both = NewPeer(ClientContext({"http/1.1", "sluice/1"}));
  Peer server = NewPeer(ServerContext());
  Connect(both, server);
  EXPECT_EQ(both.session->alpn(), "sluice/1");

  Peer http = NewPeer(ClientContext({"http/1.1"}));
  Peer server2 = NewPeer(ServerContext());
  Connect(http, server2);
  EXPECT_EQ(server2.session->alpn(), "http/1.1");

  Peer none = NewPeer(ClientContext({}));
  Peer server3 = NewPeer(ServerContext());
  Connect(none, server3);
  ASSERT_FALSE(server3.error) << server3.error->ToString();
  EXPECT_TRUE(none.session->handshake_complete());
  EXPECT_EQ(server3.session->alpn(), "");
}

TEST_F(TlsSessionTest, ExchangesMegabytePayloadsBothWays) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  Connect(client, server);
  const Bytes up = RandomBytes(1 << 20, 1);
  const Bytes down = RandomBytes(1 << 20, 2);
  ASSERT_TRUE(client.session->Send(up));
  ASSERT_TRUE(server.session->Send(down));
  Pump(client, server);
  ASSERT_FALSE(client.error) << client.error->ToString();
  ASSERT_FALSE(server.error) << server.error->ToString();
  EXPECT_TRUE(server.received == up);
  EXPECT_TRUE(client.received == down);

  // A second burst on the same sessions, after their buffers were drained.
  server.received.clear();
  client.received.clear();
  ASSERT_TRUE(client.session->Send(down));
  ASSERT_TRUE(server.session->Send(up));
  Pump(client, server);
  EXPECT_TRUE(server.received == down);
  EXPECT_TRUE(client.received == up);
}

TEST_F(TlsSessionTest, WorksWhenCiphertextArrivesOneByteAtATime) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  Connect(client, server, /*feed=*/1);
  ASSERT_TRUE(client.session->handshake_complete());
  ASSERT_TRUE(server.session->handshake_complete());
  const Bytes up = RandomBytes(40000, 3);
  const Bytes down = RandomBytes(40000, 4);
  ASSERT_TRUE(client.session->Send(up));
  ASSERT_TRUE(server.session->Send(down));
  Pump(client, server, /*feed=*/1);
  ASSERT_FALSE(client.error) << client.error->ToString();
  ASSERT_FALSE(server.error) << server.error->ToString();
  EXPECT_TRUE(server.received == up);
  EXPECT_TRUE(client.received == down);
}

TEST_F(TlsSessionTest, WrongServerKeyIsRefusedWithPinMismatch) {
  Peer client = NewPeer(ClientContext());  // pins "server"
  Peer server = NewPeer(ServerContext("other"));
  Connect(client, server);

  ASSERT_TRUE(client.error);
  EXPECT_EQ(client.error->code(), Errc::kPinMismatch);
  EXPECT_NE(client.error->message().find(Pin("server")), std::string::npos);
  EXPECT_NE(client.error->message().find(Pin("other")), std::string::npos);
  EXPECT_FALSE(client.session->handshake_complete());
  ASSERT_TRUE(server.error);  // the client's alert reached the server
  EXPECT_EQ(server.error->code(), Errc::kTls);
  // The failure is sticky.
  auto again = client.session->Send(AsBytes("x"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::kPinMismatch);
}

TEST_F(TlsSessionTest, AnyServerIsAcceptedWhenPinVerificationIsOff) {
  auto ctx = TlsContext::CreateClient({.pin = "", .verify_pin = false});
  ASSERT_TRUE(ctx);
  Peer client = NewPeer(*ctx);
  Peer server = NewPeer(ServerContext("other"));
  Connect(client, server);
  ASSERT_FALSE(client.error) << client.error->ToString();
  EXPECT_TRUE(client.session->handshake_complete());
  EXPECT_EQ(client.session->peer_pin(), Pin("other"));
}

TEST_F(TlsSessionTest, ResumesTls13SessionFromTicket) {
  auto client_ctx = ClientContext();
  auto server_ctx = ServerContext();
  Peer first = NewPeer(client_ctx);
  Peer server1 = NewPeer(server_ctx);
  Connect(first, server1);
  auto ticket = first.session->resumption_session();
  ASSERT_NE(ticket, nullptr);
  EXPECT_FALSE(first.session->resumed());

  Peer second = NewPeer(client_ctx, ticket);
  Peer server2 = NewPeer(server_ctx);
  Connect(second, server2);
  ASSERT_FALSE(second.error) << second.error->ToString();
  EXPECT_TRUE(second.session->resumed());
  EXPECT_TRUE(server2.session->resumed());
  EXPECT_EQ(second.session->protocol_version(), "TLSv1.3");
  EXPECT_EQ(second.session->peer_pin(), Pin("server"));
  EXPECT_NE(second.session->resumption_session(), nullptr);
  ASSERT_TRUE(second.session->Send(AsBytes("after resumption")));
  Pump(second, server2);
  EXPECT_EQ(Text(server2.received), "after resumption");
}

TEST_F(TlsSessionTest, Tls12OnlyClientConnectsAndResumes) {
  auto client_ctx = ClientContext();
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client_ctx->native(), TLS1_2_VERSION), 1);
  auto server_ctx = ServerContext();
  Peer first = NewPeer(client_ctx);
  Peer server1 = NewPeer(server_ctx);
  Connect(first, server1);
  ASSERT_FALSE(first.error) << first.error->ToString();
  EXPECT_EQ(first.session->protocol_version(), "TLSv1.2");
  EXPECT_EQ(server1.session->alpn(), "sluice/1");
  ASSERT_TRUE(first.session->Send(AsBytes("ping")));
  ASSERT_TRUE(server1.session->Send(AsBytes("pong")));
  Pump(first, server1);
  EXPECT_EQ(Text(server1.received), "ping");
  EXPECT_EQ(Text(first.received), "pong");

  auto ticket = first.session->resumption_session();
  ASSERT_NE(ticket, nullptr);
  Peer second = NewPeer(client_ctx, ticket);
  Peer server2 = NewPeer(server_ctx);
  Connect(second, server2);
  ASSERT_FALSE(second.error) << second.error->ToString();
  EXPECT_TRUE(second.session->resumed());
  EXPECT_TRUE(server2.session->resumed());
  EXPECT_EQ(second.session->protocol_version(), "TLSv1.2");
  EXPECT_NE(second.session->resumption_session(), nullptr);
}

// TLS 1.2 offers AEAD suites only: a client limited to CBC suites cannot connect; an AEAD one can.
TEST_F(TlsSessionTest, Tls12OffersOnlyAeadCiphers) {
  auto server_ctx = ServerContext();
  for (const char* cbc : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
                          "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"}) {
    auto client_ctx = ClientContext();
    ASSERT_EQ(SSL_CTX_set_max_proto_version(client_ctx->native(), TLS1_2_VERSION), 1);
    ASSERT_EQ(SSL_CTX_set_cipher_list(client_ctx->native(), cbc), 1) << cbc;
    Peer client = NewPeer(client_ctx);
    Peer server = NewPeer(server_ctx);
    Connect(client, server);
    EXPECT_TRUE(client.error || server.error) << cbc << " was accepted";
  }
  auto client_ctx = ClientContext();
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client_ctx->native(), TLS1_2_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_cipher_list(client_ctx->native(), "ECDHE-ECDSA-AES128-GCM-SHA256"), 1);
  Peer client = NewPeer(client_ctx);
  Peer server = NewPeer(server_ctx);
  Connect(client, server);
  ASSERT_FALSE(client.error) << client.error->ToString();
  EXPECT_EQ(client.session->protocol_version(), "TLSv1.2");
}

TEST_F(TlsSessionTest, CloseNotifySetsPeerClosedAndLaterInputIsIgnored) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  Connect(client, server);
  ASSERT_TRUE(client.session->Send(AsBytes("last words")));
  client.session->Close();
  client.session->Close();  // idempotent
  Pump(client, server);
  EXPECT_EQ(Text(server.received), "last words");
  EXPECT_TRUE(server.session->peer_closed());
  EXPECT_FALSE(client.session->peer_closed());

  auto send = client.session->Send(AsBytes("too late"));
  ASSERT_FALSE(send);
  EXPECT_EQ(send.error().code(), Errc::kClosed);

  server.received.clear();
  ASSERT_TRUE(server.session->Receive(RandomBytes(100, 5), &server.received));
  EXPECT_TRUE(server.received.empty());

  // Half-close: the server can still answer before closing its side.
  ASSERT_TRUE(server.session->Send(AsBytes("goodbye")));
  server.session->Close();
  Pump(client, server);
  EXPECT_EQ(Text(client.received), "goodbye");
  EXPECT_TRUE(client.session->peer_closed());
}

TEST_F(TlsSessionTest, HalfARecordYieldsNoPlaintextAndNoError) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  Connect(client, server);
  ASSERT_TRUE(client.session->Send(AsBytes("a complete record")));
  const Bytes record = client.session->TakeCiphertext();
  ASSERT_GT(record.size(), 2u);
  const ByteView view(record);
  const size_t half = record.size() / 2;

  Bytes plaintext;
  ASSERT_TRUE(server.session->Receive(view.first(half), &plaintext));
  EXPECT_TRUE(plaintext.empty());
  ASSERT_TRUE(server.session->Receive(view.subspan(half), &plaintext));
  EXPECT_EQ(Text(plaintext), "a complete record");
}

TEST_F(TlsSessionTest, PlaintextHttpGetsTlsErrorAndAnAlert) {
  Peer server = NewPeer(ServerContext());
  Bytes plaintext;
  auto received = server.session->Receive(AsBytes("GET / HTTP/1.1\r\n"), &plaintext);
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code(), Errc::kTls);
  EXPECT_TRUE(plaintext.empty());
  ASSERT_TRUE(server.session->HasCiphertext());
  const Bytes alert = server.session->TakeCiphertext();
  ASSERT_GE(alert.size(), 7u);
  EXPECT_EQ(alert[0], 21);  // TLS record type: alert
  EXPECT_EQ(alert[5], 2);   // level: fatal

  auto again = server.session->Receive(AsBytes("Host: x\r\n"), &plaintext);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message(), received.error().message());
}

TEST_F(TlsSessionTest, ClientOfferingOnlyUnknownAlpnIsRefused) {
  Peer client = NewPeer(ClientContext({"foo"}));
  Peer server = NewPeer(ServerContext());
  Connect(client, server);
  ASSERT_TRUE(server.error);
  EXPECT_EQ(server.error->code(), Errc::kTls);
  ASSERT_TRUE(client.error);  // got the server's no_application_protocol alert
  EXPECT_EQ(client.error->code(), Errc::kTls);
  EXPECT_NE(client.error->message().find("no application protocol"), std::string::npos)
      << client.error->message();
  EXPECT_FALSE(client.session->handshake_complete());
}

TEST_F(TlsSessionTest, DataSentBeforeTheHandshakeIsDeliveredAfterIt) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  ASSERT_TRUE(client.session->Send(AsBytes("hello ")));
  ASSERT_TRUE(client.session->Send(AsBytes("server")));
  ASSERT_TRUE(server.session->Send(AsBytes("hello client")));
  EXPECT_FALSE(server.session->HasCiphertext());  // nothing leaks before the handshake
  Connect(client, server);
  ASSERT_FALSE(client.error) << client.error->ToString();
  ASSERT_FALSE(server.error) << server.error->ToString();
  EXPECT_EQ(Text(server.received), "hello server");
  EXPECT_EQ(Text(client.received), "hello client");
}

TEST_F(TlsSessionTest, CloseBeforeTheHandshakeSendsBufferedDataThenCloseNotify) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  ASSERT_TRUE(client.session->Send(AsBytes("request")));
  client.session->Close();
  Connect(client, server);
  EXPECT_EQ(Text(server.received), "request");
  EXPECT_TRUE(server.session->peer_closed());
}

TEST_F(TlsSessionTest, ServerSessionsCannotResume) {
  Peer client = NewPeer(ClientContext());
  Peer server = NewPeer(ServerContext());
  Connect(client, server);
  auto ticket = client.session->resumption_session();
  ASSERT_NE(ticket, nullptr);
  auto refused = TlsSession::Create(ServerContext(), ticket);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::tls
