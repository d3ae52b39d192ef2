#pragma once
// Streams one package to one client connection from an offset: reads chunks off the loop
// thread, waits for the bandwidth pacer and for the socket to drain, sends `chunk` frames.
// Loop thread only.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/uv/file_reader.h"
#include "common/uv/lifetime.h"
#include "server/upgrade/bandwidth_pacer.h"

namespace sluice::server {

class DownloadStream {
 public:
  struct Sink {
    // Sends one chunk on the connection.
    std::function<void(uint64_t offset, Bytes data)> send;
    // Bytes queued on the connection and not yet written.
    std::function<size_t()> pending_bytes;
    // Progress after each chunk (for lease renewal and milestones).
    std::function<void(uint64_t bytes_done)> progress;
    // The stream ended: nullopt when every byte was sent.
    std::function<void(std::optional<Error>)> finished;
  };

  DownloadStream(uv::Loop& loop, BandwidthPacer& pacer, std::string path, uint64_t size,
                 uint64_t offset, Sink sink);
  ~DownloadStream();
  void Start();
  // The connection drained: continue if the stream was waiting for it.
  void OnDrain();

 private:
  void Next();
  void SendChunk(Bytes data);

  uv::Loop& loop_;
  BandwidthPacer& pacer_;
  std::string path_;
  uint64_t size_;
  uint64_t offset_;
  Sink sink_;
  std::unique_ptr<uv::FileReader> reader_;
  bool waiting_for_drain_ = false;
  bool busy_ = false;
  uv::Lifetime lifetime_;  // guards completions that outlive this object
};

}  // namespace sluice::server
