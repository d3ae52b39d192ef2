#include "server/sched/wait_queue.h"

#include <utility>

namespace sluice::sched {

void WaitQueue::Insert(const WaitKey& key, std::string client_id, bool present) {
  all_.insert({key, std::move(client_id)});
  if (present) present_.insert(key);
}

void WaitQueue::Erase(const WaitKey& key) {
  all_.erase(key);
  present_.erase(key);
}

void WaitQueue::SetPresent(const WaitKey& key, bool present) {
  if (all_.find(key) == all_.end()) return;
  if (present) {
    present_.insert(key);
  } else {
    present_.erase(key);
  }
}

size_t WaitQueue::Position(const WaitKey& key) const { return all_.order_of_key(key); }

std::optional<WaitQueue::Entry> WaitQueue::FirstPresent() const {
  if (present_.empty()) return std::nullopt;
  const WaitKey& key = *present_.begin();
  auto it = all_.find(key);
  return Entry{key, &it->second};
}

}  // namespace sluice::sched
