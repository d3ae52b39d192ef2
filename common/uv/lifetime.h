#pragma once
// The one way an asynchronous completion outlives its owner safely: the owner holds a Lifetime
// and wraps each completion that touches it in Guard(); once the owner is destroyed, guarded
// completions do nothing. Completions and the owner's destruction must run on one thread (the
// loop thread), which is what makes the check race-free.

#include <memory>
#include <utility>

namespace sluice::uv {

class Lifetime {
 public:
  Lifetime() = default;
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  // `fn` wrapped so that it runs only while this Lifetime exists. For completions returning
  // nothing; the wrapper accepts the same arguments as `fn`.
  template <typename F>
  auto Guard(F fn) const {
    return [alive = std::weak_ptr<const bool>(alive_), fn = std::move(fn)](auto&&... args) mutable {
      if (alive.lock()) fn(std::forward<decltype(args)>(args)...);
    };
  }
  // A token that expires when this Lifetime is destroyed, for completions that must do
  // something either way (check `expired()`).
  std::weak_ptr<const bool> Token() const { return alive_; }
  // Ends the lifetime before the owner is gone, for an owner whose teardown must first cut
  // off completions (they do nothing from here on).
  void End() { alive_.reset(); }

 private:
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace sluice::uv
