// sluicectl cert show|export|import: the site's TLS certificate. export reads the data dir
// itself (no server needed); show and import ask sluiced, which serves an imported certificate
// to new connections at once (docs/admin.md, "Certificates").

#include <filesystem>

#include "common/base/file_util.h"
#include "common/tls/cert_bundle.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/ctl/ctl_secret.h"
#include "server/site/data_dir.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<std::pair<std::string, std::string>> CertFields(const json& cert) {
  return {
      {"subject", Text(cert, "subject")},
      {"issuer", Text(cert, "issuer") + (cert.value("self_signed", false) ? " (self-signed)" : "")},
      {"valid", Text(cert, "not_before") + " to " + Text(cert, "not_after")},
      {"pin", Text(cert, "pin")},
      {"chain", Text(cert, "chain_length") + " intermediate certificate(s)"}};
}

void AddCertShow(Ctl& ctl, CLI::App* cert) {
  CLI::App* show = cert->add_subcommand("show", "Show the certificate the site serves");
  auto json_flag = Ctl::AddJsonFlag(show);
  show->callback([&ctl, json_flag] {
    ctl.Run("cert-show", json::object(), *json_flag, [](const json& r, std::ostream& out) {
      auto fields = CertFields(r);
      fields.emplace_back("days left", Text(r, "days_left"));
      fields.emplace_back("served at", Text(Field(r, "served_at"), "listen") + " (clients dial " +
                                           Text(Field(r, "served_at"), "advertised") + ")");
      PrintFields(out, fields);
      return Status{};
    });
  });
}

tls::CertFormat FormatFor(const std::string& format, const std::string& path) {
  if (format == "pkcs12") return tls::CertFormat::kPkcs12;
  if (format == "pem") return tls::CertFormat::kPem;
  const std::string ext = fs::path(path).extension().string();
  return ext == ".p12" || ext == ".pfx" ? tls::CertFormat::kPkcs12 : tls::CertFormat::kPem;
}

void AddCertExport(Ctl& ctl, CLI::App* cert) {
  struct Options {
    std::string out, format, passphrase_file;
    bool chain = false, key = false, no_passphrase = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* exporter = cert->add_subcommand(
      "export",
      "Export the site's certificate (and chain and private key on request); the data "
      "dir keeps them");
  exporter->add_option("--out", options->out, "The file to write (must not exist)")->required();
  exporter
      ->add_option("--format", options->format,
                   "pem or pkcs12 (default: pkcs12 for .p12/.pfx, else pem)")
      ->check(CLI::IsMember({"pem", "pkcs12"}));
  exporter->add_flag("--chain", options->chain, "Include the intermediate certificates");
  exporter->add_flag("--key", options->key, "Include the private key (encrypted)");
  auto* passphrase = exporter->add_option("--passphrase-file", options->passphrase_file,
                                          "A file holding the passphrase for the key ('-': stdin)");
  exporter
      ->add_flag("--no-passphrase", options->no_passphrase,
                 "Export the key unencrypted (anyone holding the file can impersonate the site)")
      ->excludes(passphrase);
  exporter->callback([&ctl, options] {
    if (options->key && options->passphrase_file.empty() && !options->no_passphrase) {
      return ctl.ReportFailure(Error(Errc::kInvalidArgument,
                                     "--key needs --passphrase-file F (the key is exported "
                                     "encrypted), or --no-passphrase"));
    }
    if (fs::exists(options->out)) {
      return ctl.ReportFailure(Error(Errc::kAlreadyExists, options->out + " already exists"));
    }
    auto passphrase = OptionalSecretFile(options->passphrase_file);
    if (!passphrase) return ctl.ReportFailure(passphrase.error());
    const server::DataDir dir = server::DataDir::Layout(ctl.data_dir());
    auto bundle = tls::ReadCertFiles(dir.cert_path, options->key ? dir.key_path : "");
    if (!bundle) return ctl.ReportFailure(bundle.error());
    const tls::CertFormat format = FormatFor(options->format, options->out);
    auto file = tls::ExportBundle(*bundle, format, options->chain, options->key, *passphrase);
    if (!file) return ctl.ReportFailure(file.error());
    const std::string_view data = AsChars(*file);
    if (auto written = WriteFileAtomic(options->out, data, options->key ? 0600 : 0644); !written) {
      return ctl.ReportFailure(written.error());
    }
    auto details = tls::DescribeCertificate(*bundle);
    ctl.out() << "wrote " << options->out << " ("
              << (format == tls::CertFormat::kPem ? "PEM" : "PKCS#12") << ": certificate"
              << (options->chain ? ", chain" : "")
              << (options->key ? (passphrase->empty() ? ", UNENCRYPTED key" : ", encrypted key")
                               : "")
              << "); pin " << (details ? details->pin : "-") << '\n';
  });
}

void AddCertImport(Ctl& ctl, CLI::App* cert) {
  struct Options {
    std::string file, passphrase_file;
    bool new_key = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* importer = cert->add_subcommand(
      "import",
      "Install a certificate and its key (PEM or PKCS#12); new connections get it at "
      "once, without a restart");
  importer->add_option("FILE", options->file, "The certificate file")->required();
  importer->add_option("--passphrase-file", options->passphrase_file,
                       "A file holding the file's passphrase ('-': stdin)");
  importer->add_flag("--new-key", options->new_key,
                     "Accept a key other than the one the site's clients pin (every client then "
                     "needs a new installer)");
  auto json_flag = Ctl::AddJsonFlag(importer);
  importer->callback([&ctl, options, json_flag] {
    auto passphrase = OptionalSecretFile(options->passphrase_file);
    if (!passphrase) return ctl.ReportFailure(passphrase.error());
    auto file = ReadFile(options->file);
    if (!file) return ctl.ReportFailure(file.error());
    auto bundle = tls::ParseImport(AsBytes(*file), *passphrase);
    if (!bundle) return ctl.ReportFailure(bundle.error());
    const json args = {{"cert_pem", bundle->leaf_pem},
                       {"chain_pem", bundle->chain_pem},
                       {"key_pem", bundle->key_pem},
                       {"new_key", options->new_key}};
    ctl.Run("cert-import", args, *json_flag, [](const json& r, std::ostream& out) {
      out << "imported; new connections get it now\n";
      PrintFields(out, CertFields(r));
      if (r.value("key_changed", false) && r.value("clients", 0) == 0) {
        out << "The key changed (was " << Text(r, "previous_pin") << "); no client is enrolled "
            << "yet, so none pins the old one.\n";
      } else if (r.value("key_changed", false)) {
        out << "The key changed (was " << Text(r, "previous_pin") << "): the site's "
            << Text(r, "clients") << " clients pin the old key and can no longer connect. "
            << "Give every client a new installer (sluicectl installer create) or config "
               "(sluicectl client-config).\n";
      }
      return Status{};
    });
  });
}

}  // namespace

void AddCertCommands(Ctl& ctl) {
  CLI::App* cert = ctl.app().add_subcommand("cert", "The site's TLS certificate");
  cert->require_subcommand(1);
  AddCertShow(ctl, cert);
  AddCertExport(ctl, cert);
  AddCertImport(ctl, cert);
}

}  // namespace sluice::ctl
