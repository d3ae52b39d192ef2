#include "server/admin/admin_protocol.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base/json_depth.h"

namespace sluice::admin {
namespace {

using nlohmann::json;

TEST(AdminProtocolTest, ParsesRequests) {
  auto request = ParseRequest(R"({"cmd":"clients","args":{"kind":"jumpoint"}})");
  ASSERT_TRUE(request) << request.error().ToString();
  EXPECT_EQ(request->cmd, "clients");
  EXPECT_EQ(request->args, json({{"kind", "jumpoint"}}));

  auto bare = ParseRequest(R"({"cmd":"status"})");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->args, json::object());
  auto null_args = ParseRequest(R"({"cmd":"status","args":null})");
  ASSERT_TRUE(null_args);
  EXPECT_EQ(null_args->args, json::object());
}

TEST(AdminProtocolTest, RejectsMalformedRequests) {
  for (const char* line :
       {"", "{", "[]", "\"status\"", R"({"args":{}})", R"({"cmd":7})", R"({"cmd":""})",
        R"({"cmd":"status","args":[1]})", R"({"cmd":"status"} trailing)"}) {
    auto request = ParseRequest(line);
    ASSERT_FALSE(request) << line;
    EXPECT_EQ(request.error().code(), Errc::kInvalidArgument) << line;
  }
}

// Nesting past kMaxJsonDepth is refused before parsing (copying it would recurse per level);
// brackets inside strings do not count, and the usual depth passes.
TEST(AdminProtocolTest, RejectsJsonNestedTooDeeply) {
  const std::string deep = R"({"cmd":"status","args":{"a":)" + std::string(100'000, '[') +
                           std::string(100'000, ']') + "}}";
  auto request = ParseRequest(deep);
  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(request.error().message().find("deeper than 32"), std::string::npos);
  const std::string brackets_in_a_string =
      R"({"cmd":"status","args":{"q":")" + std::string(1000, '[') + R"("}})";
  EXPECT_TRUE(ParseRequest(brackets_in_a_string));
  EXPECT_FALSE(JsonNestedDeeperThan(R"({"a":{"b":[{"c":[1,2]}]}})"));
  EXPECT_TRUE(JsonNestedDeeperThan("[[[", 2));
  EXPECT_FALSE(JsonNestedDeeperThan(R"(["\"[[["])", 1));  // an escaped quote stays in the string
}

TEST(AdminProtocolTest, RequestRoundTrips) {
  std::string line = EncodeRequest({.cmd = "settings-set", .args = {{"key", "a\nb"}}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line only";
  auto parsed = ParseRequest(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->cmd, "settings-set");
  EXPECT_EQ(parsed->args["key"], "a\nb");
}

TEST(AdminProtocolTest, ResponsesRoundTrip) {
  std::string ok = EncodeResponse(json({{"n", 1}}));
  EXPECT_EQ(json::parse(ok), json({{"ok", true}, {"result", {{"n", 1}}}}));
  auto result = ParseResponse(ok);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, json({{"n", 1}}));

  std::string failed = EncodeResponse(Fail(Errc::kNotFound, "no client x"));
  EXPECT_EQ(json::parse(failed),
            json({{"ok", false}, {"error", {{"code", "not_found"}, {"message", "no client x"}}}}));
  auto error = ParseResponse(failed);
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().code(), Errc::kNotFound);
  EXPECT_EQ(error.error().message(), "no client x");
}

TEST(AdminProtocolTest, InvalidUtf8DoesNotThrow) {
  std::string bad = "\xff\xfe";
  std::string line = EncodeResponse(json({{"name", bad}}));
  EXPECT_TRUE(ParseResponse(line));
  EXPECT_FALSE(EncodeResponse(Fail(Errc::kIo, bad)).empty());
}

TEST(AdminProtocolTest, MalformedResponsesAreProtocolErrors) {
  for (const char* line : {"nope", "{}", R"({"ok":"yes"})", R"({"ok":false})",
                           R"({"ok":false,"error":{"message":"m"}})"}) {
    auto response = ParseResponse(line);
    ASSERT_FALSE(response) << line;
    EXPECT_EQ(response.error().code(), Errc::kProtocol) << line;
  }
  auto unknown = ParseResponse(R"({"ok":false,"error":{"code":"weird","message":"m"}})");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::kInternal);
  EXPECT_EQ(unknown.error().message(), "weird: m");
}

TEST(AdminProtocolTest, ErrcNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(Errc::kInternal); ++i) {
    auto code = static_cast<Errc>(i);
    EXPECT_EQ(ErrcFromName(ErrcName(code)), code);
  }
  EXPECT_EQ(ErrcFromName("bogus"), std::nullopt);
}

TEST(LineReaderTest, SplitsChunksIntoLines) {
  LineReader reader(100);
  reader.Append("ab");
  EXPECT_EQ(*reader.Next(), std::nullopt);
  reader.Append("c\r\nde\nf");
  EXPECT_EQ(*reader.Next(), "abc");
  EXPECT_EQ(*reader.Next(), "de");
  EXPECT_EQ(*reader.Next(), std::nullopt);
  EXPECT_EQ(reader.buffered(), 1u);
  reader.Append("\n\n");
  EXPECT_EQ(*reader.Next(), "f");
  EXPECT_EQ(*reader.Next(), "");
}

TEST(LineReaderTest, AcceptsALineOfExactlyTheMaximum) {
  LineReader reader(10);
  reader.Append(std::string(10, 'x'));
  EXPECT_EQ(*reader.Next(), std::nullopt);
  reader.Append("\n");
  EXPECT_EQ(*reader.Next(), std::string(10, 'x'));
}

TEST(LineReaderTest, RejectsLongLinesWithOrWithoutNewline) {
  LineReader complete(10);
  complete.Append("ok\n" + std::string(11, 'x') + "\nmore\n");
  EXPECT_EQ(*complete.Next(), "ok");
  auto too_long = complete.Next();
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(complete.Next()) << "the reader stays failed";

  LineReader partial(10);
  partial.Append(std::string(6, 'x'));
  EXPECT_EQ(*partial.Next(), std::nullopt);
  partial.Append(std::string(6, 'x'));
  EXPECT_FALSE(partial.Next());
}

}  // namespace
}  // namespace sluice::admin
