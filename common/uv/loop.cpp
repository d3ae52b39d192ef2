#include "common/uv/loop.h"

#include <cstdlib>

#include "common/base/log.h"

namespace sluice::uv {

Loop::Loop() : loop_thread_(std::this_thread::get_id()) {
  if (int rc = uv_loop_init(&loop_); rc != 0) {
    Log("uv")->critical("uv_loop_init failed: {}", uv_strerror(rc));
    std::abort();
  }
  uv_async_init(&loop_, &async_, &Loop::OnAsync);
  async_.data = this;
  // The async handle alone must not keep Run() alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
}

Loop::~Loop() {
  // Tasks may post more tasks (Defer from a task, or from a close callback below): run until
  // none are left, so deferred deletions are not lost.
  auto run_all_posted = [this] {
    bool ran = false;
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (posted_.empty()) return ran;
      }
      RunPosted();
      ran = true;
    }
  };
  run_all_posted();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  do {
    // Close whatever owners leaked so their close callbacks free them, then drain.
    uv_walk(
        &loop_,
        [](uv_handle_t* handle, void*) {
          if (!uv_is_closing(handle)) uv_close(handle, handle->close_cb);
        },
        nullptr);
    while (uv_run(&loop_, UV_RUN_DEFAULT) != 0) {
    }
  } while (run_all_posted());
  uv_loop_close(&loop_);
}

void Loop::Run() {
  loop_thread_ = std::this_thread::get_id();
  uv_ref(reinterpret_cast<uv_handle_t*>(&async_));
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
}

void Loop::Stop() { uv_stop(&loop_); }

void Loop::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  uv_async_send(&async_);
}

void Loop::OnAsync(uv_async_t* async) { static_cast<Loop*>(async->data)->RunPosted(); }

void Loop::RunPosted() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(posted_);
  }
  for (auto& task : batch) task();
}

}  // namespace sluice::uv
