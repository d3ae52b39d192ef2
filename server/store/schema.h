#pragma once
// The server database schema, as an ordered list of migrations (see db::Migrate).

#include <span>

#include "common/db/migrate.h"

namespace sluice::store {

// Every schema step, versions 1..N. Append new steps; never edit a released one.
std::span<const db::Migration> Migrations();

}  // namespace sluice::store
