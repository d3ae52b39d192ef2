#pragma once
// Test helpers: build msgpack payloads by hand (with msgpack::packer) so tests can produce
// exactly the wrong types, missing fields and odd shapes that the encoder never would.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/bytes.h"

namespace sluice::proto::testing {

using Packer = msgpack::packer<msgpack::sbuffer>;
using PackFn = std::function<void(Packer&)>;
using Fields = std::vector<std::pair<std::string, PackFn>>;

inline constexpr char kUuid[] = "3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b";

template <typename T>
inline PackFn Val(T value) {
  return [value](Packer& pk) { pk.pack(value); };
}
inline PackFn Nil() {
  return [](Packer& pk) { pk.pack_nil(); };
}

// Appends `raw` verbatim (pack_str_body writes its bytes without a header).
inline PackFn Raw(Bytes raw) {
  return [raw](Packer& pk) {
    pk.pack_str_body(reinterpret_cast<const char*>(raw.data()), static_cast<uint32_t>(raw.size()));
  };
}
// A msgpack float64 even for integral values (msgpack-c's pack_double would write an integer).
inline PackFn Float64(double value) {
  const auto bits = std::bit_cast<uint64_t>(value);
  Bytes raw = {0xCB};
  for (int shift = 56; shift >= 0; shift -= 8) raw.push_back(static_cast<uint8_t>(bits >> shift));
  return Raw(std::move(raw));
}
// A msgpack float32 even for integral values.
inline PackFn Float32(float value) {
  const auto bits = std::bit_cast<uint32_t>(value);
  Bytes raw = {0xCA};
  for (int shift = 24; shift >= 0; shift -= 8) raw.push_back(static_cast<uint8_t>(bits >> shift));
  return Raw(std::move(raw));
}

inline Bytes PackWith(const std::function<void(Packer&)>& pack) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pack(pk);
  return Bytes(buf.data(), buf.data() + buf.size());
}

inline void PackFields(Packer& pk, const Fields& fields) {
  pk.pack_map(static_cast<uint32_t>(fields.size()));
  for (const auto& [key, value] : fields) {
    pk.pack(key);
    value(pk);
  }
}

inline Bytes PackMap(const Fields& fields) {
  return PackWith([&](Packer& pk) { PackFields(pk, fields); });
}

// "v": 1 and "t": type, followed by `body`.
inline Fields Envelope(std::string_view type, Fields body) {
  Fields fields = {{"v", Val(1)}, {"t", Val(std::string(type))}};
  fields.insert(fields.end(), body.begin(), body.end());
  return fields;
}

inline Fields Without(Fields fields, const std::string& key) {
  std::erase_if(fields, [&](const auto& f) { return f.first == key; });
  return fields;
}

// `fields` with `key` set to `value` (replaced in place, or appended).
inline Fields With(Fields fields, const std::string& key, PackFn value) {
  for (auto& f : fields) {
    if (f.first == key) {
      f.second = std::move(value);
      return fields;
    }
  }
  fields.emplace_back(key, std::move(value));
  return fields;
}

// A valid checkin without stats.
inline Fields ValidCheckin() {
  return Envelope("checkin", {{"client_id", Val(std::string(kUuid))},
                              {"client_secret", Val(std::string(64, 'a'))},
                              {"kind", Val(std::string("jumpoint"))},
                              {"mode", Val(std::string("passive"))},
                              {"version", Val(std::string("24.1.3"))},
                              {"platform", Val(std::string("linux-x86_64"))}});
}

}  // namespace sluice::proto::testing
