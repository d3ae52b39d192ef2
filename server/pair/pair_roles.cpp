// The relationship's changes (pair_service.h): establishing it (both directions checked),
// breaking it, a backup taking over (with or without the old primary, with or without a last
// sync) and an old primary stepping down. Each ends in a saved state or a restart into it.

#include "common/base/log.h"
#include "server/pair/pair_service.h"
#include "server/store/audit_repo.h"

namespace sluice::pair {

using json = nlohmann::json;

void PairService::Establish(const std::string& peer, const std::string& reverse, Done done) {
  if (state_.role != Role::kNone) {
    done(Fail(Errc::kAlreadyExists, "this server is already the " +
                                        std::string(ToString(state_.role)) + " of a pair with " +
                                        state_.peer + ": `sluicectl pair break` first"));
    return;
  }
  for (const auto& [what, address] : {std::pair{"--peer", peer}, {"--reverse", reverse}}) {
    if (auto split = uv::SplitHostPort(address); !split) {
      done(Context(split.error(), what));
      return;
    }
    if (address == host_.advertised) {
      done(Fail(Errc::kInvalidArgument,
                std::string(what) + " " + address +
                    " is the site's shared address (what clients connect to): give each "
                    "server's own address, which the other server can reach directly"));
      return;
    }
  }
  if (peer == reverse) {
    done(Fail(Errc::kInvalidArgument, "--peer and --reverse must name the two different servers"));
    return;
  }
  Connect(peer, [this, peer, reverse, done = std::move(done),
                 alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
    if (alive.expired()) return;
    if (!channel) {
      done(Context(channel.error(), "establishing with " + peer + "; nothing changed"));
      return;
    }
    const uint64_t epoch = state_.epoch + 1;
    (*channel)->Call(
        "establish",
        {{"reverse", reverse},
         {"backup_address", peer},
         {"epoch", epoch},
         {"primary_server_id", files_.server_id()}},
        [this, peer, reverse, channel = *channel, epoch, done, alive](Result<json> agreed) {
          if (alive.expired()) return;
          channel->Close();
          if (!agreed) {
            done(Context(agreed.error(), "the peer at " + peer + " refused; nothing changed"));
            return;
          }
          const uint64_t agreed_epoch = agreed->value("epoch", epoch);
          const int64_t now = host_.clock->WallMs();
          Save([&](State& state) {
            state.role = Role::kPrimary;
            state.peer = peer;
            state.self_address = reverse;
            state.peer_server_id = channel->peer_server_id();
            state.epoch = agreed_epoch;
            state.established_ms = now;
            state.last_sync.reset();
            state.grant_fence_until_ms = 0;
          });
          Record("established", "primary; backup " + peer + " (server " + state_.peer_server_id +
                                    "), epoch " + std::to_string(agreed_epoch));
          if (!probe_timer_) {
            probe_timer_ = uv::Timer::Create(*host_.loop);
            probe_timer_->Start(static_cast<uint64_t>(options_.probe_ms),
                                static_cast<uint64_t>(options_.probe_ms), [this] { Probe(); });
          }
          done(StatusJson());
        });
  });
}

void PairService::ServeEstablish(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                                 const json& body) {
  const std::string reverse = body.value("reverse", "");
  const std::string primary_id = body.value("primary_server_id", "");
  const std::string self_address = body.value("backup_address", "");
  const uint64_t epoch = std::max(body.value("epoch", uint64_t{0}), state_.epoch + 1);
  if (state_.role != Role::kNone) {
    channel->Reply(id, Fail(Errc::kAlreadyExists,
                            "the peer is already the " + std::string(ToString(state_.role)) +
                                " of a pair with " + state_.peer + ": break it there first"));
    return;
  }
  if (primary_id != channel->peer_server_id()) {
    channel->Reply(id, Fail(Errc::kProtocol, "establish names another server than the caller"));
    return;
  }
  // The other direction: this server must reach the primary at --reverse with the same key.
  Connect(reverse, [this, channel, id, reverse, primary_id, self_address, epoch,
                    alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> back) {
    if (alive.expired()) return;
    if (!back) {
      channel->Reply(
          id, Context(back.error(), "the backup cannot reach the primary at --reverse " + reverse));
      return;
    }
    const bool same = (*back)->peer_server_id() == primary_id;
    (*back)->Close();
    if (!same) {
      channel->Reply(id, Fail(Errc::kInvalidArgument,
                              "--reverse " + reverse + " reaches another server than the primary"));
      return;
    }
    const int64_t now = host_.clock->WallMs();
    const std::optional<int64_t> merge_since = MergeSince(primary_id);
    channel->Reply(id, json{{"epoch", epoch}});
    RestartWith(
        std::nullopt,
        [&](State& state) {
          state.merge_since_ms = merge_since;
          state.role = Role::kBackup;
          state.peer = reverse;
          state.self_address = self_address;
          state.peer_server_id = primary_id;
          state.epoch = epoch;
          state.established_ms = now;
          state.last_sync.reset();
          state.grant_fence_until_ms = 0;
          state.Record(now, "established",
                       "backup of " + reverse + " (server " + primary_id + "), epoch " +
                           std::to_string(epoch));
        },
        "became the backup of " + reverse);
  });
}

// A primary that finds its peer took over (a forced takeover while it was away) steps down:
// two servers must never both grant.
void PairService::Probe() {
  if (state_.role != Role::kPrimary || restarting_) return;
  AskPeer("hello", json::object(), /*retries=*/0, [this](Result<json> hello) {
    if (state_.role != Role::kPrimary || restarting_) return;
    const uint64_t epoch = hello ? hello->value("epoch", uint64_t{0}) : 0;
    if (!hello || hello->value("role", "") != "primary" || epoch <= state_.epoch) {
      // Unreachable, or still this server's backup: this server is the primary.
      if (!std::exchange(confirmed_, true)) host_.confirmed_primary();
      return;
    }
    const int64_t now = host_.clock->WallMs();
    const std::optional<int64_t> merge_since = MergeSince(state_.peer_server_id);
    RestartWith(
        std::nullopt,
        [&](State& state) {
          state.merge_since_ms = merge_since;
          state.role = Role::kBackup;
          state.epoch = epoch;
          state.established_ms = now;
          state.Record(now, "stepped_down",
                       "the peer " + state.peer + " took over at epoch " + std::to_string(epoch) +
                           "; this server is its backup now");
        },
        "the peer took over");
  });
}

void PairService::Break(Done done) {
  if (state_.role == Role::kNone) {
    done(Fail(Errc::kNotFound, "this server is in no pair"));
    return;
  }
  AskPeer("break", json::object(), kConnectRetries, [this, done](Result<json> told) {
    const std::string peer_note =
        told ? std::string("told")
             : "not told (" + told.error().message() + "): run `sluicectl pair break` there too";
    done(json{{"broken", true}, {"peer", peer_note}});
    EndRelationship("the relationship with " + state_.peer + " ended; " + peer_note);
  });
}

void PairService::EndRelationship(const std::string& detail) {
  const bool was_backup = state_.role == Role::kBackup;
  const int64_t now = host_.clock->WallMs();
  auto change = [&](State& state) {
    state.role = Role::kNone;
    state.grant_fence_until_ms = 0;
    state.Record(now, "broken", detail);
    if (was_backup) state.pending_id_range = store::audit_event::kPairBreak;
  };
  if (was_backup) {
    RestartWith(std::nullopt, change, "the pair was broken; serving clients alone");
  } else {
    Save(change);
    probe_timer_.reset();
  }
}

void PairService::ServeBecomeBackup(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                                    const json& body) {
  if (state_.role != Role::kPrimary) {
    channel->Reply(id, Fail(Errc::kInvalidArgument, "this server is not the primary"));
    return;
  }
  const uint64_t epoch = std::max(body.value("epoch", uint64_t{0}), state_.epoch + 1);
  channel->Reply(id, json{{"epoch", epoch}});
  const int64_t now = host_.clock->WallMs();
  const std::optional<int64_t> merge_since = MergeSince(state_.peer_server_id);
  RestartWith(
      std::nullopt,
      [&](State& state) {
        state.merge_since_ms = merge_since;
        state.role = Role::kBackup;
        state.epoch = epoch;
        state.established_ms = now;
        state.last_sync.reset();
        state.Record(
            now, "became_backup",
            "the peer " + state.peer + " became primary at epoch " + std::to_string(epoch));
      },
      "the peer became primary");
}

void PairService::BecomePrimary(bool sync_first, bool force, Done done) {
  if (state_.role != Role::kBackup) {
    done(Fail(Errc::kInvalidArgument, "only a backup can become primary (this server is " +
                                          std::string(ToString(state_.role)) + ")"));
    return;
  }
  Connect(state_.peer, [this, sync_first, force, done = std::move(done),
                        alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
    if (alive.expired()) return;
    if (!channel) {
      if (!force) {
        done(Fail(Errc::kClosed,
                  "the primary at " + state_.peer + " is not reachable (" +
                      channel.error().message() +
                      "); nothing changed. If it is down for good, run `sluicectl pair "
                      "become-primary --force`: this server then takes over alone and grants no "
                      "upgrade slot for one lease lifetime"));
        return;
      }
      TakeOver(false, "forced while the primary at " + state_.peer + " was unreachable", done);
      return;
    }
    auto primary = *channel;
    auto swap = [this, primary, done, alive](bool all_leases, std::string why) {
      primary->Call("become_backup", {{"epoch", state_.epoch + 1}},
                    [this, primary, done, all_leases, why, alive](Result<json> swapped) {
                      if (alive.expired()) return;
                      primary->Close();
                      if (!swapped) {
                        done(Context(swapped.error(),
                                     "the primary refused to become backup; "
                                     "nothing changed"));
                        return;
                      }
                      TakeOver(all_leases, why + "; the old primary is now the backup", done);
                    });
    };
    if (!sync_first) {
      swap(false, "without a last sync");
      return;
    }
    primary->Call(
        "handover", json::object(), [this, primary, swap, done, alive](Result<json> handed) {
          if (alive.expired()) return;
          if (!handed) {
            primary->Close();
            done(Context(handed.error(), "the primary did not hand over; nothing changed"));
            return;
          }
          RunSync([swap, done, primary](Result<SyncRecord> synced) {
            if (!synced) {
              primary->Close();  // the primary serves again once this connection is gone
              done(Context(synced.error(), "the last sync failed; nothing changed"));
              return;
            }
            swap(true, "after a last sync");
          });
        });
  });
}

void PairService::TakeOver(bool all_leases, std::string why, Done done) {
  const int64_t now = host_.clock->WallMs();
  const int64_t fence = all_leases ? 0 : now + options_.lease_ttl_ms;
  json out = {{"role", "primary"}, {"epoch", state_.epoch + 1}, {"grant_fence_until_ms", fence}};
  done(out);
  RestartWith(
      staged_,
      [&](State& state) {
        state.role = Role::kPrimary;
        state.epoch += 1;
        state.grant_fence_until_ms = fence;
        state.Record(now, "became_primary", why);
        state.pending_id_range = store::audit_event::kPairTakeover;
      },
      "became the primary");
}

}  // namespace sluice::pair
