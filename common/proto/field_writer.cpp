#include "common/proto/field_writer.h"

#include <bit>
#include <msgpack.hpp>

namespace sluice::proto {
namespace {

// The minimal msgpack output stream: appends to a Bytes.
class BytesSink {
 public:
  explicit BytesSink(Bytes* out) : out_(out) {}
  void write(const char* data, size_t size) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(data);
    out_->insert(out_->end(), bytes, bytes + size);
  }

 private:
  Bytes* out_;
};

void PackStr(std::string_view s, Bytes* out) {
  BytesSink sink(out);
  msgpack::packer<BytesSink> packer(sink);
  packer.pack_str(static_cast<uint32_t>(s.size()));
  packer.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

}  // namespace

void FieldWriter::Key(std::string_view key) { PackStr(key, &body_); }

void FieldWriter::Str(std::string_view key, std::string_view value) {
  Key(key);
  PackStr(value, &body_);
  ++count_;
}

void FieldWriter::Uint(std::string_view key, uint64_t value) {
  Key(key);
  BytesSink sink(&body_);
  msgpack::packer<BytesSink>(sink).pack_uint64(value);
  ++count_;
}

void FieldWriter::Bool(std::string_view key, bool value) {
  Key(key);
  BytesSink sink(&body_);
  msgpack::packer<BytesSink> packer(sink);
  if (value) {
    packer.pack_true();
  } else {
    packer.pack_false();
  }
  ++count_;
}

// Written by hand: msgpack-c 4.x pack_double() emits an integer for integral values, and the
// protocol promises a float64 on the wire.
void FieldWriter::Float(std::string_view key, double value) {
  Key(key);
  const auto bits = std::bit_cast<uint64_t>(value);
  body_.push_back(0xCB);
  for (int shift = 56; shift >= 0; shift -= 8) body_.push_back(static_cast<uint8_t>(bits >> shift));
  ++count_;
}

void FieldWriter::Bin(std::string_view key, ByteView value) {
  Key(key);
  BytesSink sink(&body_);
  msgpack::packer<BytesSink> packer(sink);
  packer.pack_bin(static_cast<uint32_t>(value.size()));
  packer.pack_bin_body(reinterpret_cast<const char*>(value.data()),
                       static_cast<uint32_t>(value.size()));
  ++count_;
}

void FieldWriter::AppendMapTo(Bytes* out) const {
  BytesSink sink(out);
  msgpack::packer<BytesSink>(sink).pack_map(count_);
  out->insert(out->end(), body_.begin(), body_.end());
}

}  // namespace sluice::proto
