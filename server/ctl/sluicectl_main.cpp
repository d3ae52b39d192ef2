// sluicectl: administers a running sluiced over its admin socket (see docs/admin.md).

#include <CLI/CLI.hpp>
#include <iostream>

#include "server/ctl/ctl.h"
#include "server/ctl/ctl_commands.h"

int main(int argc, char** argv) {
  CLI::App app("sluicectl: administer a running sluiced", "sluicectl");
  sluice::ctl::Ctl ctl(app, std::cout, std::cerr);
  sluice::ctl::AddAllCommands(ctl);
  return ctl.Main(argc, argv);
}
