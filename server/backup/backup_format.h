#pragma once
// What the backup writer and reader share (backup_archive.h has the format): the header's
// constants, the record tags, the entry-name rule and whole reads and writes of a file.
// Internal to server/backup.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::backup::format {

inline constexpr size_t kHeaderSize = 12;  // magic, format version, flags
inline constexpr uint16_t kFlagProtected = 1;
inline constexpr uint8_t kEntryTag = 'F';
inline constexpr uint8_t kManifestTag = 'M';
// Unprotected files are written and read in blocks of this size (protected ones in segments).
inline constexpr size_t kRawBlock = 1u << 20;

// Entry names are relative '/'-separated paths without empty, "." or ".." parts, NUL or '\\',
// of at most kMaxEntryName bytes. kInvalidArgument naming the entry otherwise.
[[nodiscard]] Status CheckEntryName(std::string_view name);

// All of `data` to `fd`. kIo naming `path`.
[[nodiscard]] Status WriteBytes(int fd, ByteView data, const std::string& path);

// read(2) until `size` bytes or the end of the file; how many were read. kIo naming `path`.
[[nodiscard]] Result<size_t> ReadUpTo(int fd, uint8_t* out, size_t size, const std::string& path);

}  // namespace sluice::backup::format
