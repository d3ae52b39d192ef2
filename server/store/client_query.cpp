#include "server/store/client_query.h"

#include <sqlite3.h>

#include <cstring>

#include "server/store/dynamic_query.h"

namespace sluice::store {
namespace {

constexpr char kVersionCollation[] = "sluice_version";

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int CompareVersionPart(std::string_view a, std::string_view b) {
  if (AllDigits(a) && AllDigits(b)) {
    // Numerically without overflow: strip leading zeros, then the longer number is larger.
    a.remove_prefix(std::min(a.find_first_not_of('0'), a.size()));
    b.remove_prefix(std::min(b.find_first_not_of('0'), b.size()));
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  }
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int VersionCollation(void*, int a_size, const void* a, int b_size, const void* b) {
  return CompareVersionText(std::string_view(static_cast<const char*>(a), a_size),
                            std::string_view(static_cast<const char*>(b), b_size));
}

// Registers the version collation on the connection the first time a statement names it.
void OnCollationNeeded(void*, sqlite3* db, int, const char* name) {
  if (std::strcmp(name, kVersionCollation) == 0) {
    sqlite3_create_collation_v2(db, kVersionCollation, SQLITE_UTF8, nullptr, &VersionCollation,
                                nullptr);
  }
}

std::string LikePattern(std::string_view text) {
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  return pattern + "%";
}

// Adds the terms of `filter` to `query`.
Status AddClientFilter(const ClientFilter& filter, DynamicQuery& query) {
  if (!filter.q.empty()) {
    const std::string p = query.Param(LikePattern(filter.q));
    std::string any;
    for (const char* column : {"clients.id", "clients.console_user", "clients.platform",
                               "enrollment.jump_group", "enrollment.tag"}) {
      any += std::string(any.empty() ? "" : " OR ") + column + " LIKE " + p + " ESCAPE '\\'";
    }
    query.Where("(" + any + ")");
  }
  for (auto [value, column] : {std::pair{&filter.kind, "clients.kind"},
                               {&filter.version, "clients.version"},
                               {&filter.mode, "clients.mode"},
                               {&filter.jump_group, "enrollment.jump_group"},
                               {&filter.tag, "enrollment.tag"}}) {
    if (!value->empty()) query.Where(std::string(column) + " = " + query.Param(*value));
  }
  if (filter.state == "online") {
    query.Where("clients.online <> 0");
  } else if (filter.state == "offline") {
    query.Where("clients.online = 0 AND clients.state <> 'lost'");
  } else if (filter.state == "lost") {
    query.Where("clients.online = 0 AND clients.state = 'lost'");
  } else if (!filter.state.empty()) {
    return Fail(Errc::kInvalidArgument, "state must be online, offline or lost");
  }
  return {};
}

const char* OrderBy(ClientSort sort) {
  switch (sort) {
    case ClientSort::kId:
      return " ORDER BY clients.id";
    case ClientSort::kVersion:
      return " ORDER BY clients.version COLLATE sluice_version, clients.id";
    case ClientSort::kLastSeen:
      break;
  }
  return " ORDER BY clients.last_seen_ms DESC, clients.id";
}

}  // namespace

int CompareVersionText(std::string_view a, std::string_view b) {
  while (true) {
    if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : a.empty() ? -1 : 1;
    const size_t a_dot = std::min(a.find('.'), a.size());
    const size_t b_dot = std::min(b.find('.'), b.size());
    if (int c = CompareVersionPart(a.substr(0, a_dot), b.substr(0, b_dot)); c != 0) return c;
    a.remove_prefix(std::min(a_dot + 1, a.size()));
    b.remove_prefix(std::min(b_dot + 1, b.size()));
  }
}

Result<ClientPage> QueryClients(db::Database& db, const ClientFilter& filter, ClientSort sort,
                                int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 1) {
    return Fail(Errc::kInvalidArgument, "a page needs offset >= 0 and limit >= 1");
  }
  DynamicQuery query;
  if (auto added = AddClientFilter(filter, query); !added) return Fail(added.error());
  ClientPage page;
  const std::string where = query.WhereClause();
  auto counted = query.Run(db,
                           "SELECT count(*) FROM clients LEFT JOIN installer_enrollments AS "
                           "enrollment ON enrollment.client_id = clients.id" +
                               where,
                           [&page](const db::Statement& row) { page.total = row.Int64(0); });
  if (!counted) return Context(counted.error(), "counting clients");
  if (page.total <= offset) return page;
  const std::string limit_param = query.Param(limit);
  const std::string offset_param = query.Param(offset);
  sqlite3_collation_needed(db.handle(), nullptr, &OnCollationNeeded);
  auto read = query.Run(
      db,
      SLUICE_CLIENT_SELECT + where + OrderBy(sort) + " LIMIT " + limit_param + " OFFSET " +
          offset_param,
      [&page](const db::Statement& row) { page.clients.push_back(ReadClientRow(row, true)); });
  if (!read) return Context(read.error(), "listing a page of clients");
  return page;
}

Result<std::vector<RolloutGroup>> CountClientsForRollout(db::Database& db, int64_t since_ms) {
  std::vector<RolloutGroup> groups;
  DynamicQuery query;
  const std::string since = query.Param(since_ms);
  auto read = query.Run(db,
                        "SELECT kind, version, mode, (online <> 0 OR last_seen_ms >= " + since +
                            ") AS seen, count(*) FROM clients GROUP BY kind, version, mode, seen",
                        [&groups](const db::Statement& row) {
                          groups.push_back({.kind = row.Text(0),
                                            .version = row.Text(1),
                                            .mode = row.Text(2),
                                            .seen = row.Int64(3) != 0,
                                            .count = row.Int64(4)});
                        });
  if (!read) return Context(read.error(), "counting clients for the rollout");
  return groups;
}

Result<std::vector<KindVersionCount>> CountClientsByKindVersion(db::Database& db) {
  std::vector<KindVersionCount> counts;
  sqlite3_collation_needed(db.handle(), nullptr, &OnCollationNeeded);
  auto read = DynamicQuery().Run(
      db,
      "SELECT kind, version, sum(online <> 0), sum(online = 0 AND state <> 'lost'), "
      "sum(state = 'lost' AND online = 0) FROM clients GROUP BY kind, version "
      "ORDER BY kind, version COLLATE sluice_version",
      [&counts](const db::Statement& row) {
        counts.push_back({.kind = row.Text(0),
                          .version = row.Text(1),
                          .online = row.Int64(2),
                          .offline = row.Int64(3),
                          .lost = row.Int64(4)});
      });
  if (!read) return Context(read.error(), "counting clients by kind and version");
  return counts;
}

}  // namespace sluice::store
