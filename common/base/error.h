#pragma once
// Error handling for all of Sluice: every fallible call returns Result<T>.
// Exceptions from third-party libraries are caught at their boundary and become an Error.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace sluice {

// Broad classes of failure. Callers branch on the code; humans read the message.
enum class Errc {
  kInvalidArgument,  // caller passed something unusable (bad flag, bad config value)
  kIo,               // file system or socket failure
  kTls,              // handshake or record-layer failure
  kPinMismatch,      // peer certificate does not match the pinned key
  kProtocol,         // peer broke the protocol (malformed frame, wrong type, bad state)
  kFrameTooLarge,    // a frame announced a length over the configured maximum
  kUnsupportedVersion,
  kAuth,             // wrong enrollment key or client secret
  kNotFound,
  kAlreadyExists,
  kDatabase,
  kCrypto,
  kTimeout,
  kClosed,           // the peer or the component is gone
  kCorrupt,          // stored or received data fails its integrity check
  kInternal,
};

std::string_view ErrcName(Errc code);

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message", for callers that add where it failed.
  Error WithContext(std::string_view context) const;
  // "code_name: message", for logs and command-line output.
  std::string ToString() const;

 private:
  Errc code_;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> Fail(Errc code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}
inline std::unexpected<Error> Fail(Error error) { return std::unexpected<Error>(std::move(error)); }

// Propagates an error with added context; used as `return Context(r.error(), "opening db")`.
inline std::unexpected<Error> Context(const Error& error, std::string_view context) {
  return std::unexpected<Error>(error.WithContext(context));
}

}  // namespace sluice
