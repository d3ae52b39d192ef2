#pragma once
// A blocking HTTPS/1.1 client for the dashboard tests: TLS with ALPN http/1.1 to 127.0.0.1, no
// certificate check, one keep-alive connection. Every read is bounded by a timeout.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/raw_tls_client.h"

namespace sluice::testing {

struct HttpsResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; the last of repeats
  std::vector<std::string> set_cookies;        // every Set-Cookie, in order
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpsClient {
 public:
  // Null if the TCP connect or the handshake fails.
  static std::unique_ptr<HttpsClient> Connect(int port);

  // Sends raw bytes (a request, part of one, or garbage).
  bool Send(std::string_view bytes);
  // Reads one response: its head, then Content-Length bytes of body, or (with no length) until
  // the connection closes; with `head_only` (the answer to a HEAD) no body. nullopt on timeout
  // or a malformed head.
  std::optional<HttpsResponse> Read(int timeout_ms = 10'000, bool head_only = false);
  // Reads an event stream's next event ("event: NAME\ndata: DATA\n\n"), skipping comments.
  std::optional<std::pair<std::string, std::string>> ReadEvent(int timeout_ms = 10'000);
  // One request with Host and (for a body) Content-Type: application/json and Content-Length.
  std::optional<HttpsResponse> Request(
      const std::string& method, const std::string& path, const std::string& body = "",
      const std::vector<std::pair<std::string, std::string>>& headers = {});
  bool WaitClosed(int timeout_ms = 10'000) { return tls_->WaitClosed(timeout_ms); }

 private:
  bool Fill(int timeout_ms);  // appends what arrives next to buffer_

  std::unique_ptr<RawTlsClient> tls_;
  std::string buffer_;
};

}  // namespace sluice::testing
