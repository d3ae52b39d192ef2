#include "server/metrics/scrape_token.h"

#include <algorithm>

#include "common/base/file_util.h"
#include "common/crypto/compare.h"
#include "common/crypto/random.h"

namespace sluice::server::metrics {
namespace {

bool ValidToken(std::string_view token) {
  return token.size() >= kMinTokenChars && token.size() <= kMaxTokenChars &&
         std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace

Result<ScrapeToken> ScrapeToken::Load(std::string path) {
  ScrapeToken token(std::move(path));
  auto text = ReadFile(token.path_);
  if (!text) {
    if (text.error().code() == Errc::kNotFound) return token;
    return Fail(text.error());
  }
  std::string value = *text;
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (!ValidToken(value)) {
    return Fail(Errc::kCorrupt,
                token.path_ + " does not hold a scrape token (" + std::to_string(kMinTokenChars) +
                    " to " + std::to_string(kMaxTokenChars) +
                    " printable characters without spaces); remove it and run `sluicectl "
                    "metrics token` to make a new one");
  }
  token.token_ = std::move(value);
  return token;
}

Result<std::string> ScrapeToken::GetOrCreate() {
  if (token_) return *token_;
  return WriteNew();
}

Result<std::string> ScrapeToken::Rotate() { return WriteNew(); }

Result<std::string> ScrapeToken::WriteNew() {
  std::string fresh = crypto::RandomHex(32);
  if (auto written = WriteFileAtomic(path_, fresh + "\n", 0600); !written) {
    return Fail(written.error());
  }
  token_ = fresh;
  return fresh;
}

bool ScrapeToken::Matches(std::string_view bearer) const {
  return token_.has_value() && crypto::ConstantTimeEquals(bearer, *token_);
}

}  // namespace sluice::server::metrics
