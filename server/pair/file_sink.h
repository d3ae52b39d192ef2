#pragma once
// Where a sync's fetch lands: appends what arrives to `path`, which already holds the first
// `offset` bytes (a resumed fetch), checking each chunk continues where the last one ended.
// Blocking writes: the backup's loop serves no clients.

#include <cstdint>
#include <memory>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::pair {

class FileSink {
 public:
  // Opens (creating 0600) and cuts `path` to `offset` bytes. Errors: kIo/kNotFound naming it.
  static Result<std::shared_ptr<FileSink>> Open(const std::string& path, uint64_t offset);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  // kProtocol for a chunk that is not at size(); kIo for a failed write (a full disk).
  [[nodiscard]] Status Write(uint64_t offset, ByteView data);
  [[nodiscard]] Status Sync();
  uint64_t size() const { return size_; }

 private:
  FileSink(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_;
  std::string path_;
  uint64_t size_;
};

}  // namespace sluice::pair
