#pragma once
// A guard for JSON from outside (the dashboard, the admin socket, the pair link): nlohmann's
// parser accepts any nesting, but copying or comparing a value recurses once per level, so a
// body of a hundred thousand '[' would overflow the stack of whichever thread copies it. Every
// such text is checked with this before it is parsed.

#include <string_view>

namespace sluice {

// Deeper than any message of ours: commands nest three or four levels.
inline constexpr int kMaxJsonDepth = 32;

// True when `text` opens more than `limit` arrays or objects inside one another (brackets
// inside strings do not count). Linear, no allocation; malformed text is left to the parser.
inline bool JsonNestedDeeperThan(std::string_view text, int limit = kMaxJsonDepth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace sluice
