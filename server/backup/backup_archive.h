#pragma once
// The backup file (docs/backup-format.md), written and read as a stream: neither side ever
// holds more than one segment (1 MiB) of it in memory.
//
//   file    = "SLUICEBK" | format version (u16 BE) | flags (u16 BE; bit 0: protected) | body
//   body    = the archive, raw, or sealed as one password stream (crypto::PasswordStreamSealer)
//   archive = entry* manifest
//   entry   = 'F' | name length (u16 BE) | name | size (u64 BE) | bytes | SHA-256 of the bytes
//   manifest= 'M' | length (u32 BE) | manifest JSON | SHA-256 of the JSON, and nothing after.
//
// The manifest (backup_manifest.h) comes last because it records the SHA-256 of every entry
// byte before it (the content hash); the header says whether the file is protected, never
// anything about the password. A protected file authenticates every segment, so a changed or
// truncated file fails with kAuth; an unprotected one relies on the hashes (kCorrupt).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/crypto/password_box.h"
#include "server/backup/backup_manifest.h"

namespace sluice::backup {

inline constexpr std::string_view kBackupMagic = "SLUICEBK";
inline constexpr uint16_t kBackupFormatVersion = 1;
// Entry names are relative '/'-separated paths of at most this many bytes, without "..".
inline constexpr size_t kMaxEntryName = 1024;
inline constexpr size_t kMaxManifestBytes = 64u << 20;

class BackupWriter {
 public:
  // Creates `path` (which must not exist; mode 0600). An empty `password` writes an unprotected
  // file. Errors: kAlreadyExists, kIo naming the file, kInvalidArgument for scrypt params.
  [[nodiscard]] static Result<BackupWriter> Create(const std::string& path,
                                                   std::string_view password,
                                                   const crypto::ScryptParams& params = {});
  BackupWriter(BackupWriter&&) noexcept;
  BackupWriter& operator=(BackupWriter&&) noexcept;
  ~BackupWriter();  // an unfinished file is removed

  // Appends the file at `source` as entry `name`, streaming it; `progress` (may be empty) gets
  // the bytes of this entry written so far. Records name, size and SHA-256 in the manifest's
  // entry list. Errors: kInvalidArgument for a bad name, kIo naming `source` or the backup.
  [[nodiscard]] Status AddFile(std::string_view name, const std::string& source,
                               const std::function<void(uint64_t)>& progress = {});
  [[nodiscard]] Status AddBytes(std::string_view name, ByteView data);

  // Completes `manifest` (format version, protected flag, entries, content hash), writes it,
  // fsyncs and closes the file. Returns the manifest as written. Errors: kIo.
  [[nodiscard]] Result<Manifest> Finish(Manifest manifest);

  // Archive bytes written so far (before sealing).
  uint64_t archive_bytes() const;

 private:
  struct State;
  explicit BackupWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// What a reader is told about each entry before its bytes.
struct EntryInfo {
  std::string name;
  uint64_t size = 0;
};

class BackupReader {
 public:
  // Opens `path` and reads its header. Errors, each before anything is decrypted:
  //   kCorrupt "... is not a Sluice backup" (another product's file, or too short);
  //   kUnsupportedVersion for a format newer than kBackupFormatVersion;
  //   kAuth "... is password-protected" when it is and `password` is empty;
  //   kIo/kNotFound naming the file.
  // An unprotected file ignores `password`.
  [[nodiscard]] static Result<BackupReader> Open(const std::string& path,
                                                 std::string_view password);
  BackupReader(BackupReader&&) noexcept;
  BackupReader& operator=(BackupReader&&) noexcept;
  ~BackupReader();

  bool is_protected() const;
  uint16_t format_version() const;

  // Where an entry goes: a path to write it to (created 0600, must not exist), or "" to only
  // verify it. An error stops the read.
  using Destination = std::function<Result<std::string>(const EntryInfo&)>;

  // Reads the whole archive once: every entry (verified against its own hash as it is written
  // to its destination), then the manifest, its hash, the content hash, and that the manifest
  // lists exactly the entries read. `progress` (may be empty) gets file bytes read and the
  // file's size. Errors: kAuth "wrong password or corrupted data" (protected files), kCorrupt
  // naming what failed (truncated, an entry's or the content hash, a bad manifest), kIo.
  // A file written by a failed call is removed; earlier ones are the caller's.
  [[nodiscard]] Result<Manifest> ReadAll(
      const Destination& destination, const std::function<void(uint64_t, uint64_t)>& progress = {});

 private:
  struct State;
  explicit BackupReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Opens and verifies the whole file, writing nothing: its manifest. Errors: as Open and ReadAll.
[[nodiscard]] Result<Manifest> InspectBackup(const std::string& path, std::string_view password);

}  // namespace sluice::backup
