#include "server/web/http_request_parser.h"

#include <gtest/gtest.h>

namespace sluice::web {
namespace {

// Feeds `bytes` in pieces of `step` bytes, the way a socket may deliver them, and returns the
// requests that came out (stopping at an error).
std::vector<HttpRequest> FeedInSteps(HttpRequestParser& parser, std::string_view bytes,
                                     size_t step) {
  std::vector<HttpRequest> requests;
  std::string pending;
  for (size_t at = 0; at < bytes.size(); at += step) {
    pending += bytes.substr(at, step);
    while (!pending.empty()) {
      size_t used = parser.Feed(pending);
      pending.erase(0, used);
      if (auto request = parser.TakeRequest()) {
        requests.push_back(std::move(*request));
        continue;
      }
      if (parser.error() || used == 0) break;
    }
    if (parser.error()) break;
  }
  return requests;
}

TEST(HttpRequestParserTest, ParsesARequestDeliveredOneByteAtATime) {
  constexpr std::string_view kRequest =
      "POST /api/cmd/limits-set?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "X-CSRF-Token: abc\r\nContent-Length: 11\r\n\r\n{\"kind\":1}\n";
  for (size_t step : {size_t{1}, size_t{7}, kRequest.size()}) {
    HttpRequestParser parser(HttpLimits{});
    auto requests = FeedInSteps(parser, kRequest, step);
    ASSERT_EQ(requests.size(), 1u) << "step " << step;
    const HttpRequest& request = requests[0];
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/api/cmd/limits-set");
    EXPECT_EQ(request.query, "x=1");
    EXPECT_EQ(request.Header("x-csrf-token"), "abc");  // names lowercased
    EXPECT_EQ(request.Header("content-type"), "application/json");
    EXPECT_EQ(request.body, "{\"kind\":1}\n");
    EXPECT_TRUE(request.keep_alive);
    EXPECT_FALSE(parser.mid_request());
  }
}

TEST(HttpRequestParserTest, PipelinedRequestsComeOutOneAtATimeInOrder) {
  HttpRequestParser parser(HttpLimits{});
  std::string bytes =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  size_t used = parser.Feed(bytes);
  auto first = parser.TakeRequest();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->path, "/a");
  EXPECT_LT(used, bytes.size());  // the second request waits for the first's answer
  EXPECT_EQ(parser.Feed(std::string_view(bytes).substr(used)), bytes.size() - used);
  auto second = parser.TakeRequest();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->path, "/b");
  EXPECT_FALSE(second->keep_alive);
}

TEST(HttpRequestParserTest, AChunkedBodyIsJoined) {
  HttpRequestParser parser(HttpLimits{});
  auto requests = FeedInSteps(parser,
                              "POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                              "\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                              5);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, "abcde");
}

TEST(HttpRequestParserTest, HttpOneZeroClosesUnlessItAsksToKeepAlive) {
  HttpRequestParser closing(HttpLimits{});
  auto one = FeedInSteps(closing, "GET / HTTP/1.0\r\n\r\n", 100);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_FALSE(one[0].keep_alive);
  HttpRequestParser kept(HttpLimits{});
  auto two = FeedInSteps(kept, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 100);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_TRUE(two[0].keep_alive);
}

struct Refusal {
  std::string name;
  std::string bytes;
  int status;
};

TEST(HttpRequestParserTest, BadRequestsGetTheirStatus) {
  HttpLimits limits{
      .max_target_bytes = 64, .max_header_bytes = 256, .max_headers = 4, .max_body_bytes = 16};
  const std::vector<Refusal> cases = {
      {"garbage", "\x16\x03\x01 not http at all\r\n\r\n", 400},
      {"http/0.9", "GET /\r\n\r\n", 505},
      {"long target", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"large headers", "GET / HTTP/1.1\r\nX: " + std::string(300, 'b') + "\r\n\r\n", 431},
      {"many headers", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431},
      {"large body", "POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", 413},
      {"large chunked body",
       "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + std::string(16, 'c') +
           "\r\n1\r\nd\r\n0\r\n\r\n",
       413},
      {"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
      {"http/2", "GET / HTTP/2.0\r\n\r\n", 505},
      {"bad content-length", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
  };
  for (const Refusal& refusal : cases) {
    HttpRequestParser parser(limits);
    auto requests = FeedInSteps(parser, refusal.bytes, 3);
    EXPECT_TRUE(requests.empty()) << refusal.name;
    ASSERT_TRUE(parser.error()) << refusal.name;
    EXPECT_EQ(parser.error()->status, refusal.status)
        << refusal.name << ": " << parser.error()->message;
    EXPECT_FALSE(parser.error()->message.empty()) << refusal.name;
  }
}

TEST(HttpRequestParserTest, AnUnfinishedRequestIsMidRequestUntilItsLastByte) {
  HttpRequestParser parser(HttpLimits{});
  EXPECT_FALSE(parser.mid_request());
  parser.Feed("GET / HT");
  EXPECT_TRUE(parser.mid_request());
  EXPECT_FALSE(parser.headers_complete());
  parser.Feed("TP/1.1\r\nContent-Length: 4\r\n\r\nab");
  EXPECT_TRUE(parser.headers_complete());
  EXPECT_FALSE(parser.TakeRequest());
  parser.Feed("cd");
  auto request = parser.TakeRequest();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->body, "abcd");
  EXPECT_FALSE(parser.mid_request());
}

TEST(HttpRequestTest, CookiesQueryParametersAndDecoding) {
  HttpRequest request{
      .query = "q=a%20b+c&empty=&flag&bad=%zz",
      .headers = {{"cookie", "a=1; sluice_session=tok ; b=2"}, {"cookie", "late=3"}}};
  EXPECT_EQ(request.Cookie("sluice_session"), "tok");
  EXPECT_EQ(request.Cookie("late"), "3");
  EXPECT_FALSE(request.Cookie("missing"));
  EXPECT_EQ(request.QueryParam("q"), "a b c");
  EXPECT_EQ(request.QueryParam("empty"), "");
  EXPECT_EQ(request.QueryParam("flag"), "");
  EXPECT_FALSE(request.QueryParam("bad"));  // a bad escape is no value
  EXPECT_FALSE(request.QueryParam("nope"));
  EXPECT_EQ(PercentDecode("%41%2f", false), "A/");
  EXPECT_FALSE(PercentDecode("%4", false));
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
}

TEST(HttpResponseTest, EveryHeadCarriesTheSecurityHeaders) {
  HttpResponse response{.status = 404, .body = "x", .headers = {{"Allow", "GET"}}};
  std::string head = SerializeHead(response, 1, false);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 404 Not Found\r\n")) << head;
  for (std::string_view header :
       {"Content-Length: 1\r\n", "Connection: close\r\n", "Allow: GET\r\n",
        "Content-Security-Policy: default-src 'none'; script-src 'self';",
        "Strict-Transport-Security: max-age=", "X-Content-Type-Options: nosniff\r\n",
        "X-Frame-Options: DENY\r\n", "Cache-Control: no-store\r\n"}) {
    EXPECT_NE(head.find(header), std::string::npos) << header << " missing from\n" << head;
  }
  EXPECT_TRUE(head.ends_with("\r\n\r\n"));
  EXPECT_EQ(SerializeHead(response, std::nullopt, true).find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace sluice::web
