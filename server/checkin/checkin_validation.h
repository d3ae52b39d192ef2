#pragma once
// Validation of what clients send before anything reaches SQLite. Messages are already
// well-typed by the decoder; these checks bound lengths and ranges.

#include "common/base/error.h"
#include "common/proto/messages.h"

namespace sluice::server {

// Errors: kInvalidArgument naming the field and what it must be.
[[nodiscard]] Status ValidateEnroll(const proto::Enroll& enroll);
[[nodiscard]] Status ValidateCheckin(const proto::Checkin& checkin);

}  // namespace sluice::server
