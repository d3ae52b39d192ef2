#include "msi/installer_template.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <vector>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/subprocess.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "msi/installer_builder.h"

namespace sluice::msi {
namespace {

namespace fs = std::filesystem;

struct KindProduct {
  std::string_view kind;
  std::string_view name;
  std::string_view upgrade_code;  // never changes: packages of one kind replace each other
};

constexpr std::array<KindProduct, 2> kProducts = {{
    {kJumpClientKind, "Sluice Jump Client", "6F0C3B1E-2A57-4C8E-9D41-5B7A0E2C1D01"},
    {kAccessConsoleKind, "Sluice Access Console", "B3E1D7A2-94C6-4F0B-8E25-1C9A7D3F6E02"},
}};

// The WiX source of every template. msi::BuildInstaller patches each copy: the Property rows
// (KEY_INFO, ProductCode, ProductVersion), the Upgrade rows MajorUpgrade emits (their versions
// follow ProductVersion) and the PackageCode. Component GUIDs are derived by wixl from the
// component's path, so they are the same in every version, as Windows Installer requires.
// Arguments: {0} product name, {1} UpgradeCode, {2} kind, {3} client file name.
constexpr std::string_view kWixSource = R"(<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="{0}" Manufacturer="Sluice" Version="0.0.1" Language="1033"
           UpgradeCode="{1}">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"
             Description="{0}" Manufacturer="Sluice"/>
    <Media Id="1" Cabinet="client.cab" EmbedCab="yes"/>
    <MajorUpgrade DowngradeErrorMessage="A newer version of {0} is already installed."/>
    <Property Id="KEY_INFO" Value="unset"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="SluiceDir" Name="Sluice">
          <Directory Id="INSTALLDIR" Name="{2}">
            <Component Id="Client" Guid="*" Win64="yes">
              <File Id="ClientFile" Name="{3}" Source="{3}" KeyPath="yes"/>
            </Component>
            <Component Id="Settings" Guid="*" Win64="yes">
              <RegistryValue Root="HKLM" Key="Software\Sluice\{2}" Name="KeyInfo" Type="string"
                             Value="[KEY_INFO]" KeyPath="yes"/>
            </Component>
          </Directory>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1">
      <ComponentRef Id="Client"/>
      <ComponentRef Id="Settings"/>
    </Feature>
  </Product>
</Wix>
)";

constexpr auto kWixlTimeout = std::chrono::minutes(10);

const KindProduct* ProductFor(std::string_view kind) {
  for (const KindProduct& product : kProducts) {
    if (product.kind == kind) return &product;
  }
  return nullptr;
}

// Copies `from` to `to` (created 0600) and returns the SHA-256 of the bytes written.
Result<std::string> CopyHashing(const std::string& from, const std::string& to) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Fail(ErrnoError("opening the client", from, errno));
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return Fail(ErrnoError("creating", to, errno));
  crypto::Sha256Hasher hasher;
  std::vector<uint8_t> buffer(1 << 20);
  for (;;) {
    ssize_t got = ::read(in.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Fail(ErrnoError("reading the client", from, errno));
    if (got == 0) break;
    hasher.Update(ByteView(buffer.data(), static_cast<size_t>(got)));
    for (ssize_t done = 0; done < got;) {
      ssize_t put = ::write(out.get(), buffer.data() + done, static_cast<size_t>(got - done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) return Fail(ErrnoError("writing", to, errno));
      done += put;
    }
  }
  if (out.Close() != 0) return Fail(ErrnoError("closing", to, errno));
  const crypto::Sha256Digest digest = hasher.Finish();
  return crypto::HexEncode(ByteView(digest.data(), digest.size()));
}

Status RunWixl(const std::string& wxs, const std::string& out) {
  auto ran = RunProcess({.argv = {"wixl", "--arch", "x64", "-o", out, wxs}}, kWixlTimeout);
  if (!ran) return Context(ran.error(), "running wixl (package msitools)");
  if (ran->timed_out) {
    return Fail(Errc::kTimeout,
                "wixl did not finish within " + std::to_string(kWixlTimeout.count()) + " ms");
  }
  if (ran->exit_code != 0) {
    std::string why = ran->err.empty() ? ran->out : ran->err;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Fail(Errc::kIo,
                "wixl exited with " + std::to_string(ran->exit_code) + ": " + why.substr(0, 2000));
  }
  return {};
}

}  // namespace

std::string ClientFileName(std::string_view kind) {
  return "sluice-" + std::string(kind) + ".exe";
}

std::string TemplateFileName(std::string_view kind, std::string_view client_sha256) {
  return "sluice-" + std::string(kind) + "-" + std::string(client_sha256) + "-r" +
         std::to_string(kTemplateRevision) + ".msi";
}

Status BuildTemplate(std::string_view kind, const std::string& client_file,
                     std::string_view client_sha256, const std::string& out_path) {
  const KindProduct* product = ProductFor(kind);
  if (product == nullptr) {
    return Fail(Errc::kInvalidArgument, "no installer template for kind '" + std::string(kind) + "'");
  }
  std::string out_dir = fs::path(out_path).parent_path().string();
  if (out_dir.empty()) out_dir = ".";
  std::string staging = out_dir + "/.staging-XXXXXX";
  if (::mkdtemp(staging.data()) == nullptr) {
    return Fail(ErrnoError("creating a staging directory in", out_dir, errno));
  }
  // wixl reads File/@Source relative to the .wxs file, so both go in the staging directory.
  auto build = [&]() -> Status {
    const std::string client_name = ClientFileName(kind);
    auto copied = CopyHashing(client_file, staging + "/" + client_name);
    if (!copied) return Fail(copied.error());
    if (*copied != client_sha256) {
      return Fail(Errc::kCorrupt, "the client file " + client_file + " has SHA-256 " + *copied +
                                      ", not the recorded " + std::string(client_sha256) +
                                      "; it changed after it was added");
    }
    const std::string wxs = staging + "/template.wxs";
    if (auto ok = WriteFileAtomic(wxs, fmt::format(fmt::runtime(kWixSource), product->name, product->upgrade_code,
                                                   kind, client_name),
                                  0600);
        !ok) {
      return ok;
    }
    const std::string temp = staging + "/template.msi";
    if (auto ok = RunWixl(wxs, temp); !ok) return ok;
    return PublishFile(temp, out_path);
  };
  Status built = build();
  if (auto removed = RemoveAll(staging); !removed) {
    Log("msi")->warn("could not remove {}: {}", staging, removed.error().ToString());
  }
  if (!built) return Context(built.error(), "building the " + std::string(kind) + " template");
  Log("msi")->info("built installer template kind={} client_sha256={} path={}", kind,
                   client_sha256, out_path);
  return {};
}

}  // namespace sluice::msi
