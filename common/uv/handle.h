#pragma once
// Ownership of libuv handles. Each wrapper embeds its uv_*_t by value with data = this, is
// neither copied nor moved, and is heap-allocated. Close() hands ownership to libuv's close
// callback, which deletes the wrapper: memory is never freed while libuv still refers to it.

#include <uv.h>

#include <memory>

namespace sluice::uv {

class Handle {
 public:
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // Starts closing; the object is deleted from the close callback. Idempotent.
  // After Close() no user callback of this handle fires again.
  void Close();
  bool closing() const { return closing_; }

 protected:
  Handle() = default;
  virtual ~Handle() = default;
  // The embedded handle, as the generic type; set by the derived constructor.
  virtual uv_handle_t* raw() = 0;

 private:
  static void OnClosed(uv_handle_t* handle);
  bool closing_ = false;
};

struct HandleCloser {
  void operator()(Handle* handle) const {
    if (handle != nullptr) handle->Close();
  }
};

// Owning pointer: destroying it closes the handle (deletion follows in the close callback).
template <typename T>
using HandlePtr = std::unique_ptr<T, HandleCloser>;

}  // namespace sluice::uv
