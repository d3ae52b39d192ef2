#pragma once
// Reads a file on libuv's thread pool so the loop never blocks on disk. Loop thread only.
// Destroying the reader cancels the delivery of any read still in flight.

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/uv/loop.h"

namespace sluice::uv {

class FileReader {
 public:
  using ReadDone = std::function<void(Result<Bytes>)>;

  // Opens `path` read-only; `done` gets the reader or the error (kNotFound / kIo).
  static void Open(Loop& loop, const std::string& path,
                   std::function<void(Result<std::unique_ptr<FileReader>>)> done);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // Reads up to `length` bytes at `offset` (fewer at the end of the file; empty past it).
  // One read at a time.
  void Read(uint64_t offset, size_t length, ReadDone done);

 private:
  // Shared with an in-flight read, which closes the file itself if the reader went away.
  struct Shared {
    uv_loop_t* loop;
    uv_file fd;
    bool reading = false;
    bool orphaned = false;
  };
  FileReader(Loop& loop, uv_file fd)
      : shared_(std::make_shared<Shared>(Shared{.loop = loop.native(), .fd = fd})) {}
  static void CloseNow(const Shared& shared);
  std::shared_ptr<Shared> shared_;
};

}  // namespace sluice::uv
