#include "server/store/schema.h"

namespace sluice::store {
namespace {

// v1: endpoint clients and server settings.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE clients (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  mode          TEXT NOT NULL,
  secret_hash   TEXT NOT NULL,
  version       TEXT NOT NULL DEFAULT '',
  platform      TEXT NOT NULL DEFAULT '',
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  online        INTEGER NOT NULL DEFAULT 0,
  state         TEXT NOT NULL DEFAULT 'active',  -- active | lost
  peer_address  TEXT NOT NULL DEFAULT '',
  cpu_load      REAL NOT NULL DEFAULT 0,
  disk_used_pct REAL NOT NULL DEFAULT 0,
  uptime_s      INTEGER NOT NULL DEFAULT 0,
  console_user  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX clients_kind_version ON clients (kind, version);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

constexpr db::Migration kMigrations[] = {
    {1, kV1},
};

}  // namespace

std::span<const db::Migration> Migrations() { return kMigrations; }

}  // namespace sluice::store
