// The dashboard's HTTP/1.1 on the site's TLS port (ALPN http/1.1), against a live sluiced: the
// security headers, clean errors for bad requests, keep-alive and pipelining, deadlines against
// slow clients, logins with sessions, CSRF and the failed-login throttle, commands run as the
// admin (and audited so), and the live rollout feed.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/https_client.h"
#include "tests/support/server_process.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;

constexpr char kPassword[] = "correct horse battery";

class DashboardHttpTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  std::unique_ptr<HttpsClient> Connect() {
    auto client = HttpsClient::Connect(server_.port());
    EXPECT_TRUE(client) << server_.log();
    return client;
  }

  void AddAdmin(const std::string& name) {
    json added = server_.Admin("admin-add", {{"name", name}, {"password", kPassword}});
    ASSERT_TRUE(added["ok"].get<bool>()) << added.dump();
  }

  struct Login {
    std::string cookie;  // "sluice_session=..."
    std::string csrf;
  };

  // Logs `name` in; the session's cookie and CSRF token.
  Login LogIn(HttpsClient& client, const std::string& name,
              const std::string& password = kPassword) {
    auto response =
        client.Request("POST", "/api/login", json{{"name", name}, {"password", password}}.dump());
    EXPECT_TRUE(response);
    if (!response) return {};
    EXPECT_EQ(response->status, 200) << response->body;
    if (response->status != 200 || response->set_cookies.empty()) return {};
    const std::string& set_cookie = response->set_cookies.front();
    return Login{.cookie = set_cookie.substr(0, set_cookie.find(';')),
                 .csrf = json::parse(response->body)["csrf"].get<std::string>()};
  }

  std::optional<HttpsResponse> Command(HttpsClient& client, const Login& login,
                                       const std::string& cmd, const json& args = json::object()) {
    return client.Request("POST", "/api/cmd/" + cmd, args.dump(),
                          {{"Cookie", login.cookie}, {"X-CSRF-Token", login.csrf}});
  }

  std::vector<json> AuditEvents(const std::string& event) {
    std::vector<json> found;
    json audit = server_.Admin("audit", {{"limit", 1000}});
    for (const json& row : audit["result"]["events"]) {
      if (row["event"] == event) found.push_back(row);
    }
    return found;
  }

  ServerProcess server_{{"--http-request-timeout-ms", "700"}};
};

TEST_F(DashboardHttpTest, TheAppIsServedWithStrictSecurityHeaders) {
  auto client = Connect();
  ASSERT_TRUE(client);
  auto page = client->Request("GET", "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<title>"), std::string::npos);
  const std::string csp = page->Header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(page->Header("strict-transport-security"), "max-age=31536000");
  EXPECT_EQ(page->Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page->Header("x-frame-options"), "DENY");
  // The same connection serves the next request (keep-alive), errors included.
  auto missing = client->Request("GET", "/no/such/page");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error"]["code"], "not_found");
  EXPECT_FALSE(missing->Header("content-security-policy").empty());
  auto wrong_method = client->Request("DELETE", "/api/login");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->Header("allow"), "POST");
}

TEST_F(DashboardHttpTest, PipelinedRequestsAreAnsweredInOrder) {
  auto client = Connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send(
      "GET /api/session HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  for (int status : {401, 404, 200}) {
    auto response = client->Read();
    ASSERT_TRUE(response) << status;
    EXPECT_EQ(response->status, status);
  }
  EXPECT_TRUE(client->WaitClosed());  // the last asked to close
}

TEST_F(DashboardHttpTest, BadRequestsGetCleanErrorsAndTheServerKeepsServing) {
  struct Case {
    std::string name;
    std::string bytes;
    int status;
  };
  const std::vector<Case> cases = {
      {"garbage", std::string("\x00\x01\x02 hello\r\n\r\n", 13), 400},
      {"a sluice frame", std::string("\x00\x00\x00\x05\x81\xa1t\xa1x", 9) + "\r\n\r\n", 400},
      {"long target", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"large headers", "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n", 431},
      {"large body", "POST /api/login HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413},
      {"HTTP/2 over http/1.1", "GET / HTTP/2.0\r\n\r\n", 505},
  };
  for (const Case& bad : cases) {
    auto client = Connect();
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->Send(bad.bytes)) << bad.name;
    auto response = client->Read();
    ASSERT_TRUE(response) << bad.name;
    EXPECT_EQ(response->status, bad.status) << bad.name << ": " << response->body;
    EXPECT_EQ(response->Header("connection"), "close") << bad.name;
    EXPECT_TRUE(client->WaitClosed()) << bad.name;
  }
  auto client = Connect();
  ASSERT_TRUE(client);
  auto page = client->Request("GET", "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_TRUE(server_.Admin("status")["ok"].get<bool>());
}

// Requests that once crashed the server or desynchronized the connection: an installer path
// with no ID, a body nested a hundred thousand levels deep, and a HEAD (answered without a
// body, so the next pipelined answer still parses).
TEST_F(DashboardHttpTest, HostileRequestsFromALoggedInClientAreRefusedCleanly) {
  AddAdmin("mallory");
  auto client = Connect();
  ASSERT_TRUE(client);
  Login login = LogIn(*client, "mallory");
  for (const char* path :
       {"/api/installers/msi", "/api/installers//msi", "/api/installers/a/b/msi"}) {
    auto response = client->Request("GET", path, "", {{"Cookie", login.cookie}});
    ASSERT_TRUE(response) << path << server_.log();
    EXPECT_EQ(response->status, 404) << path;
  }
  const std::string deep =
      "{\"a\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}";  // valid JSON
  auto refused = client->Request("POST", "/api/cmd/status", deep,
                                 {{"Cookie", login.cookie}, {"X-CSRF-Token", login.csrf}});
  ASSERT_TRUE(refused) << server_.log();
  EXPECT_EQ(refused->status, 400) << refused->body;
  auto deep_login = client->Request("POST", "/api/login", deep);
  ASSERT_TRUE(deep_login) << server_.log();
  EXPECT_EQ(deep_login->status, 400);
  ASSERT_TRUE(
      client->Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /api/session HTTP/1.1\r\nHost: x\r\nCookie: " +
                   login.cookie + "\r\n\r\n"));
  auto head = client->Read(10'000, /*head_only=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 405);
  EXPECT_NE(head->Header("content-length"), "0");
  auto next = client->Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200) << next->body;
  EXPECT_EQ(json::parse(next->body)["name"], "mallory");
  EXPECT_TRUE(server_.Admin("status")["ok"].get<bool>());
}

// Slowloris: headers trickled one byte at a time never finish a request; the header deadline
// (700 ms here) runs from the request's first byte, whatever arrives after it.
TEST_F(DashboardHttpTest, SlowClientsAreCutOffByTheirPhasesDeadline) {
  auto trickler = Connect();
  ASSERT_TRUE(trickler);
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  bool cut_off = false;
  const auto start = std::chrono::steady_clock::now();
  for (char c : request) {
    if (!trickler->Send(std::string(1, c))) {
      cut_off = true;
      break;
    }
    if (trickler->WaitClosed(100)) {
      cut_off = true;
      break;
    }
  }
  EXPECT_TRUE(cut_off) << "a request trickled over "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count()
                       << " ms was served";
  // A body that stops coming is cut off too.
  auto stalled = Connect();
  ASSERT_TRUE(stalled);
  ASSERT_TRUE(
      stalled->Send("POST /api/login HTTP/1.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: 100\r\n\r\n{\"name\""));
  EXPECT_TRUE(stalled->WaitClosed(5'000));
  // A kept-alive connection is fine between requests for much longer than the header deadline.
  auto idle = Connect();
  ASSERT_TRUE(idle);
  ASSERT_TRUE(idle->Request("GET", "/"));
  EXPECT_FALSE(idle->WaitClosed(1'500));
  auto again = idle->Request("GET", "/");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(DashboardHttpTest, LoginSessionCsrfAndLogout) {
  AddAdmin("alice");
  auto client = Connect();
  ASSERT_TRUE(client);
  auto anonymous = client->Request("POST", "/api/cmd/status", "{}");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);

  auto wrong = client->Request("POST", "/api/login",
                               json{{"name", "alice"}, {"password", "not it at all"}}.dump());
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_TRUE(wrong->set_cookies.empty());
  auto unknown = client->Request("POST", "/api/login",
                                 json{{"name", "mallory"}, {"password", kPassword}}.dump());
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 401);
  EXPECT_EQ(unknown->body, wrong->body);  // an unknown account looks like a wrong password

  auto response = client->Request("POST", "/api/login",
                                  json{{"name", "alice"}, {"password", kPassword}}.dump());
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  ASSERT_EQ(response->set_cookies.size(), 1u);
  const std::string& cookie = response->set_cookies[0];
  for (std::string_view attribute : {"; Secure", "; HttpOnly", "; SameSite=Strict", "; Path=/"}) {
    EXPECT_NE(cookie.find(attribute), std::string::npos) << cookie;
  }
  EXPECT_EQ(response->body.find(kPassword), std::string::npos);
  Login login{.cookie = cookie.substr(0, cookie.find(';')),
              .csrf = json::parse(response->body)["csrf"].get<std::string>()};

  auto session = client->Request("GET", "/api/session", "", {{"Cookie", login.cookie}});
  ASSERT_TRUE(session);
  EXPECT_EQ(session->status, 200);
  EXPECT_EQ(json::parse(session->body)["name"], "alice");

  // A state-changing request without the CSRF token, or with another one, is refused.
  auto no_csrf = client->Request("POST", "/api/cmd/limits-set",
                                 json{{"kind", "jump-client"}, {"max_concurrent", 7}}.dump(),
                                 {{"Cookie", login.cookie}});
  ASSERT_TRUE(no_csrf);
  EXPECT_EQ(no_csrf->status, 403);
  auto bad_csrf = client->Request("POST", "/api/cmd/limits-set",
                                  json{{"kind", "jump-client"}, {"max_concurrent", 7}}.dump(),
                                  {{"Cookie", login.cookie}, {"X-CSRF-Token", "0000"}});
  ASSERT_TRUE(bad_csrf);
  EXPECT_EQ(bad_csrf->status, 403);
  // A form post (no JSON) cannot carry a command.
  ASSERT_TRUE(client->Send("POST /api/cmd/status HTTP/1.1\r\nCookie: " + login.cookie +
                           "\r\nX-CSRF-Token: " + login.csrf +
                           "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                           "Content-Length: 3\r\n\r\na=b"));
  auto form = client->Read();
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);

  // With it, the change applies at once, exactly as sluicectl's, and the audit log names alice.
  auto changed =
      Command(*client, login, "limits-set", {{"kind", "jump-client"}, {"max_concurrent", 7}});
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->status, 200) << changed->body;
  EXPECT_EQ(json::parse(changed->body)["result"]["limits"]["jump-client"]["max_concurrent"], 7);
  EXPECT_EQ(server_.Admin("limits")["result"]["limits"]["jump-client"]["max_concurrent"], 7);
  auto limit_changes = AuditEvents("limit_change");
  ASSERT_FALSE(limit_changes.empty());
  EXPECT_NE(limit_changes.back()["detail"].get<std::string>().find("by=web:alice"),
            std::string::npos)
      << limit_changes.back().dump();

  // Errors of the command come back with their code; commands not for the web are not found.
  auto invalid =
      Command(*client, login, "limits-set", {{"kind", "toaster"}, {"max_concurrent", 1}});
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_EQ(json::parse(invalid->body)["error"]["code"], "invalid_argument");
  auto not_web = Command(*client, login, "pair-set-key", {{"key", "x"}});
  ASSERT_TRUE(not_web);
  EXPECT_EQ(not_web->status, 404);

  auto logout = client->Request("POST", "/api/logout", "{}",
                                {{"Cookie", login.cookie}, {"X-CSRF-Token", login.csrf}});
  ASSERT_TRUE(logout);
  EXPECT_EQ(logout->status, 200);
  auto after = client->Request("GET", "/api/session", "", {{"Cookie", login.cookie}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401);

  EXPECT_EQ(AuditEvents("web_login").size(), 1u);
  EXPECT_EQ(AuditEvents("web_login_failed").size(), 2u);
  EXPECT_EQ(server_.log().find(kPassword), std::string::npos);
}

TEST_F(DashboardHttpTest, RepeatedFailedLoginsAreSlowedDown) {
  AddAdmin("bob");
  auto client = Connect();
  ASSERT_TRUE(client);
  for (int i = 0; i < 5; ++i) {
    auto wrong = client->Request(
        "POST", "/api/login",
        json{{"name", "bob"}, {"password", "guess number " + std::to_string(i)}}.dump());
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << i;
  }
  // The sixth try waits, even with the right password, and is told how long.
  auto throttled =
      client->Request("POST", "/api/login", json{{"name", "bob"}, {"password", kPassword}}.dump());
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->status, 429);
  EXPECT_EQ(throttled->Header("retry-after"), "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Login login = LogIn(*client, "bob");
  EXPECT_FALSE(login.csrf.empty());
  EXPECT_EQ(AuditEvents("web_login_failed").size(), 5u);  // the refused try checked nothing
}

TEST_F(DashboardHttpTest, TheRolloutFeedShowsALimitChangeAtOnce) {
  AddAdmin("carol");
  auto client = Connect();
  ASSERT_TRUE(client);
  Login login = LogIn(*client, "carol");
  auto feed = Connect();
  ASSERT_TRUE(feed);
  ASSERT_TRUE(
      feed->Send("GET /api/events HTTP/1.1\r\nHost: x\r\nCookie: " + login.cookie + "\r\n\r\n"));
  auto head = feed->Read();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-type"), "text/event-stream");
  auto first = feed->ReadEvent();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->first, "rollout");
  json state = json::parse(first->second);
  EXPECT_TRUE(state["limits"]["limits"].contains("jump-client")) << first->second;
  EXPECT_TRUE(state.contains("time_ms"));

  auto changed =
      Command(*client, login, "limits-set", {{"kind", "jump-client"}, {"max_concurrent", 3}});
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->status, 200);
  bool seen = false;
  for (int i = 0; i < 5 && !seen; ++i) {
    auto event = feed->ReadEvent(2'000);
    ASSERT_TRUE(event);
    seen = json::parse(event->second)["limits"]["limits"]["jump-client"]["max_concurrent"] == 3;
  }
  EXPECT_TRUE(seen);
  // The feed ends with its session: after the logout it is closed at the next tick.
  auto logout = client->Request("POST", "/api/logout", "",
                                {{"Cookie", login.cookie}, {"X-CSRF-Token", login.csrf}});
  ASSERT_TRUE(logout);
  ASSERT_EQ(logout->status, 200);
  EXPECT_TRUE(feed->WaitClosed(5'000));
  // Without a session there is no feed.
  auto anonymous = Connect();
  ASSERT_TRUE(anonymous);
  auto refused = anonymous->Request("GET", "/api/events");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
}

TEST_F(DashboardHttpTest, RemovingAnAccountOrChangingItsPasswordEndsItsSessions) {
  AddAdmin("dave");
  AddAdmin("erin");
  auto client = Connect();
  ASSERT_TRUE(client);
  Login dave = LogIn(*client, "DAVE");  // names compare case-insensitively
  Login erin = LogIn(*client, "erin");
  auto session = client->Request("GET", "/api/session", "", {{"Cookie", dave.cookie}});
  ASSERT_TRUE(session);
  EXPECT_EQ(json::parse(session->body)["name"], "dave");  // the stored spelling
  ASSERT_TRUE(server_.Admin("admin-remove", {{"name", "dave"}})["ok"].get<bool>());
  ASSERT_TRUE(
      server_.Admin("admin-passwd", {{"name", "erin"}, {"password", "another long one"}})["ok"]
          .get<bool>());
  for (const Login* login : {&dave, &erin}) {
    auto after = client->Request("GET", "/api/session", "", {{"Cookie", login->cookie}});
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 401);
  }
}

TEST_F(DashboardHttpTest, MetricsNeedTheScrapeTokenAndPassPromtool) {
  auto client = Connect();
  ASSERT_TRUE(client);
  auto refused = client->Request("GET", "/metrics");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->Header("www-authenticate"), "Bearer realm=\"sluice\"");
  json token = server_.Admin("metrics-token");
  ASSERT_TRUE(token["ok"].get<bool>()) << token.dump();
  const std::string bearer = token["result"]["token"].get<std::string>();
  auto wrong =
      client->Request("GET", "/metrics", "", {{"Authorization", "Bearer " + bearer + "x"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto scraped = client->Request("GET", "/metrics", "", {{"Authorization", "Bearer " + bearer}});
  ASSERT_TRUE(scraped);
  ASSERT_EQ(scraped->status, 200) << scraped->body;
  EXPECT_EQ(scraped->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(scraped->body.find("sluice_upgrade_slots_limit{kind=\"jump-client\"}"),
            std::string::npos);
  EXPECT_NE(scraped->body.find("sluice_tls_handshakes_total"), std::string::npos);
  const std::string path = server_.data_dir() + "/scrape.txt";
  std::ofstream(path) << scraped->body;
  EXPECT_EQ(std::system(
                ("/usr/bin/promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str()),
            0)
      << FileText(path + ".out");
}

}  // namespace
}  // namespace sluice::testing
