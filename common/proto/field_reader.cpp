#include "common/proto/field_reader.h"

#include <cmath>

#include "common/proto/messages.h"

namespace sluice::proto {
namespace {

constexpr std::string_view kUuidWhat = "a lowercase UUID (8-4-4-4-12 hex digits)";

std::string StrWhat() { return "str of at most " + std::to_string(kMaxStringBytes) + " bytes"; }

std::optional<std::string_view> AsStr(const msgpack::object& o) {
  if (o.type != msgpack::type::STR || o.via.str.size > kMaxStringBytes) return std::nullopt;
  return std::string_view(o.via.str.ptr, o.via.str.size);
}

std::optional<uint64_t> AsUint(const msgpack::object& o) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
  return o.via.u64;
}

std::optional<double> AsFloat(const msgpack::object& o) {
  double value = 0;
  switch (o.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      value = o.via.f64;
      break;
    case msgpack::type::POSITIVE_INTEGER:
      value = static_cast<double>(o.via.u64);
      break;
    case msgpack::type::NEGATIVE_INTEGER:
      value = static_cast<double>(o.via.i64);
      break;
    default:
      return std::nullopt;
  }
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

bool IsUuidText(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

FieldReader::FieldReader(const msgpack::object_map& map, std::string_view type)
    : map_(map), type_(type), error_(&own_error_) {}

FieldReader::FieldReader(const msgpack::object_map& map, std::string_view type, std::string prefix,
                         std::optional<Error>* error)
    : map_(map), type_(type), prefix_(std::move(prefix)), error_(error) {}

const msgpack::object* FieldReader::Find(std::string_view key) const {
  if (error_->has_value()) return nullptr;
  for (uint32_t i = 0; i < map_.size; ++i) {
    const msgpack::object_kv& kv = map_.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
      return kv.val.type == msgpack::type::NIL ? nullptr : &kv.val;
    }
  }
  return nullptr;
}

void FieldReader::FieldError(std::string_view key, std::string_view what) {
  if (error_->has_value()) return;
  std::string message = "field '";
  message += prefix_;
  message += key;
  message += "' of '";
  message += type_;
  message += "' must be ";
  message += what;
  error_->emplace(Errc::kProtocol, std::move(message));
}

std::string FieldReader::Str(std::string_view key) {
  const msgpack::object* o = Find(key);
  if (o != nullptr) {
    if (auto s = AsStr(*o)) return std::string(*s);
  }
  FieldError(key, StrWhat());
  return {};
}

Bytes FieldReader::Bin(std::string_view key, size_t max_bytes) {
  const msgpack::object* o = Find(key);
  if (o != nullptr && o->type == msgpack::type::BIN && o->via.bin.size <= max_bytes) {
    const auto* data = reinterpret_cast<const uint8_t*>(o->via.bin.ptr);
    return Bytes(data, data + o->via.bin.size);
  }
  FieldError(key, "bin of at most " + std::to_string(max_bytes) + " bytes");
  return {};
}

std::string FieldReader::Uuid(std::string_view key) {
  const msgpack::object* o = Find(key);
  if (o != nullptr) {
    if (auto s = AsStr(*o); s && IsUuidText(*s)) return std::string(*s);
  }
  FieldError(key, kUuidWhat);
  return {};
}

uint64_t FieldReader::Uint(std::string_view key) {
  const msgpack::object* o = Find(key);
  if (o != nullptr) {
    if (auto v = AsUint(*o)) return *v;
  }
  FieldError(key, "uint");
  return 0;
}

bool FieldReader::Bool(std::string_view key) {
  const msgpack::object* o = Find(key);
  if (o != nullptr && o->type == msgpack::type::BOOLEAN) return o->via.boolean;
  FieldError(key, "bool");
  return false;
}

double FieldReader::Float(std::string_view key) {
  const msgpack::object* o = Find(key);
  if (o != nullptr) {
    if (auto v = AsFloat(*o)) return *v;
  }
  FieldError(key, "float64");
  return 0;
}

std::string FieldReader::StrOr(std::string_view key, std::string_view fallback) {
  const msgpack::object* o = Find(key);
  if (o == nullptr) return std::string(fallback);
  if (auto s = AsStr(*o)) return std::string(*s);
  FieldError(key, StrWhat());
  return {};
}

uint64_t FieldReader::UintOr(std::string_view key, uint64_t fallback) {
  const msgpack::object* o = Find(key);
  if (o == nullptr) return fallback;
  if (auto v = AsUint(*o)) return *v;
  FieldError(key, "uint");
  return 0;
}

double FieldReader::FloatOr(std::string_view key, double fallback) {
  const msgpack::object* o = Find(key);
  if (o == nullptr) return fallback;
  if (auto v = AsFloat(*o)) return *v;
  FieldError(key, "float64");
  return 0;
}

}  // namespace sluice::proto
