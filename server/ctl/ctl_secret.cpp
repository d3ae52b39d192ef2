#include "server/ctl/ctl_secret.h"

#include <iostream>

#include "common/base/file_util.h"

namespace sluice::ctl {

Result<std::string> ReadSecretFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::getline(std::cin, text);
  } else {
    auto read = ReadFile(path);
    if (!read) return Fail(read.error());
    text = std::move(*read);
  }
  if (const size_t end = text.find_first_of("\r\n"); end != std::string::npos) text.resize(end);
  if (text.empty()) return Fail(Errc::kInvalidArgument, "the secret in " + path + " is empty");
  return text;
}

Result<std::string> OptionalSecretFile(const std::string& path) {
  if (path.empty()) return std::string();
  return ReadSecretFile(path);
}

}  // namespace sluice::ctl
