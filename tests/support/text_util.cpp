#include "tests/support/text_util.h"

#include "common/base/file_util.h"

namespace sluice::testing {

std::string FileText(const std::string& path) {
  auto text = ReadFile(path);
  return text ? *text : std::string();
}

int CountOccurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace sluice::testing
