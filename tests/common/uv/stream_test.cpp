#include "common/uv/stream.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "common/uv/listener.h"
#include "tests/common/uv/watchdog.h"

namespace sluice::uv {
namespace {

constexpr size_t kHighWater = 256 * 1024;

// An echo server: writes back what it reads, pausing reads while its write queue is deep.
struct EchoServer {
  void Accept(HandlePtr<Stream> accepted) {
    stream = std::move(accepted);
    Stream* s = stream.get();
    s->Start({.on_data =
                  [this, s](ByteView data) {
                    s->Write(data);
                    if (s->pending_write_bytes() > kHighWater) s->StopReading();
                  },
              .on_end = [this](std::optional<Error> why) { end = std::move(why), ended = true; },
              .on_drain = [s] { s->ResumeReading(); }});
  }
  HandlePtr<Stream> stream;
  bool ended = false;
  std::optional<Error> end;
};

Result<HandlePtr<Listener>> ListenLoopback(Loop& loop, EchoServer& server) {
  return Listener::ListenTcp(loop, "127.0.0.1", 0, 16,
                             [&server](HandlePtr<Stream> s) { server.Accept(std::move(s)); });
}

TEST(ListenerTest, PortZeroReportsTheRealPort) {
  Loop loop;
  EchoServer server;
  auto listener = ListenLoopback(loop, server);
  ASSERT_TRUE(listener.has_value()) << listener.error().message();
  EXPECT_GT((*listener)->LocalPort(), 0);
  EXPECT_EQ((*listener)->LocalAddress(), "127.0.0.1:" + std::to_string((*listener)->LocalPort()));
}

TEST(StreamTest, EchoesFourMebibytesWithBackpressure) {
  constexpr size_t kTotal = 4 * 1024 * 1024;
  constexpr size_t kChunk = 64 * 1024;
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  EchoServer server;
  auto listener = ListenLoopback(loop, server);
  ASSERT_TRUE(listener.has_value()) << listener.error().message();

  Bytes payload(kTotal);
  for (size_t i = 0; i < kTotal; ++i) payload[i] = static_cast<uint8_t>((i * 7) ^ (i >> 11));
  Bytes echoed;
  size_t sent = 0;
  size_t max_pending = 0;
  int drains = 0;
  auto client = Stream::NewTcp(loop);
  Stream* c = client.get();
  auto pump = [&] {
    while (sent < kTotal && c->pending_write_bytes() < kHighWater) {
      const size_t n = std::min(kChunk, kTotal - sent);
      c->Write(ByteView(payload).subspan(sent, n));
      sent += n;
      max_pending = std::max(max_pending, c->pending_write_bytes());
    }
  };
  auto address = ParseAddress("127.0.0.1", (*listener)->LocalPort());
  ASSERT_TRUE(address.has_value());
  c->Connect(*address, std::nullopt, [&](Status status) {
    ASSERT_TRUE(status.has_value()) << status.error().message();
    c->Start({.on_data =
                  [&](ByteView data) {
                    echoed.insert(echoed.end(), data.begin(), data.end());
                    if (echoed.size() == kTotal) loop.Stop();
                  },
              .on_end = [&](std::optional<Error>) { loop.Stop(); },
              .on_drain =
                  [&] {
                    ++drains;
                    pump();
                  }});
    pump();
  });
  loop.Run();
  EXPECT_EQ(sent, kTotal);
  EXPECT_LE(max_pending, kHighWater + kChunk);
  EXPECT_GT(drains, 0);
  ASSERT_EQ(echoed.size(), kTotal);
  EXPECT_TRUE(echoed == payload);
}

TEST(StreamTest, PeerEofEndsWithNullopt) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  EchoServer server;
  auto listener = ListenLoopback(loop, server);
  ASSERT_TRUE(listener.has_value());
  auto client = Stream::NewTcp(loop);
  auto address = ParseAddress("127.0.0.1", (*listener)->LocalPort());
  ASSERT_TRUE(address.has_value());
  const Bytes hello = {'h', 'i'};
  client->Connect(*address, std::nullopt, [&](Status status) {
    ASSERT_TRUE(status.has_value());
    client->Start({.on_data = [](ByteView) {},
                   .on_end = [&](std::optional<Error>) { loop.Stop(); },
                   .on_drain = nullptr});
    client->Write(hello);
    client->ShutdownAfterWrites();
  });
  // The server sees EOF after the echo; it then closes, and the client sees its end too.
  auto poll = Timer::Create(loop);
  poll->Start(1, 1, [&] {
    if (server.ended && server.stream) server.stream.reset();
  });
  loop.Run();
  EXPECT_TRUE(server.ended);
  EXPECT_FALSE(server.end.has_value()) << server.end->message();
}

TEST(ListenerTest, PauseDelaysAcceptsUntilResume) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  int accepted = 0;
  std::vector<HandlePtr<Stream>> streams;
  auto listener = Listener::ListenTcp(loop, "127.0.0.1", 0, 16, [&](HandlePtr<Stream> s) {
    ++accepted;
    streams.push_back(std::move(s));
  });
  ASSERT_TRUE(listener.has_value());
  (*listener)->Pause();
  auto address = ParseAddress("127.0.0.1", (*listener)->LocalPort());
  ASSERT_TRUE(address.has_value());
  std::vector<HandlePtr<Stream>> clients;
  int connected = 0;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Stream::NewTcp(loop));
    clients.back()->Connect(*address, std::nullopt, [&](Status status) {
      EXPECT_TRUE(status.has_value());
      ++connected;
    });
  }
  int accepted_while_paused = -1;
  auto check = Timer::Create(loop);
  check->Start(1, 1, [&] {
    if (accepted_while_paused < 0) {
      if (connected < 3) return;  // the kernel completed every handshake; none accepted yet
      accepted_while_paused = accepted;
      (*listener)->Resume();
    }
    if (accepted == 3) loop.Stop();
  });
  loop.Run();
  EXPECT_EQ(accepted_while_paused, 0);
  EXPECT_EQ(accepted, 3);
}

TEST(ListenerTest, ListenPipeSetsTheSocketMode) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sluice-pipe-" + std::to_string(::getpid()) + ".sock"))
                               .string();
  EchoServer server;
  auto listener = Listener::ListenPipe(loop, path, 0600,
                                       [&](HandlePtr<Stream> s) { server.Accept(std::move(s)); });
  ASSERT_TRUE(listener.has_value()) << listener.error().message();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto client = Stream::NewPipe(loop);
  Bytes got;
  client->ConnectPipe(path, [&](Status status) {
    ASSERT_TRUE(status.has_value()) << status.error().message();
    client->Start({.on_data =
                       [&](ByteView data) {
                         got.insert(got.end(), data.begin(), data.end());
                         if (got.size() == 4) loop.Stop();
                       },
                   .on_end = [&](std::optional<Error>) { loop.Stop(); },
                   .on_drain = nullptr});
    client->Write(Bytes{'p', 'i', 'n', 'g'});
  });
  loop.Run();
  EXPECT_EQ(got, (Bytes{'p', 'i', 'n', 'g'}));
  ::unlink(path.c_str());
}

TEST(ListenerTest, ListenPipeNeverDeletesANonSocketFile) {
  Loop loop;
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sluice-not-a-socket-" + std::to_string(::getpid())))
                               .string();
  { std::ofstream(path) << "precious"; }
  auto listener = Listener::ListenPipe(loop, path, 0600, [](HandlePtr<Stream>) {});
  EXPECT_FALSE(listener.has_value());
  std::ifstream in(path);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "precious");
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace sluice::uv
