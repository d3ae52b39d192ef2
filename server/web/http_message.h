#pragma once
// HTTP/1.1 requests and responses of the dashboard port (ALPN http/1.1 on the site's TLS port;
// docs/admin.md, "Dashboard"). Responses always carry the security headers: a strict
// Content-Security-Policy (scripts and styles only from this origin, nothing inline), HSTS,
// no-sniff, frame denial, no referrer and no caching.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::web {

// Members all have initializers, so designated initializers may omit any of them.
struct HttpRequest {
  std::string method{};  // "GET", "POST", ...
  std::string path{};    // the target before '?', not percent-decoded
  std::string query{};   // after '?', without it; empty when absent
  // Header names lowercased, in arrival order; repeated headers stay separate entries.
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  std::string peer_address{};
  bool keep_alive = true;  // the client allows another request on this connection

  // The first header named `name` (lowercase), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The value of cookie `name` from the Cookie headers, if present.
  std::optional<std::string_view> Cookie(std::string_view name) const;
  // The percent-decoded value of query parameter `name` ('+' is a space), if present.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body{};
  // Extra headers (Set-Cookie, Retry-After, Allow, Content-Disposition, ...).
  std::vector<std::pair<std::string, std::string>> headers{};

  // A JSON error body {"error": {"code", "message"}} with `status`.
  static HttpResponse Error(int status, std::string_view code, std::string_view message);
};

// The reason phrase of a status code ("Not Found"); "Unknown" for codes this server never sends.
std::string_view ReasonPhrase(int status);

// The status line and headers of `response`, ending with the blank line. `content_length` is
// the body's size, or nullopt for a body that lasts until the connection closes (an event
// stream). `keep_alive` false adds "Connection: close".
std::string SerializeHead(const HttpResponse& response, std::optional<size_t> content_length,
                          bool keep_alive);

// Percent-decodes `text` ('+' as a space when `plus_is_space`); nullopt for a bad escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace sluice::web
