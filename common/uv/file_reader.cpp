#include "common/uv/file_reader.h"

namespace sluice::uv {
namespace {

// One in-flight request; owns its buffer and outlives the reader if it must.
struct Request {
  uv_fs_t fs;
  Bytes buffer;
  std::function<void(uv_fs_t*)> on_done;
};

void OnFs(uv_fs_t* fs) {
  std::unique_ptr<Request> request(static_cast<Request*>(fs->data));
  if (request->on_done) request->on_done(fs);
  uv_fs_req_cleanup(fs);
}

Error FsError(int status, const std::string& what) {
  return Error(status == UV_ENOENT ? Errc::kNotFound : Errc::kIo, what + ": " + uv_strerror(status));
}

}  // namespace

void FileReader::Open(Loop& loop, const std::string& path,
                      std::function<void(Result<std::unique_ptr<FileReader>>)> done) {
  auto* request = new Request();
  request->fs.data = request;
  request->on_done = [&loop, path, done = std::move(done)](uv_fs_t* fs) {
    if (fs->result < 0) {
      done(Fail(FsError(static_cast<int>(fs->result), "opening " + path)));
      return;
    }
    done(std::unique_ptr<FileReader>(new FileReader(loop, static_cast<uv_file>(fs->result))));
  };
  uv_fs_open(loop.native(), &request->fs, path.c_str(), O_RDONLY | O_CLOEXEC, 0, &OnFs);
}

void FileReader::CloseNow(const Shared& shared) {
  // Closing a regular file does not wait on the disk; synchronous keeps ownership simple.
  uv_fs_t close_request;
  uv_fs_close(shared.loop, &close_request, shared.fd, nullptr);
  uv_fs_req_cleanup(&close_request);
}

FileReader::~FileReader() {
  if (shared_->reading) {
    shared_->orphaned = true;  // the read's completion closes the file
  } else {
    CloseNow(*shared_);
  }
}

void FileReader::Read(uint64_t offset, size_t length, ReadDone done) {
  auto* request = new Request();
  request->fs.data = request;
  request->buffer.resize(length);
  shared_->reading = true;
  request->on_done = [request, shared = shared_, done = std::move(done)](uv_fs_t* fs) {
    shared->reading = false;
    if (shared->orphaned) {
      CloseNow(*shared);
      return;
    }
    if (fs->result < 0) {
      done(Fail(FsError(static_cast<int>(fs->result), "reading package")));
      return;
    }
    request->buffer.resize(static_cast<size_t>(fs->result));
    done(std::move(request->buffer));
  };
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(request->buffer.data()),
                             static_cast<unsigned>(length));
  uv_fs_read(shared_->loop, &request->fs, shared_->fd, &buf, 1, static_cast<int64_t>(offset), &OnFs);
}

}  // namespace sluice::uv
