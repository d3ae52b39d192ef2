#pragma once
// Raw-TLS mode: the same loop, sockets and TLS engine as the simulated clients, speaking
// HTTP/1.1 instead of Sluice frames, so that a plain TLS server (nginx) can be measured by the
// very code that measures sluiced. Each of `concurrency` loops connects, handshakes (resuming
// its previous session if asked), sends one GET with "Connection: close", reads the response
// to the end and starts over.

#include <nlohmann/json.hpp>
#include <string>

#include "common/base/error.h"

namespace sluice::load {

struct RawTlsOptions {
  std::string host = "127.0.0.1";
  int port = 443;
  std::string path = "/";
  std::string pin;  // "sha256/..." of the server key; empty: not checked
  int concurrency = 64;
  bool resume = false;
  double duration_s = 10;
  double warmup_s = 1;
  int requests = 0;  // stop after this many responses in all (0: run for duration_s)
  int source_addresses = 50;
};

// Errors: kInvalidArgument for bad options; kTimeout if nothing completed at all (with the
// last connection error).
[[nodiscard]] Result<nlohmann::json> RunRawTls(const RawTlsOptions& options);

}  // namespace sluice::load
