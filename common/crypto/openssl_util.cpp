#include "common/crypto/openssl_util.h"

#include <openssl/err.h>

#include <array>
#include <cstdlib>
#include <string>
#include <system_error>

#include "common/base/log.h"

namespace sluice::crypto {

std::string DrainOpensslErrors() {
  std::string out;
  std::string wrappers;  // "X lib" reasons that only say which library passed an error up
  while (unsigned long code = ERR_get_error()) {
    std::string reason;
    bool wrapper = false;
    if (ERR_SYSTEM_ERROR(code)) {
      reason = std::system_category().message(ERR_GET_REASON(code));
    } else {
      const int base = ERR_GET_REASON(code) & ((1 << ERR_RFLAGS_OFFSET) - 1);
      wrapper = ERR_COMMON_ERROR(code) && base > 0 && base < 256;
      if (const char* text = ERR_reason_error_string(code)) {
        reason = text;
      } else {
        std::array<char, 256> buffer;
        ERR_error_string_n(code, buffer.data(), buffer.size());
        reason = buffer.data();
      }
    }
    std::string& target = wrapper ? wrappers : out;
    if (target.find(reason) != std::string::npos) continue;
    if (!target.empty()) target += "; ";
    target += reason;
  }
  return out.empty() ? wrappers : out;
}

Error OpensslError(Errc code, std::string_view what) {
  std::string message(what);
  if (std::string reasons = DrainOpensslErrors(); !reasons.empty()) message += ": " + reasons;
  return Error(code, std::move(message));
}

void ClearOpensslErrors() { ERR_clear_error(); }

void DieOnCryptoFailure(std::string_view what) {
  auto log = Log("crypto");
  log->critical("fatal crypto failure, aborting: {}", what);
  log->flush();
  std::abort();
}

}  // namespace sluice::crypto
