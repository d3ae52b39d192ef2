#pragma once
// Small text helpers shared by the integration tests.

#include <string>

namespace sluice::testing {

// Returns the whole content of the file at `path`, or "" if it cannot be read (a log file that
// does not exist yet reads as empty, so it can be polled).
std::string FileText(const std::string& path);

// Returns how many times `needle` (non-empty) occurs in `text`, overlapping occurrences counted.
int CountOccurrences(const std::string& text, const std::string& needle);

}  // namespace sluice::testing
