#include "server/admin/admin_server.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/base/file_util.h"
#include "server/admin/admin_protocol.h"
#include "tests/server/admin/admin_test_util.h"

namespace sluice::admin {
namespace {

using nlohmann::json;
using testing::LoopThread;
using testing::RawClient;

class AdminServerTest : public testing::AdminServerFixture {
 protected:
  void SetUp() override {
    AdminServerFixture::SetUp();
    if (HasFatalFailure()) return;
    loop_.Sync([this] { server_->Register("echo", &Echo); });
  }

  // Answers the request's args without the actor the server adds.
  static void Echo(const json& args, Reply reply) {
    json copy = args;
    copy.erase(kActorKey);
    reply(copy);
  }

  // Registers `cmd` with a handler that keeps its Reply in held_ (loop thread) unanswered.
  void RegisterHolding(const std::string& cmd) {
    loop_.Sync([this, cmd] {
      server_->Register(cmd, [this](const json&, Reply reply) { held_.push_back(reply); });
    });
  }
  size_t HeldCount() {
    size_t count = 0;
    loop_.Sync([&] { count = held_.size(); });
    return count;
  }

  static json ReadJson(RawClient& client) {
    auto line = client.ReadLine();
    if (!line) {
      ADD_FAILURE() << "no response line";
      return json();
    }
    return json::parse(*line);
  }
  static void ExpectError(const json& response, const std::string& code) {
    EXPECT_EQ(response.value("ok", true), false) << response.dump();
    EXPECT_EQ(response["error"]["code"], code) << response.dump();
    EXPECT_FALSE(response["error"]["message"].get<std::string>().empty());
  }
};

TEST_F(AdminServerTest, EchoesSeveralRequestsOnOneConnection) {
  RawClient client(path_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("{\"cmd\":\"echo\",\"args\":{\"x\":1}}\n"));
  EXPECT_EQ(ReadJson(client), json({{"ok", true}, {"result", {{"x", 1}}}}));
  ASSERT_TRUE(
      client.Send("{\"cmd\":\"echo\"}\r\n\n  \n{\"cmd\":\"echo\",\"args\":{\"y\":\"z\"}}\n"));
  // No args means {}; blank lines get no response.
  EXPECT_EQ(ReadJson(client), json({{"ok", true}, {"result", json::object()}}));
  EXPECT_EQ(ReadJson(client)["result"], json({{"y", "z"}}));
}

TEST_F(AdminServerTest, AnswersInRequestOrderWhenRepliesComeInReverse) {
  // Collects three replies, then answers them last-first from a later loop task.
  auto pending = std::make_shared<std::vector<std::pair<int, Reply>>>();
  loop_.Sync([&] {
    server_->Register("slow", [this, pending](const json& args, Reply reply) {
      pending->emplace_back(args.at("n").get<int>(), std::move(reply));
      if (pending->size() < 3) return;
      loop_.loop().Post([pending] {
        for (auto it = pending->rbegin(); it != pending->rend(); ++it) it->second(json(it->first));
      });
    });
  });
  RawClient client(path_);
  ASSERT_TRUE(
      client.Send("{\"cmd\":\"slow\",\"args\":{\"n\":0}}\n{\"cmd\":\"slow\",\"args\":{\"n\":1}}\n"
                  "{\"cmd\":\"slow\",\"args\":{\"n\":2}}\n"));
  for (int n = 0; n < 3; ++n) EXPECT_EQ(ReadJson(client)["result"], n);
}

TEST_F(AdminServerTest, ManyPipelinedAsyncRequestsAllAnsweredInOrder) {
  loop_.Sync([&] {
    server_->Register("later", [this](const json& args, Reply reply) {
      loop_.loop().Post([args, reply] { reply(args.at("n")); });
    });
  });
  constexpr int kCount = 500;  // well past the per-connection pipelining limit
  std::string batch;
  for (int n = 0; n < kCount; ++n) {
    batch += json({{"cmd", "later"}, {"args", {{"n", n}}}}).dump() + "\n";
  }
  RawClient client(path_);
  ASSERT_TRUE(client.Send(batch));
  for (int n = 0; n < kCount; ++n) ASSERT_EQ(ReadJson(client)["result"], n);
}

TEST_F(AdminServerTest, InvalidRequestsGetErrorsAndTheConnectionStaysUsable) {
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{not json\n"));
  ExpectError(ReadJson(client), "invalid_argument");
  ASSERT_TRUE(client.Send("{\"cmd\":\"no-such-command\"}\n"));
  json unknown = ReadJson(client);
  ExpectError(unknown, "invalid_argument");
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("no-such-command"),
            std::string::npos);
  ASSERT_TRUE(client.Send("{\"args\":{}}\n[1,2]\n{\"cmd\":\"echo\",\"args\":[1]}\n"));
  ExpectError(ReadJson(client), "invalid_argument");  // missing cmd
  ExpectError(ReadJson(client), "invalid_argument");  // not an object
  ExpectError(ReadJson(client), "invalid_argument");  // args not an object
  ASSERT_TRUE(client.Send("{\"cmd\":\"echo\",\"args\":{\"still\":true}}\n"));
  EXPECT_EQ(ReadJson(client)["result"], json({{"still", true}}));
}

TEST_F(AdminServerTest, OversizedLineGetsErrorAfterEarlierAnswersThenClose) {
  RawClient client(path_);
  std::string data = "{\"cmd\":\"echo\",\"args\":{\"first\":1}}\n";
  data += std::string(kMaxRequestBytes + 100, 'a');
  ASSERT_TRUE(client.Send(data));
  EXPECT_EQ(ReadJson(client)["result"], json({{"first", 1}}));
  ExpectError(ReadJson(client), "invalid_argument");
  EXPECT_TRUE(client.AtEnd());
  EXPECT_TRUE(loop_.WaitFor([&] { return server_->connection_count() == 0; }));
}

TEST_F(AdminServerTest, HandlerExceptionsBecomeErrorResponses) {
  loop_.Sync([&] {
    server_->Register("typed", [](const json& args, Reply reply) {
      reply(json(args.at("n").get<int>() + 1));  // throws for a missing or non-number n
    });
  });
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"typed\",\"args\":{\"n\":\"x\"}}\n{\"cmd\":\"typed\"}\n"));
  ExpectError(ReadJson(client), "invalid_argument");
  ExpectError(ReadJson(client), "invalid_argument");
  ASSERT_TRUE(client.Send("{\"cmd\":\"typed\",\"args\":{\"n\":41}}\n"));
  EXPECT_EQ(ReadJson(client)["result"], 42);
}

TEST_F(AdminServerTest, HandlerErrorsKeepTheirCode) {
  loop_.Sync([&] {
    server_->Register(
        "missing", [](const json&, Reply reply) { reply(Fail(Errc::kNotFound, "no client abc")); });
  });
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"missing\"}\n"));
  json response = ReadJson(client);
  ExpectError(response, "not_found");
  EXPECT_EQ(response["error"]["message"], "no client abc");
}

TEST_F(AdminServerTest, SecondReplyIsIgnored) {
  loop_.Sync([&] {
    server_->Register("twice", [](const json&, Reply reply) {
      reply(json("first"));
      reply(json("second"));
    });
  });
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"twice\"}\n{\"cmd\":\"echo\",\"args\":{\"e\":1}}\n"));
  EXPECT_EQ(ReadJson(client)["result"], "first");
  EXPECT_EQ(ReadJson(client)["result"], json({{"e", 1}}));
}

TEST_F(AdminServerTest, ReplyFromAnotherThreadIsDelivered) {
  std::thread worker;
  loop_.Sync([&] {
    server_->Register("threaded", [&worker](const json&, Reply reply) {
      worker = std::thread([reply] { reply(json("from worker")); });
    });
  });
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"threaded\"}\n"));
  EXPECT_EQ(ReadJson(client)["result"], "from worker");
  std::thread joined;
  loop_.Sync([&] { joined = std::move(worker); });
  if (joined.joinable()) joined.join();
}

TEST_F(AdminServerTest, ReplyAfterClientLeftIsHarmless) {
  RegisterHolding("hold");
  {
    RawClient client(path_);
    ASSERT_TRUE(client.Send("{\"cmd\":\"hold\"}\n"));
    ASSERT_TRUE(loop_.WaitFor([&] { return held_.size() == 1; }));
  }
  ASSERT_TRUE(loop_.WaitFor([&] { return server_->connection_count() == 0; }));
  loop_.Sync([&] { held_[0](json("late")); });
  // The server still serves new connections.
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"echo\",\"args\":{\"ok\":1}}\n"));
  EXPECT_EQ(ReadJson(client)["result"], json({{"ok", 1}}));
}

TEST_F(AdminServerTest, StopWithAClientConnected) {
  RegisterHolding("hold");
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"hold\"}\n"));
  ASSERT_TRUE(loop_.WaitFor([&] { return held_.size() == 1; }));
  loop_.Sync([&] {
    server_->Stop();
    server_->Stop();  // idempotent
  });
  EXPECT_TRUE(client.AtEnd());
  loop_.Sync([&] { held_[0](json("after stop")); });  // dropped, no crash
  struct stat st {};
  EXPECT_NE(::stat(path_.c_str(), &st), 0) << "socket file left behind";
  RawClient refused(path_);
  EXPECT_FALSE(refused.connected());
  // Replies outliving the server itself are harmless too.
  loop_.Sync([&] {
    server_.reset();
    held_[0](json("after destruction"));
  });
}

TEST_F(AdminServerTest, EveryRequestCarriesThePeersUserWhatever_actorItSends) {
  loop_.Sync([this] {
    server_->Register("whoami", [](const json& args, Reply reply) { reply(ActorOf(args)); });
  });
  const passwd* entry = ::getpwuid(::getuid());
  ASSERT_NE(entry, nullptr);
  RawClient client(path_);
  ASSERT_TRUE(client.Send(R"({"cmd":"whoami"})"
                          "\n"
                          R"({"cmd":"whoami","args":{"_actor":"web:admin"}})"
                          "\n"));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(ReadJson(client),
              json({{"ok", true}, {"result", std::string("local:") + entry->pw_name}}));
  }
  EXPECT_EQ(ActorOf(json{{"_actor", 5}}), "");
  EXPECT_EQ(ActorOf(json::array()), "");
  EXPECT_EQ(CleanActor("web:a b;c\n"), "web:a?b?c?");
  EXPECT_EQ(CleanActor(std::string(300, 'x')).size(), 128u);
}

TEST_F(AdminServerTest, SocketIsOwnerOnly) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/run").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(AdminServerTest, RefusesASocketAnotherServerServes) {
  loop_.Sync([&] {
    auto second = AdminServer::Start(loop_.loop(), path_);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), Errc::kAlreadyExists);
  });
  // The first server is unaffected.
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"echo\"}\n"));
  EXPECT_EQ(ReadJson(client)["ok"], true);
}

TEST_F(AdminServerTest, ReplacesAStaleSocketFile) {
  loop_.Sync([&] { server_.reset(); });
  // A socket file nobody listens on, as a crashed server leaves behind.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::close(fd);
  }
  loop_.Sync([&] {
    auto server = AdminServer::Start(loop_.loop(), path_);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    server_->Register("echo", &Echo);
  });
  RawClient client(path_);
  ASSERT_TRUE(client.Send("{\"cmd\":\"echo\"}\n"));
  EXPECT_EQ(ReadJson(client)["ok"], true);
}

TEST_F(AdminServerTest, RejectsAPathTooLongForAUnixSocket) {
  const std::string long_path = dir_ + "/" + std::string(120, 'x') + ".sock";
  loop_.Sync([&] {
    auto server = AdminServer::Start(loop_.loop(), long_path);
    ASSERT_FALSE(server);
    EXPECT_EQ(server.error().code(), Errc::kInvalidArgument);
  });
}

}  // namespace
}  // namespace sluice::admin
