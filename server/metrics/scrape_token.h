#pragma once
// The Prometheus scrape token: the bearer secret `GET /metrics` must present, kept in
// DATA_DIR/keys/metrics-token (0600, one line). It is made on first use (`sluicectl metrics
// token`), never at start: until then no scrape is accepted. A rotation replaces the file and
// takes effect at once for every later Matches().
//
// Loop thread only (the admin command and the web layer both run there).

#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::server::metrics {

// What a token file may hold: 32 to 256 printable ASCII characters without spaces (the server
// writes 64 hex digits; an admin may put their own secret there while sluiced is stopped).
inline constexpr size_t kMinTokenChars = 32;
inline constexpr size_t kMaxTokenChars = 256;

class ScrapeToken {
 public:
  // Reads `path` if it exists. Errors: kCorrupt naming the file when it holds no valid token
  // (see above); kIo when it cannot be read.
  [[nodiscard]] static Result<ScrapeToken> Load(std::string path);

  // The token, made and written (0600, atomically) on the first call. Errors: kIo naming the
  // file (nothing changes).
  [[nodiscard]] Result<std::string> GetOrCreate();
  // Replaces the token with a new random one (written before it takes effect). Errors: kIo
  // naming the file (the old token stays).
  [[nodiscard]] Result<std::string> Rotate();

  // True when `bearer` is the current token. The comparison time does not depend on where the
  // two differ. Always false while no token exists.
  bool Matches(std::string_view bearer) const;
  bool exists() const { return token_.has_value(); }
  const std::string& path() const { return path_; }

 private:
  explicit ScrapeToken(std::string path) : path_(std::move(path)) {}
  [[nodiscard]] Result<std::string> WriteNew();

  std::string path_;
  std::optional<std::string> token_;
};

}  // namespace sluice::server::metrics
