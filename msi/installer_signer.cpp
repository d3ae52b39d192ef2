#include "msi/installer_signer.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "common/base/log.h"
#include "common/base/subprocess.h"

namespace sluice::msi {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds kSignTimeout{120};
constexpr size_t kMaxDetail = 2048;  // osslsigncode appends OpenSSL's whole error stack

std::string Trim(std::string text) {
  if (text.size() > kMaxDetail) text = text.substr(0, kMaxDetail) + "...";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// Writes `secret` to a new 0600 file under the temp directory; removes it on destruction.
class SecretFile {
 public:
  SecretFile() = default;
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;
  ~SecretFile() {
    if (!path_.empty()) unlink(path_.c_str());
  }

  Status Write(const std::string& secret) {
    std::string pattern = (fs::temp_directory_path() / "sluice-signpass-XXXXXX").string();
    int fd = mkstemp(pattern.data());  // mode 0600
    if (fd < 0) return Fail(Errc::kIo, std::string("mkstemp: ") + std::strerror(errno));
    path_ = pattern;
    ssize_t written = write(fd, secret.data(), secret.size());
    int err = errno;
    close(fd);
    if (written != static_cast<ssize_t>(secret.size())) {
      return Fail(Errc::kIo,
                  std::string("writing the signing passphrase file: ") + std::strerror(err));
    }
    return {};
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status CheckReadable(const std::string& path, const char* what) {
  if (access(path.c_str(), R_OK) != 0) {
    return Fail(Errc::kIo, std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace

Status SignInstaller(const std::string& msi_path, const SigningConfig& config) {
  if (config.cert_pem.empty()) {
    return Fail(Errc::kInvalidArgument, "signing needs a certificate (cert_pem)");
  }
  if (auto ok = CheckReadable(msi_path, "installer"); !ok) return ok;
  if (auto ok = CheckReadable(config.cert_pem, "signing certificate"); !ok) return ok;
  if (!config.key_pem.empty()) {
    if (auto ok = CheckReadable(config.key_pem, "signing key"); !ok) return ok;
  }

  static std::atomic<unsigned> counter{0};
  const std::string signed_path =
      msi_path + "." + std::to_string(getpid()) + "." + std::to_string(counter++) + ".signing";
  std::vector<std::string> argv = {"osslsigncode", "sign"};
  if (config.key_pem.empty()) {
    argv.insert(argv.end(), {"-pkcs12", config.cert_pem});
  } else {
    argv.insert(argv.end(), {"-certs", config.cert_pem, "-key", config.key_pem});
  }
  SecretFile pass_file;
  if (!config.password.empty()) {
    if (auto ok = pass_file.Write(config.password); !ok) return ok;
    argv.insert(argv.end(), {"-readpass", pass_file.path()});
  }
  argv.insert(argv.end(),
              {"-h", "sha256", "-n", config.description, "-in", msi_path, "-out", signed_path});

  std::error_code ec;
  auto result = RunProcess({.argv = argv}, kSignTimeout);
  if (!result) {
    fs::remove(signed_path, ec);
    return Context(result.error(), "signing " + msi_path);
  }
  if (result->timed_out) {
    fs::remove(signed_path, ec);
    return Fail(Errc::kTimeout, "osslsigncode did not finish signing " + msi_path + " within " +
                                    std::to_string(kSignTimeout.count()) + " s");
  }
  if (result->exit_code != 0) {
    fs::remove(signed_path, ec);
    std::string detail = Trim(result->err);
    if (detail.empty()) detail = Trim(result->out);
    return Fail(Errc::kCrypto, "osslsigncode failed to sign " + msi_path + " (exit " +
                                   std::to_string(result->exit_code) + "): " + detail);
  }
  fs::rename(signed_path, msi_path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(signed_path, ignored);
    return Fail(Errc::kIo, "replacing " + msi_path + " with its signed copy: " + ec.message());
  }
  Log("msi")->info("signed installer path={}", msi_path);
  return {};
}

}  // namespace sluice::msi
