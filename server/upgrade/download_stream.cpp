#include "server/upgrade/download_stream.h"

#include "common/proto/messages.h"

namespace sluice::server {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
// Keep at most this much queued on a connection: enough to fill the pipe, little memory.
constexpr size_t kMaxQueuedBytes = 256 * 1024;

}  // namespace

DownloadStream::DownloadStream(uv::Loop& loop, BandwidthPacer& pacer, std::string path,
                               uint64_t size, uint64_t offset, Sink sink)
    : loop_(loop),
      pacer_(pacer),
      path_(std::move(path)),
      size_(size),
      offset_(offset),
      sink_(std::move(sink)) {}

DownloadStream::~DownloadStream() = default;

void DownloadStream::Start() {
  auto alive = lifetime_.Token();
  uv::FileReader::Open(loop_, path_, [this, alive](Result<std::unique_ptr<uv::FileReader>> reader) {
    if (alive.expired()) return;
    if (!reader) {
      sink_.finished(reader.error());
      return;
    }
    reader_ = std::move(*reader);
    Next();
  });
}

void DownloadStream::OnDrain() {
  if (!waiting_for_drain_) return;
  waiting_for_drain_ = false;
  Next();
}

void DownloadStream::Next() {
  if (busy_) return;
  if (offset_ >= size_) {
    sink_.finished(std::nullopt);
    return;
  }
  if (sink_.pending_bytes() > kMaxQueuedBytes) {
    waiting_for_drain_ = true;
    return;
  }
  busy_ = true;
  const size_t length = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, size_ - offset_));
  auto alive = lifetime_.Token();
  pacer_.Acquire(length, [this, alive, length] {
    if (alive.expired()) return;
    reader_->Read(offset_, length, [this, alive](Result<Bytes> data) {
      if (alive.expired()) return;
      busy_ = false;
      if (!data) {
        sink_.finished(data.error());
        return;
      }
      if (data->empty()) {
        sink_.finished(Error(Errc::kCorrupt, "package file is shorter than its manifest"));
        return;
      }
      SendChunk(std::move(*data));
    });
  });
}

void DownloadStream::SendChunk(Bytes data) {
  const uint64_t at = offset_;
  offset_ += data.size();
  sink_.send(at, std::move(data));
  sink_.progress(offset_);
  Next();
}

}  // namespace sluice::server
