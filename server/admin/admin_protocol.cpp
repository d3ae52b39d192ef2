#include "server/admin/admin_protocol.h"

#include <utility>

#include "common/base/json_depth.h"

namespace sluice::admin {
namespace {

using nlohmann::json;

std::string DumpLine(const json& value) {
  std::string line = value.dump(-1, ' ', false, json::error_handler_t::replace);
  line += '\n';
  return line;
}

std::string Quote(std::string_view text) {
  // Short, printable excerpt for error messages.
  constexpr size_t kMax = 40;
  std::string out(text.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  if (text.size() > kMax) out += "...";
  return out;
}

}  // namespace

Result<Request> ParseRequest(std::string_view line) {
  if (JsonNestedDeeperThan(line)) {
    return Fail(Errc::kInvalidArgument,
                "request nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json value;
  try {
    value = json::parse(line);
  } catch (const json::exception& e) {
    return Fail(Errc::kInvalidArgument, std::string("request is not valid JSON: ") + e.what());
  }
  if (!value.is_object()) {
    return Fail(Errc::kInvalidArgument, "request must be a JSON object like {\"cmd\": \"status\"}");
  }
  auto cmd = value.find("cmd");
  if (cmd == value.end() || !cmd->is_string() || cmd->get_ref<const std::string&>().empty()) {
    return Fail(Errc::kInvalidArgument, "request has no \"cmd\" string");
  }
  Request request{.cmd = cmd->get<std::string>()};
  if (auto args = value.find("args"); args != value.end() && !args->is_null()) {
    if (!args->is_object()) {
      return Fail(Errc::kInvalidArgument,
                  "\"args\" of '" + Quote(request.cmd) + "' must be a JSON object");
    }
    request.args = std::move(*args);
  }
  return request;
}

std::string EncodeRequest(const Request& request) {
  return DumpLine(json{{"cmd", request.cmd}, {"args", request.args}});
}

std::string EncodeResponse(const Result<json>& response) {
  if (response) return DumpLine(json{{"ok", true}, {"result", *response}});
  const Error& error = response.error();
  return DumpLine(json{
      {"ok", false},
      {"error", {{"code", std::string(ErrcName(error.code()))}, {"message", error.message()}}}});
}

Result<json> ParseResponse(std::string_view line) {
  json value;
  try {
    value = json::parse(line);
  } catch (const json::exception& e) {
    return Fail(Errc::kProtocol, std::string("response is not valid JSON: ") + e.what());
  }
  auto ok = value.is_object() ? value.find("ok") : value.end();
  if (ok == value.end() || !ok->is_boolean()) {
    return Fail(Errc::kProtocol, "response has no \"ok\" flag: " + Quote(line));
  }
  if (ok->get<bool>()) {
    auto result = value.find("result");
    return result == value.end() ? json() : std::move(*result);
  }
  auto error = value.find("error");
  if (error == value.end() || !error->is_object()) {
    return Fail(Errc::kProtocol, "error response has no \"error\" object: " + Quote(line));
  }
  auto code = error->find("code");
  auto message = error->find("message");
  if (code == error->end() || !code->is_string()) {
    return Fail(Errc::kProtocol, "error response has no \"code\": " + Quote(line));
  }
  std::string text = message != error->end() && message->is_string() ? message->get<std::string>()
                                                                     : std::string("(no message)");
  auto errc = ErrcFromName(code->get_ref<const std::string&>());
  if (!errc) return Fail(Errc::kInternal, code->get<std::string>() + ": " + text);
  return Fail(*errc, std::move(text));
}

std::optional<Errc> ErrcFromName(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Errc::kInternal); ++i) {
    auto code = static_cast<Errc>(i);
    if (ErrcName(code) == name) return code;
  }
  return std::nullopt;
}

void LineReader::Append(std::string_view data) {
  if (too_long_) return;
  // Reclaim returned lines before growing, so the buffer stays near one line in size.
  if (start_ > 0 && (start_ == buffer_.size() || start_ >= buffer_.size() / 2)) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(data);
}

Result<std::optional<std::string>> LineReader::Next() {
  if (too_long_) return Fail(TooLong());
  size_t newline = buffer_.find('\n', start_ + scanned_);
  if (newline == std::string::npos) {
    scanned_ = buffer_.size() - start_;
    if (scanned_ > max_line_bytes_) {
      too_long_ = true;
      return Fail(TooLong());
    }
    return std::nullopt;
  }
  size_t length = newline - start_;
  if (length > max_line_bytes_) {
    too_long_ = true;
    return Fail(TooLong());
  }
  if (length > 0 && buffer_[newline - 1] == '\r') --length;
  std::string line = buffer_.substr(start_, length);
  start_ = newline + 1;
  scanned_ = 0;
  return line;
}

Error LineReader::TooLong() const {
  return Error(Errc::kInvalidArgument,
               "line longer than " + std::to_string(max_line_bytes_) + " bytes");
}

}  // namespace sluice::admin
