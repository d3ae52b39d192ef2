#pragma once
// Builds one msgpack map field by field, for the message encoders in messages.cpp.
// Not thread-safe; a writer is a short-lived local.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/bytes.h"
#include "common/proto/enums.h"

namespace sluice::proto {

class FieldWriter {
 public:
  // Each call adds one key/value pair, in call order. Keys must be unique.
  void Str(std::string_view key, std::string_view value);
  void Uint(std::string_view key, uint64_t value);
  void Bool(std::string_view key, bool value);
  void Float(std::string_view key, double value);  // always a msgpack float64
  void Bin(std::string_view key, ByteView value);
  template <typename E>
  void Enum(std::string_view key, E value) {
    Str(key, ToString(value));
  }
  // Adds a nested map whose fields `write(FieldWriter&)` writes.
  template <typename F>
  void Map(std::string_view key, F&& write) {
    FieldWriter child;
    write(child);
    Key(key);
    child.AppendMapTo(&body_);
    ++count_;
  }

  // Appends the map of every field written so far to `*out`.
  void AppendMapTo(Bytes* out) const;

 private:
  void Key(std::string_view key);

  Bytes body_;          // packed key/value pairs
  uint32_t count_ = 0;  // number of pairs in body_
};

}  // namespace sluice::proto
