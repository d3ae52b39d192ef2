#include "common/proto/enums.h"

namespace sluice::proto {
namespace {

template <typename E>
Result<E> ParseOrFail(std::string_view text) {
  if (auto value = ParseEnum<E>(text)) return *value;
  std::string message = "unknown ";
  message += EnumTraits<E>::kWhat;
  message += " '";
  message += text;
  message += "' (expected ";
  message += EnumChoices<E>();
  message += ")";
  return Fail(Errc::kInvalidArgument, std::move(message));
}

}  // namespace

Result<ClientKind> ParseClientKind(std::string_view text) { return ParseOrFail<ClientKind>(text); }
Result<Mode> ParseMode(std::string_view text) { return ParseOrFail<Mode>(text); }
Result<ErrorCode> ParseErrorCode(std::string_view text) { return ParseOrFail<ErrorCode>(text); }
Result<UpgradeOutcome> ParseUpgradeOutcome(std::string_view text) {
  return ParseOrFail<UpgradeOutcome>(text);
}

Errc ErrcFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformedFrame:
    case ErrorCode::kUnknownType:
    case ErrorCode::kInvalidField:
    case ErrorCode::kUnexpectedMessage:
      return Errc::kProtocol;
    case ErrorCode::kFrameTooLarge:
      return Errc::kFrameTooLarge;
    case ErrorCode::kUnsupportedVersion:
      return Errc::kUnsupportedVersion;
    case ErrorCode::kAuthFailed:
    case ErrorCode::kEnrollmentRefused:
    case ErrorCode::kInstallerExpired:
    case ErrorCode::kInstallerRevoked:
    case ErrorCode::kInstallerOutdated:
    case ErrorCode::kInstallerOverrideRefused:
      return Errc::kAuth;
    case ErrorCode::kNotEnrolled:
      return Errc::kNotFound;
    case ErrorCode::kTimeout:
      return Errc::kTimeout;
    case ErrorCode::kServerBusy:
    case ErrorCode::kReconnect:
    case ErrorCode::kNotPrimary:
      return Errc::kClosed;
    case ErrorCode::kInternal:
      return Errc::kInternal;
    case ErrorCode::kLeaseUnknown:
      return Errc::kNotFound;
  }
  return Errc::kInternal;
}

}  // namespace sluice::proto
