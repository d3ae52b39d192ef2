#pragma once
// Dotted numeric versions ("24.3.1"): what clients run and what the site wants them on.

#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace sluice {

class Version {
 public:
  // Accepts 1 to 4 dot-separated decimal components, each at most 9 digits.
  // Errors: kInvalidArgument naming the text.
  [[nodiscard]] static Result<Version> Parse(std::string_view text);

  const std::string& text() const { return text_; }
  const std::vector<uint32_t>& parts() const { return parts_; }

  // Missing trailing components compare as zero: 1.2 == 1.2.0.
  std::strong_ordering operator<=>(const Version& other) const;
  bool operator==(const Version& other) const { return (*this <=> other) == 0; }

 private:
  std::string text_;
  std::vector<uint32_t> parts_;
};

}  // namespace sluice
