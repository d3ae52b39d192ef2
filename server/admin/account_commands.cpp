#include "server/admin/account_commands.h"

#include <memory>

#include "common/base/log.h"
#include "common/uv/worker_thread.h"
#include "server/admin/admin_args.h"
#include "server/store/admin_repo.h"
#include "server/store/audit_repo.h"

namespace sluice::server {
namespace {

using nlohmann::json;

struct Accounts {
  Accounts(uv::Loop& loop, store::Store& store, Clock& clock, AccountOptions options)
      : worker(loop), store(store), clock(clock), options(options) {}
  uv::WorkerThread worker;  // hashes passwords off the loop
  store::Store& store;
  Clock& clock;
  AccountOptions options;
};

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// The audit row of an account change, written in the change's own store job.
store::AuditRow AccountAudit(const char* event, const std::string& name, const std::string& actor,
                             int64_t now_ms) {
  return {.wall_ms = now_ms, .event = event, .detail = store::WithActor("name=" + name, actor)};
}

// Checks name and password, hashes on the worker, then runs `save` with the hash on the store
// thread and replies `result` once it is durable.
void HashThenSave(Accounts& accounts, const json& args, admin::Reply reply,
                  std::function<Status(db::Database&, const std::string& name,
                                       const std::string& hash, int64_t now_ms)>
                      save,
                  std::function<json(const std::string& name, int64_t now_ms)> result) {
  auto name = StringArg(args, "name");
  if (!name) return reply(Fail(name.error()));
  if (auto ok = CheckAdminName(*name); !ok) return reply(Fail(ok.error()));
  auto password = StringArg(args, "password");
  if (!password) return reply(Fail(password.error()));
  if (auto ok = CheckAdminPassword(*password); !ok) return reply(Fail(ok.error()));
  accounts.worker.Run<std::string>(
      [password = std::move(*password), params = accounts.options.hash_params] {
        return crypto::HashPassword(password, params);
      },
      [&accounts, name = *name, save = std::move(save), result = std::move(result),
       reply = std::move(reply)](Result<std::string> hash) mutable {
        if (!hash) return reply(Fail(hash.error()));
        const int64_t now = accounts.clock.WallMs();
        accounts.store.Submit<void>(
            [name, hash = std::move(*hash), now, save = std::move(save)](db::Database& db) {
              return save(db, name, hash, now);
            },
            [name, now, result = std::move(result), reply = std::move(reply)](Status saved) {
              if (!saved) return reply(Fail(saved.error()));
              reply(result(name, now));
            });
      });
}

void AdminAdd(Accounts& accounts, const json& args, admin::Reply reply) {
  HashThenSave(
      accounts, args, std::move(reply),
      [actor = admin::ActorOf(args)](db::Database& db, const std::string& name,
                                     const std::string& hash, int64_t now) -> Status {
        if (auto added = store::AddAdmin(
                db, {.name = name, .password_hash = hash, .created_ms = now, .changed_ms = now});
            !added) {
          return added;
        }
        return store::AppendAuditRow(db,
                                     AccountAudit(store::audit_event::kAdminAdd, name, actor, now));
      },
      [actor = admin::ActorOf(args)](const std::string& name, int64_t now) {
        Log("admin")->info("admin account added name={} by={}", name, actor);
        return json{{"name", name}, {"created_ms", now}};
      });
}

void AdminPasswd(Accounts& accounts, const json& args, admin::Reply reply) {
  HashThenSave(
      accounts, args, std::move(reply),
      [actor = admin::ActorOf(args)](db::Database& db, const std::string& name,
                                     const std::string& hash, int64_t now) -> Status {
        if (auto set = store::SetAdminPasswordHash(db, name, hash, now); !set) return set;
        return store::AppendAuditRow(
            db, AccountAudit(store::audit_event::kAdminPasswd, name, actor, now));
      },
      [actor = admin::ActorOf(args), changed = accounts.options.on_credentials_changed](
          const std::string& name, int64_t now) {
        Log("admin")->info("admin password changed name={} by={}", name, actor);
        if (changed) changed(name);
        return json{{"name", name}, {"changed_ms", now}};
      });
}

void AdminRemove(Accounts& accounts, const json& args, admin::Reply reply) {
  auto name = StringArg(args, "name");
  if (!name) return reply(Fail(name.error()));
  if (auto ok = CheckAdminName(*name); !ok) return reply(Fail(ok.error()));
  store::AuditRow row = AccountAudit(store::audit_event::kAdminRemove, *name, admin::ActorOf(args),
                                     accounts.clock.WallMs());
  accounts.store.Submit<void>(
      [name = *name, row](db::Database& db) -> Status {
        if (auto removed = store::RemoveAdmin(db, name); !removed) return removed;
        return store::AppendAuditRow(db, row);
      },
      [name = *name, actor = admin::ActorOf(args),
       changed = accounts.options.on_credentials_changed,
       reply = std::move(reply)](Status removed) {
        if (!removed) return reply(Fail(removed.error()));
        Log("admin")->info("admin account removed name={} by={}", name, actor);
        if (changed) changed(name);
        reply(json{{"name", name}});
      });
}

void ListAccounts(Accounts& accounts, const json&, admin::Reply reply) {
  accounts.store.Submit<std::vector<store::AdminRow>>(
      [](db::Database& db) { return store::ListAdmins(db); },
      [reply = std::move(reply)](Result<std::vector<store::AdminRow>> rows) {
        if (!rows) return reply(Fail(rows.error()));
        json list = json::array();
        for (const auto& row : *rows) {
          list.push_back(
              {{"name", row.name}, {"created_ms", row.created_ms}, {"changed_ms", row.changed_ms}});
        }
        reply(json{{"admins", std::move(list)}});
      });
}

}  // namespace

Status CheckAdminName(std::string_view name) {
  if (name.empty() || name.size() > kMaxAdminNameBytes) {
    return Fail(Errc::kInvalidArgument, "an admin name has 1 to 64 characters");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return Fail(Errc::kInvalidArgument,
                  "an admin name may hold only letters, digits, '.', '_' and '-'");
    }
  }
  return {};
}

Status CheckAdminPassword(std::string_view password) {
  if (password.size() < kMinAdminPasswordBytes) {
    return Fail(Errc::kInvalidArgument, "a password needs at least 10 characters");
  }
  if (password.size() > kMaxAdminPasswordBytes) {
    return Fail(Errc::kInvalidArgument, "a password may have at most 1024 bytes");
  }
  return {};
}

void RegisterAccountCommands(admin::AdminServer& admin, uv::Loop& loop, store::Store& store,
                             Clock& clock, AccountOptions options) {
  // Owned by the handlers: destroyed (joining the worker) with the AdminServer.
  auto accounts = std::make_shared<Accounts>(loop, store, clock, options);
  using Handler = void (*)(Accounts&, const json&, admin::Reply);
  for (auto [name, handler] : {std::pair<const char*, Handler>{"admin-add", &AdminAdd},
                               {"admin-passwd", &AdminPasswd},
                               {"admin-remove", &AdminRemove},
                               {"admins", &ListAccounts}}) {
    admin.Register(name, [accounts, handler](const json& args, admin::Reply reply) {
      handler(*accounts, args, std::move(reply));
    });
  }
}

}  // namespace sluice::server
