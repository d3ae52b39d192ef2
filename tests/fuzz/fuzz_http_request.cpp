// Bytes on the dashboard's port (server/web/http_request_parser.h), delivered in pieces whose
// size the first byte chooses, read the way HttpSession reads them; every request that comes out
// is looked at the way WebApp looks at one, and must respect the limits it was parsed under.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base/json_depth.h"
#include "server/web/http_request_parser.h"

namespace {

// Small limits, so that the fuzzer reaches every refusal.
constexpr sluice::web::HttpLimits kLimits = {
    .max_target_bytes = 256, .max_header_bytes = 512, .max_headers = 8, .max_body_bytes = 1024};

void Check(bool holds) {
  if (!holds) std::abort();
}

void LookAt(const sluice::web::HttpRequest& request) {
  Check(request.path.size() + request.query.size() <= kLimits.max_target_bytes);
  Check(request.headers.size() <= kLimits.max_headers);
  Check(request.body.size() <= kLimits.max_body_bytes);
  (void)request.Header("content-type");
  (void)request.Cookie("__Host-sluice_session");
  (void)request.QueryParam("product_code");
  (void)sluice::JsonNestedDeeperThan(request.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  sluice::web::HttpRequestParser parser(kLimits);
  std::string buffer;
  size_t start = 0;
  for (size_t at = 0; at < input.size() && !parser.error(); at += piece) {
    buffer.append(input.substr(at, piece));
    while (!parser.error()) {
      start += parser.Feed(std::string_view(buffer).substr(start));
      auto request = parser.TakeRequest();
      if (!request) break;
      LookAt(*request);
    }
  }
  if (const auto& error = parser.error()) {
    const int status = error->status;
    Check(status == 400 || status == 413 || status == 414 || status == 431 || status == 505);
  }
  return 0;
}
