#pragma once
// The waiting line of one limit scope: who waits, in first-request order, and who of them is
// connected right now (and so can take a slot the moment it frees).

#include <compare>
#include <cstddef>
#include <cstdint>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <optional>
#include <set>
#include <string>

namespace sluice::sched {

// A place in line: earlier first request first; `seq` (assigned once per client by the
// scheduler) breaks ties so that every key is unique and the order is total.
struct WaitKey {
  int64_t first_request_ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const WaitKey&) const = default;
};

// Costs: every operation is O(log n) in the number of waiters of the scope. Position() uses an
// order-statistic red-black tree (libstdc++ policy-based data structures), so even passive
// replies, which report a position, stay logarithmic on a 100k-client fleet.
//
// Not thread-safe; owned by the Scheduler on the loop thread.
class WaitQueue {
 public:
  // Adds a waiter. Precondition: `key` is not already in the queue.
  void Insert(const WaitKey& key, std::string client_id, bool present);
  // Removes a waiter; a key not in the queue is ignored.
  void Erase(const WaitKey& key);
  // Marks a queued waiter connected / not connected; a key not in the queue is ignored.
  void SetPresent(const WaitKey& key, bool present);

  // Number of waiters strictly ahead of `key` (present or not): 0 = next in line.
  size_t Position(const WaitKey& key) const;
  size_t Size() const { return all_.size(); }
  size_t PresentCount() const { return present_.size(); }

  // The earliest waiter that is connected now, if any.
  struct Entry {
    WaitKey key;
    const std::string* client_id;  // points into the queue; valid until the entry is erased
  };
  std::optional<Entry> FirstPresent() const;

 private:
  // key -> client id, with subtree sizes for order statistics.
  using OrderTree =
      __gnu_pbds::tree<WaitKey, std::string, std::less<WaitKey>, __gnu_pbds::rb_tree_tag,
                       __gnu_pbds::tree_order_statistics_node_update>;

  OrderTree all_;              // every waiter
  std::set<WaitKey> present_;  // the connected ones, for grants
};

}  // namespace sluice::sched
