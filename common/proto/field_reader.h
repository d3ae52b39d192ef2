#pragma once
// Reads typed fields out of one decoded msgpack map, for the message decoders in messages.cpp.
//
// Errors are sticky: the first missing or ill-typed field records
// kProtocol "field 'x' of 'type' must be <what>", every later read returns a default value, and
// Finish() reports that first error. A field whose value is nil counts as absent. Keys that no
// reader asks for are ignored. Not thread-safe; a reader is a short-lived local.

#include <cstdint>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/proto/enums.h"

namespace sluice::proto {

class FieldReader {
 public:
  // `map` must outlive the reader. `type` is the message type named in errors.
  FieldReader(const msgpack::object_map& map, std::string_view type);
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;

  // Required fields.
  std::string Str(std::string_view key);   // str of at most kMaxStringBytes
  std::string Uuid(std::string_view key);  // lowercase canonical UUID text
  uint64_t Uint(std::string_view key);
  bool Bool(std::string_view key);
  // bin of at most max_bytes (a frame bounds it anyway).
  Bytes Bin(std::string_view key, size_t max_bytes);
  double Float(std::string_view key);  // float32/64, or any integer, finite
  template <typename E>
  E Enum(std::string_view key) {
    const msgpack::object* o = Find(key);
    if (o != nullptr && o->type == msgpack::type::STR) {
      if (auto v = ParseEnum<E>(std::string_view(o->via.str.ptr, o->via.str.size))) return *v;
    }
    FieldError(key, EnumChoices<E>());
    return E{};
  }

  // Optional fields: `fallback` when absent; an error when present with the wrong type.
  std::string StrOr(std::string_view key, std::string_view fallback);
  uint64_t UintOr(std::string_view key, uint64_t fallback);
  double FloatOr(std::string_view key, double fallback);

  // Optional nested map: returns `read(child)` (a FieldReader over it, sharing this reader's
  // error) when present, T{} when absent; an error when present but not a map.
  template <typename T, typename F>
  T OptionalMap(std::string_view key, F&& read) {
    const msgpack::object* o = Find(key);
    if (o == nullptr) return T{};
    if (o->type != msgpack::type::MAP) {
      FieldError(key, "map");
      return T{};
    }
    FieldReader child(o->via.map, type_, prefix_ + std::string(key) + ".", error_);
    return read(child);
  }

  // `value` if every read so far succeeded, else the first error.
  template <typename T>
  [[nodiscard]] Result<T> Finish(T value) const {
    if (error_->has_value()) return Fail(**error_);
    return value;
  }

 private:
  FieldReader(const msgpack::object_map& map, std::string_view type, std::string prefix,
              std::optional<Error>* error);

  // The value under `key`; nullptr if absent, nil, or if an earlier read already failed.
  const msgpack::object* Find(std::string_view key) const;
  // Records "field '<prefix><key>' of '<type>' must be <what>" unless an error is recorded.
  void FieldError(std::string_view key, std::string_view what);

  const msgpack::object_map& map_;
  std::string_view type_;
  std::string prefix_;  // "stats." inside a nested map
  std::optional<Error> own_error_;
  std::optional<Error>* error_;  // &own_error_, or the parent's for a nested reader
};

// True for lowercase canonical UUID text: 8-4-4-4-12 digits of [0-9a-f].
bool IsUuidText(std::string_view text);

}  // namespace sluice::proto
