#include "common/uv/handle.h"

namespace sluice::uv {

void Handle::Close() {
  if (closing_) return;
  closing_ = true;
  uv_handle_t* handle = raw();
  handle->data = this;
  uv_close(handle, &Handle::OnClosed);
}

void Handle::OnClosed(uv_handle_t* handle) { delete static_cast<Handle*>(handle->data); }

}  // namespace sluice::uv
