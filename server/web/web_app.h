#pragma once
// The dashboard's routes (docs/admin.md, "Dashboard"): the embedded single-page app, a JSON API
// that runs the admin socket's own commands as the logged-in admin, the live rollout feed,
// installer downloads and the Prometheus scrape.
//
//   GET  /, /<asset>                    the app (no login needed; it asks for one)
//   GET  /api/session                   {"name", "csrf"} of the caller's session, or 401
//   POST /api/login   {"name","password"}  starts a session (cookie), or 401 / 429
//   POST /api/logout                    ends it                                  (CSRF)
//   POST /api/cmd/NAME  {args}          {"result"} of admin command NAME         (CSRF)
//   GET  /api/events                    text/event-stream of the rollout (EventFeed)
//   GET  /api/installers/ID/msi         the installer's MSI (?product_code= an archived one)
//   GET  /metrics                       Prometheus text; Authorization: Bearer SCRAPE-TOKEN
//
// Every command runs through AdminServer::Run with the actor "web:NAME", so the audit log says
// which admin changed what, exactly as for sluicectl's "local:USER".

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/clock.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/worker_thread.h"
#include "server/web/event_feed.h"
#include "server/web/http_session.h"
#include "server/web/web_sessions.h"

namespace sluice::admin {
class AdminServer;
}
namespace sluice::store {
class Store;
}

namespace sluice::web {

struct WebAppServices {
  admin::AdminServer* admin = nullptr;  // runs every command
  store::Store* store = nullptr;        // admin accounts; login audit rows
  const Clock* clock = nullptr;
  // The Prometheus scrape: whether a bearer token is the scrape token, and the exposition text.
  std::function<bool(std::string_view bearer)> scrape_token_matches{};
  std::function<std::string()> render_metrics{};
};

class WebApp final : public HttpHandler {
 public:
  WebApp(uv::Loop& loop, WebAppServices services);

  void Handle(HttpRequest request, HttpResponder responder) override;

  // Ends every session of `admin` (its account was removed or its password changed).
  void RevokeSessions(std::string_view admin) { sessions_.Revoke(admin); }
  size_t session_count() const { return sessions_.size(); }

 private:
  void ServeAsset(const HttpRequest& request, const HttpResponder& responder);
  void GetSession(const HttpRequest& request, const HttpResponder& responder);
  void Login(const HttpRequest& request, const HttpResponder& responder);
  void Logout(const HttpRequest& request, const HttpResponder& responder);
  void RunCommand(const HttpRequest& request, const HttpResponder& responder);
  void Events(const HttpRequest& request, const HttpResponder& responder);
  void DownloadInstaller(const HttpRequest& request, const HttpResponder& responder);
  void Metrics(const HttpRequest& request, const HttpResponder& responder);

  // The caller's live session; answers 401 (and returns nullopt) when there is none. With
  // `csrf`, a state-changing request must also carry the session's X-CSRF-Token (else 403).
  std::optional<WebSession> Authenticate(const HttpRequest& request, const HttpResponder& responder,
                                         bool csrf);
  // A login being checked: the name (after the check, the account's stored spelling; empty
  // for a name no account can have), the caller's host, and the account's session generation
  // when the check began.
  struct Attempt {
    std::string name;
    std::string address;
    uint64_t generation = 0;
  };
  void FinishLogin(const Attempt& attempt, bool ok, const HttpResponder& responder);
  void AuditLogin(std::string event, std::string detail);

  WebAppServices services_;
  // What an unknown account's password is checked against, so that it takes the same time.
  std::string nobody_hash_;
  WebSessions sessions_;
  LoginThrottle throttle_;
  EventFeed feed_;
  uv::WorkerThread worker_;  // password checks and file reads, off the loop
  uv::Lifetime lifetime_;
};

}  // namespace sluice::web
