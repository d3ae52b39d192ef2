#pragma once
// A partial download, DIR/downloads/<lease>.part: bytes are only ever appended, so its size is
// the resume offset. Movable, not copyable; one thread at a time.

#include <cstdint>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::client {

class PartFile {
 public:
  // Opens `path` for appending, creating it (mode 0600) if missing. Errc::kIo on failure.
  [[nodiscard]] static Result<PartFile> Open(const std::string& path);

  PartFile(PartFile&& other) noexcept;
  PartFile& operator=(PartFile&& other) noexcept;
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;
  ~PartFile();

  const std::string& path() const { return path_; }
  // Bytes written so far (the file's size when opened plus every Append).
  uint64_t size() const { return size_; }

  // Writes `data` at the end. Errc::kIo on failure; the size then counts only what is known
  // to be written.
  [[nodiscard]] Status Append(ByteView data);
  // Flushes the written bytes to disk (fdatasync). Errc::kIo on failure.
  [[nodiscard]] Status Sync();

 private:
  PartFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace sluice::client
