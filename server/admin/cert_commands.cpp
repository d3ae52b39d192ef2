#include "server/admin/cert_commands.h"

#include "common/base/time_format.h"
#include "server/admin/admin_args.h"
#include "server/store/audit_repo.h"
#include "server/store/client_repo.h"

namespace sluice::server {
namespace {

using nlohmann::json;

json CertJson(const tls::CertDetails& details) {
  return {{"subject", details.subject},
          {"issuer", details.issuer},
          {"not_before", FormatIsoUtc(details.not_before_s * 1000)},
          {"not_after", FormatIsoUtc(details.not_after_s * 1000)},
          {"self_signed", details.self_signed},
          {"pin", details.pin},
          {"chain_length", details.chain_length}};
}

}  // namespace

void RegisterCertCommands(admin::AdminServer& admin, SiteCertificate& certificate,
                          store::Store& store, Clock& clock, ServedAt served_at) {
  admin.Register("cert-show", [&certificate, &clock, served_at](const json&, admin::Reply reply) {
    auto details = certificate.Describe();
    if (!details) return reply(Fail(details.error()));
    json result = CertJson(*details);
    result["days_left"] = (details->not_after_s - clock.WallMs() / 1000) / 86400;
    result["served_at"] = {{"listen", served_at.listen}, {"advertised", served_at.advertised}};
    reply(std::move(result));
  });
  admin.Register(
      "cert-import", [&certificate, &store, &clock](const json& args, admin::Reply reply) {
        tls::CertBundle bundle;
        auto cert = NonEmptyStringArg(args, "cert_pem");
        auto key = NonEmptyStringArg(args, "key_pem");
        if (!cert || !key) return reply(Fail(!cert ? cert.error() : key.error()));
        bundle.leaf_pem = std::move(*cert);
        bundle.key_pem = std::move(*key);
        if (auto chain = OptionalStringArg(args, "chain_pem", &bundle.chain_pem); !chain) {
          return reply(Fail(chain.error()));
        }
        auto new_key = OptionalBoolArg(args, "new_key");
        if (!new_key) return reply(Fail(new_key.error()));
        // The clients that pin the current key decide whether a new key may replace it.
        store.Submit<int64_t>(
            [](db::Database& db) { return store::CountClients(db); },
            [&certificate, &store, &clock, bundle = std::move(bundle), new_key = *new_key,
             actor = admin::ActorOf(args), reply = std::move(reply)](Result<int64_t> clients) {
              if (!clients) return reply(Fail(clients.error()));
              auto imported = certificate.Import(bundle, new_key, *clients, clock.WallMs() / 1000);
              if (!imported) return reply(Fail(imported.error()));
              store.Detach<void>(
                  "cert: recording the import",
                  [row = store::AuditRow{
                       .wall_ms = clock.WallMs(),
                       .event = store::audit_event::kCertificateImport,
                       .detail = store::WithActor(
                           "subject=\"" + imported->details.subject + "\" pin=" +
                               imported->details.pin + " previous_pin=" + imported->previous_pin,
                           actor)}](db::Database& db) { return store::AppendAuditRow(db, row); });
              json result = CertJson(imported->details);
              result["previous_pin"] = imported->previous_pin;
              result["key_changed"] = imported->key_changed;
              result["clients"] = *clients;
              reply(std::move(result));
            });
      });
}

}  // namespace sluice::server
