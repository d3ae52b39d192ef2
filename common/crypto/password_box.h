#pragma once
// Password-protected blobs (backups, exported keys).
//
// Format: "SLB1" | scrypt N, r, p (u32 big-endian each) | 16-byte salt | 12-byte nonce |
//         AES-256-GCM ciphertext | 16-byte tag.
// The key is scrypt(password, salt, N, r, p); the 44 header bytes are authenticated as AAD, so
// any change to any byte is detected. Every blob gets a fresh random salt and nonce.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::crypto {

// scrypt cost. The defaults (N = 2^15, r = 8, p = 1: 32 MiB, tens of milliseconds) are what
// production uses; tests may pass cheaper values. Accepted range, for sealing and opening alike:
// N a power of two in [2^10, 2^20], r in [1, 16], p in [1, 4], 128 * N * r <= 256 MiB — so a
// forged header cannot make OpenWithPassword burn unbounded memory or time.
struct ScryptParams {
  uint32_t n = 1u << 15;
  uint32_t r = 8;
  uint32_t p = 1;
};

// Encrypts `plaintext` under `password`. Errc::kInvalidArgument for an empty password or
// out-of-range params, Errc::kCrypto if OpenSSL fails. Thread-safe.
[[nodiscard]] Result<Bytes> SealWithPassword(ByteView plaintext, std::string_view password,
                                             const ScryptParams& params = {});

// Decrypts a blob made by SealWithPassword. Errc::kCorrupt "not a password box: ..." if it is too
// short, has the wrong magic or unsupported scrypt params; Errc::kAuth "wrong password or
// corrupted data" if the password is wrong or any authenticated byte was changed (the two cannot
// be told apart). No plaintext is returned unless authentication succeeds. Thread-safe.
[[nodiscard]] Result<Bytes> OpenWithPassword(ByteView sealed, std::string_view password);

// --- Password streams: large files (backups) without holding them in memory. ---
//
// The plaintext is cut into segments of a fixed size; each is sealed with AES-256-GCM under one
// scrypt-derived key, with nonce = the stream's 8 random bytes | the segment number (u32 BE) and
// AAD = the stream header | a "last segment" byte. A segment that is changed, dropped,
// duplicated, reordered or moved to the end (a truncated stream) fails to open.
// Header: "SLS1" | scrypt N, r, p (u32 BE) | 16-byte salt | 8-byte nonce prefix |
//         segment size (u32 BE) = kStreamHeaderSize bytes. A sealed segment is its ciphertext
// followed by a 16-byte tag.
inline constexpr size_t kStreamHeaderSize = 44;
inline constexpr size_t kStreamTagSize = 16;
inline constexpr uint32_t kDefaultStreamSegment = 1u << 20;

class PasswordStreamSealer {
 public:
  // Derives the key (one scrypt run) and makes the header. Errc::kInvalidArgument for an empty
  // password, unsupported params or a segment size outside [1 KiB, 16 MiB].
  [[nodiscard]] static Result<PasswordStreamSealer> Start(
      std::string_view password, uint32_t segment_size = kDefaultStreamSegment,
      const ScryptParams& params = {});
  PasswordStreamSealer(PasswordStreamSealer&&) noexcept;
  ~PasswordStreamSealer();

  ByteView header() const { return {header_.data(), header_.size()}; }
  uint32_t segment_size() const { return segment_size_; }
  // Seals the next segment: exactly segment_size() bytes, except the last, which may be
  // shorter (even empty). Errc::kInvalidArgument for a wrong size or a segment after the last.
  [[nodiscard]] Result<Bytes> Seal(ByteView plaintext, bool last);

 private:
  PasswordStreamSealer() = default;
  std::array<uint8_t, 32> key_{};
  Bytes header_;
  uint32_t segment_size_ = 0;
  uint32_t next_ = 0;
  bool finished_ = false;
};

class PasswordStreamOpener {
 public:
  // Reads the header and derives the key. Errc::kCorrupt "not a password stream: ..." for a
  // short header, a wrong magic or unsupported params (nothing about the password is known yet).
  [[nodiscard]] static Result<PasswordStreamOpener> Start(ByteView header,
                                                          std::string_view password);
  PasswordStreamOpener(PasswordStreamOpener&&) noexcept;
  ~PasswordStreamOpener();

  uint32_t segment_size() const { return segment_size_; }
  // Opens the next sealed segment (at most segment_size() + kStreamTagSize bytes); `last` says
  // whether the reader found nothing after it. Errc::kAuth "wrong password or corrupted data"
  // if it does not authenticate (the first segment tells a wrong password from data: both
  // fail alike), Errc::kCorrupt for a segment of impossible size or one after the last.
  [[nodiscard]] Result<Bytes> Open(ByteView sealed, bool last);

 private:
  PasswordStreamOpener() = default;
  std::array<uint8_t, 32> key_{};
  Bytes header_;
  uint32_t segment_size_ = 0;
  uint32_t next_ = 0;
  bool finished_ = false;
};

}  // namespace sluice::crypto
