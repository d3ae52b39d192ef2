#pragma once
// Incremental HTTP/1.1 request parsing over Debian's libhttp-parser, with the dashboard's
// limits. One parser per connection; requests come out one at a time, so a pipelining client
// is answered in order.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/web/http_message.h"

struct http_parser;

namespace sluice::web {

struct HttpLimits {
  size_t max_target_bytes = 8 << 10;   // longer request targets: 414
  size_t max_header_bytes = 16 << 10;  // all header names and values together: 431
  size_t max_headers = 64;             // 431
  size_t max_body_bytes = 1 << 20;     // 413
};

// Why the byte stream cannot go on: the status to answer with (400, 413, 414, 431, 505) and
// what was wrong. The connection closes after that answer.
struct HttpParseError {
  int status = 400;
  std::string message;
};

class HttpRequestParser {
 public:
  explicit HttpRequestParser(HttpLimits limits);
  ~HttpRequestParser();
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Parses `data` up to the end of the next complete request or the first error, and returns
  // how many bytes it consumed: the caller keeps the rest for the next call (after taking the
  // request). No call after error().
  size_t Feed(std::string_view data);
  // The request the last Feed completed, once.
  std::optional<HttpRequest> TakeRequest();
  const std::optional<HttpParseError>& error() const { return error_; }
  // True between a request's first byte and its end: the client owes us bytes.
  bool mid_request() const { return mid_request_; }
  // True once the current request's headers are complete (its body may still be coming).
  bool headers_complete() const { return headers_complete_; }

 private:
  struct Callbacks;

  int Fail(int status, std::string message);

  HttpLimits limits_;
  std::unique_ptr<http_parser> parser_;
  HttpRequest current_;
  std::string target_;
  std::string field_;           // the header name being read
  bool reading_value_ = false;  // the last header callback was a value
  size_t header_bytes_ = 0;
  bool mid_request_ = false;
  bool headers_complete_ = false;
  std::optional<HttpRequest> complete_;
  std::optional<HttpParseError> error_;
};

}  // namespace sluice::web
