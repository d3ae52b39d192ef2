#pragma once
// One store read shared by everyone who asks for it within a short time: callers while it runs
// wait for it, and callers within `max_age_ms` of its completion get its result. For the counts
// the dashboard polls (status, fleet, rollout): however many admins have the page open, the
// database is read at most once per `max_age_ms` for each, and check-ins keep the store thread.
// Loop thread only; hold it in a shared_ptr (store completions may outlive it).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "server/store/store.h"

namespace sluice::store {

template <class T>
class SharedRead : public std::enable_shared_from_this<SharedRead<T>> {
 public:
  using Job = std::function<Result<T>(db::Database&)>;
  using Done = std::function<void(Result<T>)>;

  static std::shared_ptr<SharedRead> Create(Store& store, const Clock& clock, int64_t max_age_ms,
                                            Job job) {
    return std::shared_ptr<SharedRead>(new SharedRead(store, clock, max_age_ms, std::move(job)));
  }

  // `done` gets a result at most max_age_ms old (an error is never reused), now or later.
  void Get(Done done) {
    if (last_ && clock_.MonotonicMs() - last_ms_ < max_age_ms_) return done(*last_);
    waiting_.push_back(std::move(done));
    if (waiting_.size() > 1) return;  // the read in flight answers this one too
    store_.Submit<T>(job_, [weak = this->weak_from_this()](Result<T> result) {
      auto self = weak.lock();
      if (!self) return;
      if (result) {
        self->last_ = *result;
        self->last_ms_ = self->clock_.MonotonicMs();
      }
      for (Done& waiter : std::exchange(self->waiting_, {})) waiter(result);
    });
  }

 private:
  SharedRead(Store& store, const Clock& clock, int64_t max_age_ms, Job job)
      : store_(store), clock_(clock), max_age_ms_(max_age_ms), job_(std::move(job)) {}

  Store& store_;
  const Clock& clock_;
  int64_t max_age_ms_;
  Job job_;
  std::optional<T> last_;
  int64_t last_ms_ = 0;
  std::vector<Done> waiting_;
};

}  // namespace sluice::store
