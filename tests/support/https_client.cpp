#include "tests/support/https_client.h"

#include <algorithm>
#include <cctype>

namespace sluice::testing {

std::unique_ptr<HttpsClient> HttpsClient::Connect(int port) {
  auto tls = RawTlsClient::Connect(port, true, "http/1.1");
  if (!tls) return nullptr;
  auto client = std::unique_ptr<HttpsClient>(new HttpsClient());
  client->tls_ = std::move(tls);
  return client;
}

bool HttpsClient::Send(std::string_view bytes) {
  return tls_->Write(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

bool HttpsClient::Fill(int timeout_ms) {
  auto bytes = tls_->ReadBytes(timeout_ms);
  if (!bytes) return false;
  buffer_ += *bytes;
  return true;
}

std::optional<HttpsResponse> HttpsClient::Read(int timeout_ms, bool head_only) {
  size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(timeout_ms)) return std::nullopt;
  }
  std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  HttpsResponse response;
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) return std::nullopt;
  response.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::ranges::transform(name, name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "set-cookie") response.set_cookies.push_back(value);
    response.headers[name] = value;
  }
  if (head_only) return response;
  if (response.headers.contains("content-length")) {
    size_t length = std::stoul(response.headers["content-length"]);
    while (buffer_.size() < length) {
      if (!Fill(timeout_ms)) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else if (response.headers["content-type"] != "text/event-stream") {
    while (Fill(timeout_ms)) {
    }
    response.body = std::move(buffer_);
    buffer_.clear();
  }
  return response;
}

std::optional<std::pair<std::string, std::string>> HttpsClient::ReadEvent(int timeout_ms) {
  while (true) {
    size_t end;
    while ((end = buffer_.find("\n\n")) == std::string::npos) {
      if (!Fill(timeout_ms)) return std::nullopt;
    }
    std::string block = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    if (block.starts_with(":")) continue;  // a keep-alive comment
    std::pair<std::string, std::string> event;
    size_t at = 0;
    while (at < block.size()) {
      size_t line_end = block.find('\n', at);
      std::string line =
          block.substr(at, line_end == std::string::npos ? std::string::npos : line_end - at);
      at = line_end == std::string::npos ? block.size() : line_end + 1;
      if (line.starts_with("event: ")) event.first = line.substr(7);
      if (line.starts_with("data: ")) event.second = line.substr(6);
    }
    return event;
  }
}

std::optional<HttpsResponse> HttpsClient::Request(
    const std::string& method, const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (!Send(request)) return std::nullopt;
  return Read();
}

}  // namespace sluice::testing
