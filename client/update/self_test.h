#pragma once
// `sluice-client --self-test`: the health check an updater runs on a newly staged client before
// switching to it for good. Proves the binary starts, its shared libraries load and work, and it
// can write to the temp directory.

namespace sluice::client {

// Runs the checks, prints one line per failure to stderr, and returns the process exit status:
// 0 when everything works, 1 otherwise. Leaves no files behind.
int RunSelfTest();

}  // namespace sluice::client
