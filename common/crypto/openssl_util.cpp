#include "common/crypto/openssl_util.h"

#include <openssl/err.h>

#include <cstdlib>
#include <string>

#include "common/base/log.h"

namespace sluice::crypto {

Error OpensslError(Errc code, std::string_view what) {
  std::string message(what);
  unsigned long first = ERR_get_error();
  if (first != 0) {
    char reason[256];
    ERR_error_string_n(first, reason, sizeof(reason));
    message += ": ";
    message += reason;
  }
  ERR_clear_error();
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
