#include "server/web/web_app.h"

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base/json_depth.h"
#include "common/base/log.h"
#include "common/crypto/compare.h"
#include "common/crypto/password_hash.h"
#include "common/crypto/random.h"
#include "server/admin/account_commands.h"
#include "server/admin/admin_server.h"
#include "server/store/admin_repo.h"
#include "server/store/audit_repo.h"
#include "server/store/store.h"
#include "server/web/web_assets.h"

namespace sluice::web {
namespace {

using nlohmann::json;

// __Host-: browsers take it only from this origin over HTTPS with Path=/ and no Domain, so
// another host under the same domain cannot plant a session cookie here.
constexpr char kSessionCookie[] = "__Host-sluice_session";
constexpr char kApiCommandPrefix[] = "/api/cmd/";
constexpr std::string_view kInstallerPrefix = "/api/installers/";

// What the dashboard may run: reading the site, and the changes an upgrade night needs. Not
// here: commands that read or write files on the server by path, restore, keys and the pair's
// key, account management (sluicectl on the server, where the data lives).
constexpr std::array<std::string_view, 25> kWebCommands = {
    "status",
    "fleet",
    "clients-page",
    "client-detail",
    "limits",
    "limits-set",
    "policy-set",
    "upgrade",
    "rollout",
    "rollout-canary",
    "rollout-resume",
    "rollout-abort",
    "audit",
    "installers",
    "installer-create",
    "installer-extend",
    "installer-delete",
    "update-check",
    "update-install",
    "update-progress",
    "updates",
    "update-download-key",
    "pair-status",
    "settings",
    "packages",
};

int StatusFor(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return 400;
    case Errc::kAuth:
      return 403;
    case Errc::kNotFound:
      return 404;
    case Errc::kAlreadyExists:
      return 409;
    case Errc::kTimeout:
    case Errc::kClosed:
      return 503;
    default:
      return 500;
  }
}

HttpResponse JsonResponse(const json& body) {
  return HttpResponse{.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

HttpResponse ErrorResponse(const Error& error) {
  return HttpResponse::Error(StatusFor(error.code()), ErrcName(error.code()), error.message());
}

// The request's JSON body, or a discarded value (not an object) when it is malformed or nested
// deeper than kMaxJsonDepth.
json ParseBody(const HttpRequest& request) {
  if (JsonNestedDeeperThan(request.body)) return json(json::value_t::discarded);
  return json::parse(request.body, nullptr, false);
}

bool IsJson(const HttpRequest& request) {
  auto type = request.Header("content-type");
  return type && type->starts_with("application/json");
}

std::string SessionCookie(const std::string& token, int64_t max_age_s) {
  return std::string(kSessionCookie) + "=" + token +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
}

// A filename safe inside a quoted Content-Disposition.
std::string SafeFilename(std::string_view path) {
  std::string name(path.substr(path.rfind('/') + 1));
  std::erase_if(name, [](char c) {
    return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
  });
  return name.empty() ? "installer.msi" : name;
}

// ID of "/api/installers/ID/msi"; nullopt for any other path (an empty ID or one with a '/').
std::optional<std::string_view> InstallerIdOf(std::string_view path) {
  constexpr std::string_view kSuffix = "/msi";
  if (!path.starts_with(kInstallerPrefix) || !path.ends_with(kSuffix)) return std::nullopt;
  if (path.size() <= kInstallerPrefix.size() + kSuffix.size()) return std::nullopt;
  std::string_view id =
      path.substr(kInstallerPrefix.size(), path.size() - kInstallerPrefix.size() - kSuffix.size());
  if (id.find('/') != std::string_view::npos) return std::nullopt;
  return id;
}

}  // namespace

WebApp::WebApp(uv::Loop& loop, WebAppServices services)
    : services_(std::move(services)),
      nobody_hash_(crypto::UnmatchablePasswordHash()),
      sessions_(*services_.clock),
      throttle_(*services_.clock),
      feed_(loop, *services_.clock,
            [this](const std::string& cmd, std::function<void(Result<json>)> done) {
              services_.admin->Run(cmd, json::object(), "web:feed", std::move(done));
            }),
      worker_(loop) {}

void WebApp::Handle(HttpRequest request, HttpResponder responder) {
  const std::string& path = request.path;
  auto route = [&](std::string_view method, auto handler) {
    if (request.method != method) {
      responder.Send(
          HttpResponse{.status = 405,
                       .body = HttpResponse::Error(405, "method_not_allowed",
                                                   request.method + " " + path + " is not served")
                                   .body,
                       .headers = {{"Allow", std::string(method)}}});
      return;
    }
    (this->*handler)(request, responder);
  };
  if (path == "/api/session") return route("GET", &WebApp::GetSession);
  if (path == "/api/login") return route("POST", &WebApp::Login);
  if (path == "/api/logout") return route("POST", &WebApp::Logout);
  if (path.starts_with(kApiCommandPrefix)) return route("POST", &WebApp::RunCommand);
  if (path == "/api/events") return route("GET", &WebApp::Events);
  if (InstallerIdOf(path)) return route("GET", &WebApp::DownloadInstaller);
  if (path == "/metrics") return route("GET", &WebApp::Metrics);
  if (FindAsset(path) != nullptr) return route("GET", &WebApp::ServeAsset);
  responder.Send(HttpResponse::Error(404, "not_found", "nothing is served at " + path));
}

void WebApp::ServeAsset(const HttpRequest& request, const HttpResponder& responder) {
  const EmbeddedAsset* asset = FindAsset(request.path);
  responder.Send(
      HttpResponse{.content_type = std::string(AssetContentType(asset->path)),
                   .body = std::string(reinterpret_cast<const char*>(asset->data), asset->size)});
}

std::optional<WebSession> WebApp::Authenticate(const HttpRequest& request,
                                               const HttpResponder& responder, bool csrf) {
  auto token = request.Cookie(kSessionCookie);
  auto session = token ? sessions_.Use(*token) : std::nullopt;
  if (!session) {
    responder.Send(HttpResponse::Error(401, "auth", "log in first (or again: the session ended)"));
    return std::nullopt;
  }
  if (csrf) {
    auto sent = request.Header("x-csrf-token");
    if (!sent || !crypto::ConstantTimeEquals(*sent, session->csrf)) {
      responder.Send(HttpResponse::Error(403, "auth", "missing or wrong X-CSRF-Token"));
      return std::nullopt;
    }
    if (!request.body.empty() && !IsJson(request)) {
      responder.Send(HttpResponse::Error(415, "invalid_argument",
                                         "the body must be Content-Type: application/json"));
      return std::nullopt;
    }
  }
  return session;
}

void WebApp::GetSession(const HttpRequest& request, const HttpResponder& responder) {
  auto session = Authenticate(request, responder, false);
  if (!session) return;
  responder.Send(JsonResponse({{"name", session->admin}, {"csrf", session->csrf}}));
}

void WebApp::Login(const HttpRequest& request, const HttpResponder& responder) {
  if (!IsJson(request)) {
    return responder.Send(HttpResponse::Error(415, "invalid_argument",
                                              "the body must be Content-Type: application/json"));
  }
  json body = ParseBody(request);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      !body.contains("password") || !body["password"].is_string()) {
    return responder.Send(
        HttpResponse::Error(400, "invalid_argument", "the body must be {\"name\", \"password\"}"));
  }
  std::string name = body["name"].get<std::string>();
  std::string password = body["password"].get<std::string>();
  const std::string address(HostOf(request.peer_address));
  // No account has a name admin-add would refuse: such a name fails at once, counted against
  // the address only, and is neither kept nor logged.
  const bool valid_name = server::CheckAdminName(name).has_value();
  if (int64_t wait_ms = throttle_.Begin(valid_name ? name : "", address); wait_ms > 0) {
    const int64_t wait_s = (wait_ms + 999) / 1000;
    HttpResponse refused =
        HttpResponse::Error(429, "auth",
                            "too many failed logins, or one being checked; try again in " +
                                std::to_string(wait_s) + " s");
    refused.headers.emplace_back("Retry-After", std::to_string(wait_s));
    return responder.Send(std::move(refused));
  }
  if (!valid_name) {
    throttle_.Release("", address);
    return FinishLogin({.name = "", .address = address, .generation = 0}, false, responder);
  }
  const Attempt attempt{.name = name, .address = address, .generation = sessions_.Generation(name)};
  // The account's hash from the store, then scrypt on the worker: neither blocks the loop. An
  // unknown account is checked against a hash of nothing, so it costs the same time.
  // An unknown account comes back as a row without a name.
  services_.store->Submit<store::AdminRow>(
      [name](db::Database& db) -> Result<store::AdminRow> {
        auto found = store::FindAdmin(db, name);
        if (!found) return Fail(found.error());
        return found->value_or(store::AdminRow{});
      },
      lifetime_.Guard([this, attempt, password = std::move(password),
                       responder](Result<store::AdminRow> account) mutable {
        if (!account) {
          throttle_.Release(attempt.name, attempt.address);
          return responder.Send(ErrorResponse(account.error()));
        }
        const bool known = !account->name.empty();
        // Sessions carry the account's stored spelling (names compare case-insensitively).
        std::string admin = known ? account->name : attempt.name;
        std::string encoded = std::move(account->password_hash);
        worker_.Run<bool>(
            [password = std::move(password), encoded = std::move(encoded),
             nobody = nobody_hash_]() -> Result<bool> {
              return crypto::VerifyPassword(password, encoded.empty() ? nobody : encoded);
            },
            lifetime_.Guard([this, attempt, admin, known, responder](Result<bool> ok) {
              throttle_.Release(attempt.name, attempt.address);
              Attempt checked = attempt;
              checked.name = admin;
              FinishLogin(checked, ok && *ok && known, responder);
            }));
      }));
}

void WebApp::FinishLogin(const Attempt& attempt, bool ok, const HttpResponder& responder) {
  const std::string& name = attempt.name;
  const std::string& address = attempt.address;
  if (!ok) {
    throttle_.RecordFailure(name, address);
    // `name` passed CheckAdminName, or is empty: nothing in it can forge a log line.
    Log("web")->warn("dashboard login failed admin=\"{}\" from={}", name, address);
    AuditLogin(store::audit_event::kWebLoginFailed,
               "name=" + json(name).dump(-1, ' ', false, json::error_handler_t::replace) +
                   " from=" + address);
    return responder.Send(HttpResponse::Error(401, "auth", "wrong name or password"));
  }
  if (sessions_.Generation(name) != attempt.generation) {
    // The password was changed, or the account removed, while this login was being checked.
    return responder.Send(
        HttpResponse::Error(401, "auth", "the account changed meanwhile; log in again"));
  }
  throttle_.RecordSuccess(name, address);
  std::string token = sessions_.Create(name);
  auto session = sessions_.Use(token);
  Log("web")->info("dashboard login admin={} from={}", name, address);
  AuditLogin(store::audit_event::kWebLogin, store::WithActor("from=" + address, "web:" + name));
  HttpResponse response = JsonResponse({{"name", name}, {"csrf", session->csrf}});
  response.headers.emplace_back("Set-Cookie", SessionCookie(token, sessions_.absolute_ms() / 1000));
  responder.Send(std::move(response));
}

void WebApp::AuditLogin(std::string event, std::string detail) {
  services_.store->Detach<void>("web: recording a login",
                                [row = store::AuditRow{.wall_ms = services_.clock->WallMs(),
                                                       .mono_ms = services_.clock->MonotonicMs(),
                                                       .event = std::move(event),
                                                       .detail = std::move(detail)}](
                                    db::Database& db) { return store::AppendAuditRow(db, row); });
}

void WebApp::Logout(const HttpRequest& request, const HttpResponder& responder) {
  if (!Authenticate(request, responder, true)) return;
  sessions_.End(*request.Cookie(kSessionCookie));
  HttpResponse response = JsonResponse(json::object());
  response.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
  responder.Send(std::move(response));
}

void WebApp::RunCommand(const HttpRequest& request, const HttpResponder& responder) {
  auto session = Authenticate(request, responder, true);
  if (!session) return;
  const std::string cmd = request.path.substr(std::string_view(kApiCommandPrefix).size());
  if (std::ranges::find(kWebCommands, cmd) == kWebCommands.end()) {
    return responder.Send(HttpResponse::Error(
        404, "not_found",
        "'" + cmd +
            "' is not a dashboard command (sluicectl runs the admin commands the "
            "dashboard does not)"));
  }
  json args = request.body.empty() ? json::object() : ParseBody(request);
  if (!args.is_object()) {
    return responder.Send(
        HttpResponse::Error(400, "invalid_argument", "the body must be a JSON object"));
  }
  if (cmd == "installer-create") args["creator"] = session->admin;
  services_.admin->Run(cmd, args, "web:" + session->admin, [responder](Result<json> result) {
    if (!result) return responder.Send(ErrorResponse(result.error()));
    responder.Send(JsonResponse({{"result", std::move(*result)}}));
  });
}

void WebApp::Events(const HttpRequest& request, const HttpResponder& responder) {
  if (!Authenticate(request, responder, false)) return;
  const std::string token(*request.Cookie(kSessionCookie));
  if (!feed_.Subscribe(responder, [this, token] { return sessions_.Peek(token).has_value(); })) {
    HttpResponse busy = HttpResponse::Error(503, "closed", "too many live views open");
    busy.headers.emplace_back("Retry-After", "5");
    responder.Send(std::move(busy));
  }
}

void WebApp::DownloadInstaller(const HttpRequest& request, const HttpResponder& responder) {
  if (!Authenticate(request, responder, false)) return;
  const std::string id(*InstallerIdOf(request.path));
  const std::string product_code = request.QueryParam("product_code").value_or("");
  services_.admin->Run(
      "installers", json::object(), "web:download",
      lifetime_.Guard([this, id, product_code, responder](Result<json> listed) {
        if (!listed) return responder.Send(ErrorResponse(listed.error()));
        std::string file;
        const json& list = (*listed)[product_code.empty() ? "installers" : "archive"];
        for (const json& entry : list) {
          if (entry.value("id", "") != id) continue;
          if (!product_code.empty() && entry.value("product_code", "") != product_code) continue;
          if (entry.value("deleted", false)) continue;
          file = entry.value("file", "");
        }
        if (file.empty()) {
          return responder.Send(HttpResponse::Error(404, "not_found", "no installer " + id));
        }
        worker_.Run<std::string>(
            [file]() -> Result<std::string> {
              std::ifstream in(file, std::ios::binary);
              std::ostringstream bytes;
              bytes << in.rdbuf();
              if (!in) return Fail(Errc::kIo, "cannot read " + file);
              return bytes.str();
            },
            [file, responder](Result<std::string> bytes) {
              if (!bytes) return responder.Send(ErrorResponse(bytes.error()));
              responder.Send(HttpResponse{
                  .content_type = "application/x-msi",
                  .body = std::move(*bytes),
                  .headers = {{"Content-Disposition",
                               "attachment; filename=\"" + SafeFilename(file) + "\""}}});
            });
      }));
}

void WebApp::Metrics(const HttpRequest& request, const HttpResponder& responder) {
  if (!services_.render_metrics || !services_.scrape_token_matches) {
    return responder.Send(HttpResponse::Error(404, "not_found", "no metrics here"));
  }
  auto authorization = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || !authorization->starts_with(kBearer) ||
      !services_.scrape_token_matches(authorization->substr(kBearer.size()))) {
    HttpResponse refused = HttpResponse::Error(
        401, "auth", "send Authorization: Bearer TOKEN (sluicectl metrics token)");
    refused.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
    return responder.Send(std::move(refused));
  }
  responder.Send(HttpResponse{.content_type = "text/plain; version=0.0.4; charset=utf-8",
                              .body = services_.render_metrics()});
}

}  // namespace sluice::web
