#pragma once
// Owning smart pointers for C handles: CPtr<SSL, SSL_free> frees with the named function.

#include <memory>

namespace sluice {

template <auto FreeFn>
struct FnDeleter {
  template <typename T>
  void operator()(T* handle) const noexcept {
    if (handle != nullptr) FreeFn(handle);
  }
};

template <typename T, auto FreeFn>
using CPtr = std::unique_ptr<T, FnDeleter<FreeFn>>;

}  // namespace sluice
