#include "common/base/error.h"

namespace sluice {

std::string_view ErrcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid_argument";
    case Errc::kIo: return "io";
    case Errc::kTls: return "tls";
    case Errc::kPinMismatch: return "pin_mismatch";
    case Errc::kProtocol: return "protocol";
    case Errc::kFrameTooLarge: return "frame_too_large";
    case Errc::kUnsupportedVersion: return "unsupported_version";
    case Errc::kAuth: return "auth";
    case Errc::kNotFound: return "not_found";
    case Errc::kAlreadyExists: return "already_exists";
    case Errc::kDatabase: return "database";
    case Errc::kCrypto: return "crypto";
    case Errc::kTimeout: return "timeout";
    case Errc::kClosed: return "closed";
    case Errc::kCorrupt: return "corrupt";
    case Errc::kInternal: return "internal";
  }
  return "unknown";
}

Error Error::WithContext(std::string_view context) const {
  std::string message(context);
  message += ": ";
  message += message_;
  return Error(code_, std::move(message));
}

std::string Error::ToString() const {
  std::string out(ErrcName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace sluice
