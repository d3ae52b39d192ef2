#pragma once
// The admin channel's wire format, shared by sluiced (AdminServer) and sluicectl (AdminClient):
// newline-delimited JSON over a Unix-domain stream socket, one request per line and exactly one
// response line per request, in request order. See docs/admin.md.
//
//   request:  {"cmd": "clients", "args": {...}}            ("args" optional, an object)
//   response: {"ok": true, "result": <any JSON>}
//             {"ok": false, "error": {"code": "<ErrcName>", "message": "..."}}

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::admin {

// Longest request line the server accepts (bytes before the '\n').
inline constexpr size_t kMaxRequestBytes = 1 << 20;
// Longest response line the client accepts; a full client list can be tens of megabytes.
inline constexpr size_t kMaxResponseBytes = 256u << 20;

struct Request {
  std::string cmd;
  nlohmann::json args = nlohmann::json::object();
};

// Parses one request line (without its '\n'). Errc::kInvalidArgument for invalid JSON, a
// non-object, a missing or non-string "cmd", or "args" present but not an object.
// Never throws.
[[nodiscard]] Result<Request> ParseRequest(std::string_view line);

// Serializes a request as one line ending in '\n'. Invalid UTF-8 in strings is replaced.
std::string EncodeRequest(const Request& request);

// Serializes a handler's outcome as one response line ending in '\n'. Never throws: invalid
// UTF-8 in strings is replaced by U+FFFD.
std::string EncodeResponse(const Result<nlohmann::json>& response);

// Parses one response line. Returns the result of an "ok" response, the server's error (its
// code mapped back through ErrcFromName, Errc::kInternal if unknown) for an error response, and
// Errc::kProtocol if the line is not a well-formed response. Never throws.
[[nodiscard]] Result<nlohmann::json> ParseResponse(std::string_view line);

// Inverse of ErrcName(); nullopt for a name no Errc has.
std::optional<Errc> ErrcFromName(std::string_view name);

// Splits a byte stream into lines. Not thread-safe; one per connection.
class LineReader {
 public:
  explicit LineReader(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  void Append(std::string_view data);
  // The next complete line without its "\n" (and without a "\r" before it), or nullopt when no
  // complete line is buffered yet. Errc::kInvalidArgument once a line grows past the maximum,
  // whether or not its newline has arrived; from then on every call returns that error.
  [[nodiscard]] Result<std::optional<std::string>> Next();
  // Bytes received but not yet returned as lines.
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  Error TooLong() const;

  size_t max_line_bytes_;
  std::string buffer_;
  size_t start_ = 0;    // first byte not yet returned
  size_t scanned_ = 0;  // bytes after start_ known to hold no '\n'
  bool too_long_ = false;
};

}  // namespace sluice::admin
