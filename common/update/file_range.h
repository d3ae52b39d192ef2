#pragma once
// Blocking reads and copies of byte ranges of files, for update bundles and offline update
// files. Thread-safe (no shared state); every error names the file.

#include <cstdint>
#include <functional>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::update {

// A file opened for reading. Movable, not copyable; closes on destruction.
class ReadOnlyFile {
 public:
  // Errors: kNotFound, kIo (including a path that is not a regular file).
  [[nodiscard]] static Result<ReadOnlyFile> Open(const std::string& path);
  ReadOnlyFile(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile& operator=(ReadOnlyFile&&) = delete;
  ~ReadOnlyFile();

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Exactly `length` bytes from `offset`. Errors: kCorrupt "truncated" when the file ends
  // first, kIo.
  [[nodiscard]] Result<Bytes> Read(uint64_t offset, size_t length) const;
  // Feeds `length` bytes from `offset` to `sink` in chunks of at most 1 MiB; stops at the first
  // chunk `sink` refuses. Errors: kCorrupt "truncated", kIo, or the sink's own.
  [[nodiscard]] Status Stream(uint64_t offset, uint64_t length,
                              const std::function<Status(ByteView chunk)>& sink) const;

 private:
  ReadOnlyFile(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  uint64_t size_;
  std::string path_;
};

// Writes a new file next to its final path and renames it into place only when complete.
// Movable, not copyable; an uncommitted file is removed on destruction.
class AtomicFileWriter {
 public:
  // Creates a temp file "<path>.tmp-XXXXXX" with `mode`. Errors: kIo.
  [[nodiscard]] static Result<AtomicFileWriter> Create(const std::string& path,
                                                       unsigned mode = 0644);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();

  [[nodiscard]] Status Write(ByteView data);
  // fsyncs, renames over the final path and fsyncs the directory. Errors: kIo.
  [[nodiscard]] Status Commit();

 private:
  AtomicFileWriter(int fd, std::string path, std::string temp)
      : fd_(fd), path_(std::move(path)), temp_(std::move(temp)) {}
  int fd_;
  std::string path_;
  std::string temp_;
};

}  // namespace sluice::update
