#include "server/web/http_request_parser.h"

#include <http_parser.h>

#include <algorithm>
#include <cctype>
#include <climits>

namespace sluice::web {

// libhttp-parser's C callbacks, forwarding to the parser object in `data`.
struct HttpRequestParser::Callbacks {
  static HttpRequestParser& Self(http_parser* p) {
    return *static_cast<HttpRequestParser*>(p->data);
  }

  static int OnMessageBegin(http_parser* p) {
    HttpRequestParser& self = Self(p);
    self.current_ = HttpRequest{};
    self.target_.clear();
    self.field_.clear();
    self.reading_value_ = false;
    self.header_bytes_ = 0;
    self.mid_request_ = true;
    self.headers_complete_ = false;
    return 0;
  }

  static int OnUrl(http_parser* p, const char* at, size_t length) {
    HttpRequestParser& self = Self(p);
    if (self.target_.size() + length > self.limits_.max_target_bytes) {
      return self.Fail(414, "the request target is longer than " +
                                std::to_string(self.limits_.max_target_bytes) + " bytes");
    }
    self.target_.append(at, length);
    return 0;
  }

  static int CountHeaderBytes(HttpRequestParser& self, size_t length) {
    self.header_bytes_ += length;
    if (self.header_bytes_ > self.limits_.max_header_bytes) {
      return self.Fail(431, "the request headers are larger than " +
                                std::to_string(self.limits_.max_header_bytes) + " bytes");
    }
    return 0;
  }

  static int OnHeaderField(http_parser* p, const char* at, size_t length) {
    HttpRequestParser& self = Self(p);
    if (int failed = CountHeaderBytes(self, length)) return failed;
    if (self.reading_value_ || (self.current_.headers.empty() && self.field_.empty())) {
      if (self.current_.headers.size() >= self.limits_.max_headers) {
        return self.Fail(431, "the request has more than " +
                                  std::to_string(self.limits_.max_headers) + " headers");
      }
      self.field_.clear();
      self.reading_value_ = false;
    }
    self.field_.append(at, length);
    return 0;
  }

  static int OnHeaderValue(http_parser* p, const char* at, size_t length) {
    HttpRequestParser& self = Self(p);
    if (int failed = CountHeaderBytes(self, length)) return failed;
    if (!self.reading_value_) {
      std::string name = self.field_;
      std::ranges::transform(name, name.begin(),
                             [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      self.current_.headers.emplace_back(std::move(name), std::string());
      self.reading_value_ = true;
    }
    self.current_.headers.back().second.append(at, length);
    return 0;
  }

  static int OnHeadersComplete(http_parser* p) {
    HttpRequestParser& self = Self(p);
    if (p->http_major != 1) return self.Fail(505, "only HTTP/1.x is served here");
    if (p->content_length != ULLONG_MAX && p->content_length > self.limits_.max_body_bytes) {
      return self.Fail(413, "the request body is larger than " +
                                std::to_string(self.limits_.max_body_bytes) + " bytes");
    }
    self.current_.method = http_method_str(static_cast<http_method>(p->method));
    size_t question = self.target_.find('?');
    self.current_.path = self.target_.substr(0, question);
    if (question != std::string::npos) self.current_.query = self.target_.substr(question + 1);
    self.headers_complete_ = true;
    return 0;
  }

  static int OnBody(http_parser* p, const char* at, size_t length) {
    HttpRequestParser& self = Self(p);
    if (self.current_.body.size() + length > self.limits_.max_body_bytes) {
      return self.Fail(413, "the request body is larger than " +
                                std::to_string(self.limits_.max_body_bytes) + " bytes");
    }
    self.current_.body.append(at, length);
    return 0;
  }

  static int OnMessageComplete(http_parser* p) {
    HttpRequestParser& self = Self(p);
    // An Upgrade request (WebSocket, h2c) is answered like any other, then the connection
    // closes: nothing here speaks another protocol on it.
    self.current_.keep_alive = http_should_keep_alive(p) != 0 && p->upgrade == 0;
    self.complete_ = std::move(self.current_);
    self.mid_request_ = false;
    self.headers_complete_ = false;
    http_parser_pause(p, 1);  // one request at a time: Feed returns here
    return 0;
  }

  static const http_parser_settings& Settings() {
    static const http_parser_settings settings = [] {
      http_parser_settings s;
      http_parser_settings_init(&s);
      s.on_message_begin = &OnMessageBegin;
      s.on_url = &OnUrl;
      s.on_header_field = &OnHeaderField;
      s.on_header_value = &OnHeaderValue;
      s.on_headers_complete = &OnHeadersComplete;
      s.on_body = &OnBody;
      s.on_message_complete = &OnMessageComplete;
      return s;
    }();
    return settings;
  }
};

HttpRequestParser::HttpRequestParser(HttpLimits limits)
    : limits_(limits), parser_(std::make_unique<http_parser>()) {
  http_parser_init(parser_.get(), HTTP_REQUEST);
  parser_->data = this;
}

HttpRequestParser::~HttpRequestParser() = default;

int HttpRequestParser::Fail(int status, std::string message) {
  if (!error_) error_ = HttpParseError{status, std::move(message)};
  return -1;  // an error for every callback (1 from on_headers_complete would mean "no body")
}

size_t HttpRequestParser::Feed(std::string_view data) {
  if (error_ || complete_ || data.empty()) return 0;
  size_t consumed =
      http_parser_execute(parser_.get(), &Callbacks::Settings(), data.data(), data.size());
  auto code = HTTP_PARSER_ERRNO(parser_.get());
  if (code == HPE_PAUSED) {
    http_parser_pause(parser_.get(), 0);
  } else if (code != HPE_OK && !error_) {
    // The parser's own verdicts: bad syntax, a bad method or version, a bad chunk.
    error_ = HttpParseError{400, std::string("malformed request: ") + http_errno_description(code)};
  }
  return consumed;
}

std::optional<HttpRequest> HttpRequestParser::TakeRequest() {
  return std::exchange(complete_, std::nullopt);
}

}  // namespace sluice::web
