#include "common/net/tls_connection.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "common/base/file_util.h"
#include "common/net/dial.h"
#include "common/tls/certificate.h"
#include "common/tls/tls_context.h"
#include "common/uv/listener.h"
#include "tests/common/uv/watchdog.h"

namespace sluice::net {
namespace {

// Records what one side of a connection sees.
struct Recorder : ConnectionHandler {
  void OnHandshake(TlsConnection&) override { handshakes++; }
  void OnMessage(TlsConnection&, proto::Message message) override {
    messages.push_back(std::move(message));
    if (on_message) on_message();
  }
  void OnClosed(TlsConnection&, std::optional<Error> why) override {
    closed++;
    close_reason = std::move(why);
    if (on_closed) on_closed();
  }
  int handshakes = 0;
  int closed = 0;
  std::vector<proto::Message> messages;
  std::optional<Error> close_reason;
  std::function<void()> on_message;
  std::function<void()> on_closed;
};

class TlsConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-tls-connection-test-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = *dir;
    ASSERT_TRUE(tls::GenerateSelfSigned(dir_ + "/s.pem", dir_ + "/s.key", "localhost"));
    auto pin = tls::PinOfCertificateFile(dir_ + "/s.pem");
    ASSERT_TRUE(pin);
    auto server_ctx =
        tls::TlsContext::CreateServer({.cert_path = dir_ + "/s.pem", .key_path = dir_ + "/s.key"});
    ASSERT_TRUE(server_ctx) << server_ctx.error().ToString();
    auto client_ctx = tls::TlsContext::CreateClient({.pin = *pin});
    ASSERT_TRUE(client_ctx) << client_ctx.error().ToString();
    server_ctx_ = *server_ctx;
    client_ctx_ = *client_ctx;

    auto listener = uv::Listener::ListenTcp(loop_, "127.0.0.1", 0, 8,
                                            [this](uv::HandlePtr<uv::Stream> stream) {
      auto session = tls::TlsSession::Create(server_ctx_);
      ASSERT_TRUE(session) << session.error().ToString();
      server_ = std::make_unique<TlsConnection>(loop_, std::move(stream), std::move(*session),
                                                ConnectionOptions{}, &server_events_);
      server_->Start();
      if (on_server) on_server();
    });
    ASSERT_TRUE(listener) << listener.error().ToString();
    listener_ = std::move(*listener);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    listener_.reset();
    (void)RemoveAll(dir_);
  }

  void Dial() {
    DialTcp(loop_, "127.0.0.1", listener_->LocalPort(), std::nullopt,
            [this](Result<uv::HandlePtr<uv::Stream>> stream) {
              ASSERT_TRUE(stream) << stream.error().ToString();
              auto session = tls::TlsSession::Create(client_ctx_);
              ASSERT_TRUE(session) << session.error().ToString();
              client_ = std::make_unique<TlsConnection>(
                  loop_, std::move(*stream), std::move(*session), ConnectionOptions{},
                  &client_events_);
              client_->Start();
              if (on_client) on_client();
            });
  }

  uv::Loop loop_;
  std::string dir_;
  std::shared_ptr<tls::TlsContext> server_ctx_;
  std::shared_ptr<tls::TlsContext> client_ctx_;
  uv::HandlePtr<uv::Listener> listener_;
  std::unique_ptr<TlsConnection> server_;
  std::unique_ptr<TlsConnection> client_;
  Recorder server_events_;
  Recorder client_events_;
  std::function<void()> on_server;
  std::function<void()> on_client;
};

TEST_F(TlsConnectionTest, ExchangesMessagesBothWays) {
  auto watchdog = uv::testing::StartWatchdog(loop_);
  on_client = [this] { client_->Send(proto::Heartbeat{.seq = 7}); };
  server_events_.on_message = [this] { server_->Send(proto::HeartbeatAck{.seq = 7}); };
  client_events_.on_message = [this] { loop_.Stop(); };
  Dial();
  loop_.Run();
  ASSERT_EQ(server_events_.messages.size(), 1u);
  EXPECT_EQ(std::get<proto::Heartbeat>(server_events_.messages[0]).seq, 7u);
  ASSERT_EQ(client_events_.messages.size(), 1u);
  EXPECT_EQ(std::get<proto::HeartbeatAck>(client_events_.messages[0]).seq, 7u);
  EXPECT_EQ(server_events_.handshakes, 1);
  EXPECT_EQ(client_events_.handshakes, 1);
}

TEST_F(TlsConnectionTest, SendErrorAndCloseDeliversTheFrameThenBothSidesClose) {
  auto watchdog = uv::testing::StartWatchdog(loop_);
  on_client = [this] { client_->Send(proto::Heartbeat{.seq = 1}); };
  server_events_.on_message = [this] {
    server_->SendErrorAndClose(proto::ErrorCode::kUnexpectedMessage, "go away");
  };
  auto both_closed = [this] {
    if (server_events_.closed == 1 && client_events_.closed == 1) loop_.Stop();
  };
  server_events_.on_closed = both_closed;
  client_events_.on_closed = both_closed;
  Dial();
  loop_.Run();
  EXPECT_EQ(server_events_.closed, 1);
  EXPECT_EQ(client_events_.closed, 1);
  ASSERT_EQ(client_events_.messages.size(), 1u);
  const auto& error = std::get<proto::ErrorMessage>(client_events_.messages[0]);
  EXPECT_EQ(error.code, proto::ErrorCode::kUnexpectedMessage);
  EXPECT_EQ(error.message, "go away");
}

TEST_F(TlsConnectionTest, IdleDeadlineClosesASilentPeer) {
  auto watchdog = uv::testing::StartWatchdog(loop_);
  on_server = [this] { server_->SetIdleDeadline(200); };
  server_events_.on_closed = [this] {
    if (client_events_.closed == 1) loop_.Stop();
  };
  client_events_.on_closed = [this] {
    if (server_events_.closed == 1) loop_.Stop();
  };
  Dial();
  loop_.Run();
  EXPECT_EQ(server_events_.closed, 1);
  ASSERT_TRUE(server_events_.close_reason.has_value());
  EXPECT_EQ(server_events_.close_reason->code(), Errc::kTimeout);
  EXPECT_EQ(client_events_.closed, 1);
}

}  // namespace
}  // namespace sluice::net
