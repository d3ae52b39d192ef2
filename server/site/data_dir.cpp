#include "server/site/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/random.h"
#include "common/tls/certificate.h"
#include "server/backup/restore_journal.h"

namespace sluice::server {
namespace {

constexpr char kSiteCommonName[] = "sluice-site";

bool Exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

// Removes permission bits beyond `wanted` (a data dir made with a plain mkdir is 0755), and says
// so. Errors: kIo naming the path.
Status Tighten(const std::string& path, mode_t wanted) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return Fail(Errc::kIo, "cannot stat " + path);
  const mode_t mode = st.st_mode & 07777;
  if ((mode & ~wanted) == 0) return {};
  if (::chmod(path.c_str(), mode & wanted) != 0) {
    return Fail(Errc::kIo, "cannot tighten the permissions of " + path + ": " + std::strerror(errno));
  }
  Log("server")->warn("tightened permissions path={} from={:04o} to={:04o}", path, mode,
                      mode & wanted);
  return {};
}

Status EnsureCertificate(const DataDir& dir) {
  if (Exists(dir.cert_path) && Exists(dir.key_path)) return {};
  Log("server")->info("creating self-signed TLS certificate path={}", dir.cert_path);
  return tls::GenerateSelfSigned(dir.cert_path, dir.key_path, kSiteCommonName);
}

Result<crypto::SigningKey> EnsureSigningKey(const DataDir& dir) {
  if (Exists(dir.signing_key_path)) return crypto::SigningKey::LoadPem(dir.signing_key_path);
  Log("server")->info("creating Ed25519 package-signing key path={}", dir.signing_key_path);
  auto key = crypto::SigningKey::Generate();
  if (!key) return Fail(key.error());
  if (auto saved = key->SavePem(dir.signing_key_path); !saved) return Fail(saved.error());
  return key;
}

Result<std::string> EnsureEnrollmentKey(const DataDir& dir) {
  auto existing = ReadFile(dir.enrollment_key_path);
  if (existing) {
    std::string key = *existing;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    if (key.size() != 64) {
      return Fail(Errc::kCorrupt, dir.enrollment_key_path + " does not hold a 64-hex-digit key");
    }
    return key;
  }
  if (existing.error().code() != Errc::kNotFound) return Fail(existing.error());
  std::string key = crypto::RandomHex(32);
  if (auto written = WriteFileAtomic(dir.enrollment_key_path, key + "\n", 0600); !written) {
    return Fail(written.error());
  }
  return key;
}

std::string ImportCertPath(const DataDir& dir) { return dir.root + "/tls/import-cert.pem"; }
std::string ImportKeyPath(const DataDir& dir) { return dir.root + "/tls/import-key.pem"; }

// See InstallCertificateFiles: the key is renamed before the certificate.
Status FinishCertificateImport(const DataDir& dir) {
  const bool cert = Exists(ImportCertPath(dir));
  const bool key = Exists(ImportKeyPath(dir));
  if (cert && !key) {
    Log("server")->warn("finishing a certificate import a crash interrupted path={}",
                        dir.cert_path);
    return RenameDurably(ImportCertPath(dir), dir.cert_path);
  }
  for (const std::string& path : {ImportCertPath(dir), ImportKeyPath(dir)}) ::unlink(path.c_str());
  return {};
}

}  // namespace

Status InstallCertificateFiles(const DataDir& dir, const tls::CertBundle& bundle) {
  if (auto written = WriteFileAtomic(ImportKeyPath(dir), bundle.key_pem, 0600); !written) {
    return written;
  }
  if (auto written = WriteFileAtomic(ImportCertPath(dir), bundle.leaf_pem + bundle.chain_pem, 0644);
      !written) {
    ::unlink(ImportKeyPath(dir).c_str());
    return written;
  }
  if (auto moved = RenameDurably(ImportKeyPath(dir), dir.key_path); !moved) return moved;
  return RenameDurably(ImportCertPath(dir), dir.cert_path);
}

Result<std::shared_ptr<int>> LockDataDir(const std::string& run_dir) {
  const std::string path = run_dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(Errc::kIo, "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Fail(Errc::kAlreadyExists, "another sluiced is already using this data dir");
    }
    return Fail(Errc::kIo, "cannot lock " + path + ": " + std::strerror(err));
  }
  return std::shared_ptr<int>(new int(fd), [](int* held) {
    ::close(*held);
    delete held;
  });
}

DataDir DataDir::Layout(const std::string& root) {
  DataDir dir{};
  dir.root = root;
  dir.cert_path = root + "/tls/cert.pem";
  dir.key_path = root + "/tls/key.pem";
  dir.signing_key_path = root + "/keys/signing.pem";
  dir.enrollment_key_path = root + "/keys/enrollment.key";
  dir.metrics_token_path = root + "/keys/metrics-token";
  dir.db_path = root + "/db/sluice.db";
  dir.run_dir = root + "/run";
  dir.endpoint_path = root + "/run/endpoint";
  dir.admin_socket_path = root + "/run/admin.sock";
  dir.packages_dir = root + "/packages";
  return dir;
}

Result<DataDir> DataDir::Prepare(const std::string& root) {
  DataDir dir = Layout(root);
  for (const auto& [path, mode] : {std::pair{root, 0700}, {root + "/tls", 0700},
                                   {root + "/keys", 0700}, {root + "/db", 0700},
                                   {dir.run_dir, 0700}, {dir.packages_dir, 0755}}) {
    if (auto made = EnsureDir(path, static_cast<mode_t>(mode)); !made) {
      return Context(made.error(), "preparing data dir");
    }
    if (auto tight = Tighten(path, static_cast<mode_t>(mode)); !tight) return Fail(tight.error());
  }
  // Pre-created or copied files keep their modes: the database and keys hold secrets.
  for (const std::string& path :
       {dir.db_path, dir.db_path + "-wal", dir.db_path + "-shm", dir.key_path, dir.signing_key_path,
        dir.enrollment_key_path, dir.metrics_token_path}) {
    if (!Exists(path)) continue;
    if (auto tight = Tighten(path, 0600); !tight) return Fail(tight.error());
  }
  auto lock = LockDataDir(dir.run_dir);
  if (!lock) return Fail(lock.error());
  dir.lock_fd = std::move(*lock);
  // A restore a crash interrupted after its commit point is finished before anything is read.
  auto restored = backup::FinishPendingRestore(root);
  if (!restored) return Context(restored.error(), "finishing an interrupted restore");
  if (*restored) Log("server")->warn("finished a restore that was interrupted after its commit");
  if (auto finished = FinishCertificateImport(dir); !finished) {
    return Context(finished.error(), "TLS certificate");
  }
  dir.existing_site = Exists(dir.enrollment_key_path);
  if (auto cert = EnsureCertificate(dir); !cert) return Context(cert.error(), "TLS certificate");
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  if (auto renewed = RenewCertificateIfDue(dir, now_s); !renewed) {
    return Context(renewed.error(), "TLS certificate");
  }
  auto pin = tls::PinOfCertificateFile(dir.cert_path);
  if (!pin) return Context(pin.error(), "TLS certificate");
  dir.certificate_pin = *pin;
  auto signing = EnsureSigningKey(dir);
  if (!signing) return Context(signing.error(), "signing key");
  dir.signing_key = std::move(*signing);
  auto enrollment = EnsureEnrollmentKey(dir);
  if (!enrollment) return Context(enrollment.error(), "enrollment key");
  dir.enrollment_key = std::move(*enrollment);
  return dir;
}

Result<bool> RenewCertificateIfDue(const DataDir& dir, int64_t now_s) {
  auto info = tls::ReadCertificateInfo(dir.cert_path);
  if (!info) return Fail(info.error());
  constexpr int64_t kDay = 24 * 3600;
  const int64_t left_s = info->not_after_s - now_s;
  const bool ours = info->self_signed && info->common_name == kSiteCommonName;
  if (!ours) {
    if (left_s <= 0) {
      Log("server")->error("the imported TLS certificate has expired path={} days_ago={}",
                           dir.cert_path, -left_s / kDay);
    } else if (left_s <= kRenewCertificateDays * kDay) {
      Log("server")->warn("the imported TLS certificate expires soon path={} days_left={}",
                          dir.cert_path, left_s / kDay);
    }
    return false;
  }
  if (left_s > kRenewCertificateDays * kDay &&
      left_s <= (tls::kSelfSignedValidityDays + 1) * kDay) {
    return false;
  }
  if (auto renewed = tls::RenewSelfSigned(dir.cert_path, dir.key_path, kSiteCommonName); !renewed) {
    return Fail(renewed.error());
  }
  Log("server")->info("renewed the self-signed TLS certificate with the same key path={} "
                      "days_left_before={} valid_days={}",
                      dir.cert_path, left_s / kDay, tls::kSelfSignedValidityDays);
  return true;
}

}  // namespace sluice::server
