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

// v2: the package store (server/pkg): one signed package per kind, platform and version.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE packages (
  sha256     TEXT NOT NULL,
  kind       TEXT NOT NULL,
  platform   TEXT NOT NULL,
  version    TEXT NOT NULL,
  size       INTEGER NOT NULL,
  path       TEXT NOT NULL,
  manifest   BLOB NOT NULL,
  signature  BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, platform, version)
);
)sql";

// v3: the upgrade throttle: running leases, the wait queue, per-scope limits and the audit log
// of every throttle event (grant, progress, finish, expiry, limit change, ...). Global throttle
// knobs (bandwidth, connection rate, policies) live in `settings` (see limits_repo.h).
constexpr std::string_view kV3 = R"sql(
CREATE TABLE leases (
  id         INTEGER PRIMARY KEY,
  client_id  TEXT NOT NULL UNIQUE,
  scope      TEXT NOT NULL,
  version    TEXT NOT NULL,
  granted_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  bytes_done INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE waiters (
  client_id        TEXT PRIMARY KEY,
  scope            TEXT NOT NULL,
  first_request_ms INTEGER NOT NULL
);

CREATE TABLE audit (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  wall_ms     INTEGER NOT NULL,
  mono_ms     INTEGER NOT NULL,  -- the server's monotonic clock: not comparable across restarts
  event       TEXT NOT NULL,
  scope       TEXT NOT NULL DEFAULT '',
  client_id   TEXT NOT NULL DEFAULT '',
  lease_id    INTEGER NOT NULL DEFAULT 0,
  version     TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '',
  running     INTEGER NOT NULL DEFAULT 0,  -- the scope's running count right after the event
  limit_value INTEGER NOT NULL DEFAULT 0   -- the scope's limit right after the event
);
CREATE INDEX audit_wall_ms ON audit (wall_ms);

CREATE TABLE limits (
  scope          TEXT PRIMARY KEY,
  max_concurrent INTEGER NOT NULL
);
)sql";

// v4: installer packages (server/installer). Owned by the installer feature; edit freely until it
// ships.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE installers (
  id              TEXT PRIMARY KEY,
  created_ms      INTEGER NOT NULL,
  creator         TEXT NOT NULL DEFAULT '',
  kind            TEXT NOT NULL,
  parameters      TEXT NOT NULL DEFAULT '{}',  -- JSON: mode, jump_group, tag, comments, overrides
  expires_ms      INTEGER NOT NULL,
  site_version    TEXT NOT NULL,
  upgrade_code    TEXT NOT NULL,
  product_code    TEXT NOT NULL,
  product_version TEXT NOT NULL,
  file            TEXT NOT NULL,
  key_info        TEXT NOT NULL,
  built_ms        INTEGER NOT NULL,
  deleted         INTEGER NOT NULL DEFAULT 0
);

-- Superseded MSIs of an installer: only the MSI that installed a version can uninstall it.
CREATE TABLE installer_archive (
  installer_id    TEXT NOT NULL,
  site_version    TEXT NOT NULL,
  product_code    TEXT NOT NULL,
  product_version TEXT NOT NULL,
  file            TEXT NOT NULL,
  archived_ms     INTEGER NOT NULL,
  reason          TEXT NOT NULL,             -- site-version | extended
  PRIMARY KEY (installer_id, product_code)
);

-- Clients enrolled with an installer key, and the group and tag they were given.
CREATE TABLE installer_enrollments (
  client_id       TEXT PRIMARY KEY,
  installer_id    TEXT NOT NULL,
  jump_group      TEXT NOT NULL,
  tag             TEXT NOT NULL,
  enrolled_ms     INTEGER NOT NULL
);
)sql";

// v5: site updates (server/update). Owned by the site-update feature; edit freely until it
// ships.
constexpr std::string_view kV5 = R"sql(
CREATE TABLE installed_updates (
  id            TEXT PRIMARY KEY,   -- "<kind>-<version>", e.g. site-2.0.0
  kind          TEXT NOT NULL,      -- base | site
  version       TEXT NOT NULL,
  depends_on    TEXT NOT NULL DEFAULT '[]',  -- JSON array of update ids
  installed_ms  INTEGER NOT NULL,
  bundle_sha256 TEXT NOT NULL,      -- SHA-256 of the bundle's signed header
  backup        TEXT NOT NULL DEFAULT ''     -- the database backup taken before installing
);
)sql";

// v6: a result for a lease that is no longer live is accepted only from the client it was granted
// to, which the audit log's grant row proves; this index keeps that lookup cheap.
constexpr std::string_view kV6 = R"sql(
CREATE INDEX audit_lease ON audit (lease_id) WHERE lease_id > 0;
)sql";

// v7: the web dashboard. Admin accounts (name, scrypt hash as crypto::HashPassword encodes it);
// names compare case-insensitively, so "Alice" cannot be added beside "alice". Indexes for the
// fleet pages: clients by last sighting (the default order of clients-page), enrollments by
// jump group and tag (its filters), and the audit log by client and by event (client-detail's
// history and audit's filters), each with seq so a page reads in log order.
constexpr std::string_view kV7 = R"sql(
CREATE TABLE admins (
  name          TEXT PRIMARY KEY COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  created_ms    INTEGER NOT NULL,
  changed_ms    INTEGER NOT NULL
);
CREATE INDEX clients_last_seen ON clients (last_seen_ms);
CREATE INDEX installer_enrollments_group ON installer_enrollments (jump_group);
CREATE INDEX installer_enrollments_tag ON installer_enrollments (tag);
CREATE INDEX audit_client ON audit (client_id, seq) WHERE client_id <> '';
CREATE INDEX audit_event_seq ON audit (event, seq);
)sql";

constexpr db::Migration kMigrations[] = {
    {1, kV1}, {2, kV2}, {3, kV3}, {4, kV4}, {5, kV5}, {6, kV6}, {7, kV7},
};

}  // namespace

std::span<const db::Migration> Migrations() { return kMigrations; }

}  // namespace sluice::store
