// sluicectl admin add|passwd|remove|list: the web dashboard's admin accounts. Passwords come
// from the terminal (not echoed, asked twice) or from --password-file; never from arguments.

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "common/base/time_format.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/ctl/ctl_secret.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

// The terminal's settings while its echo is off, for the signal handler below.
termios g_echoing{};
constexpr int kPromptSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Ctrl-C (or a kill) at the prompt must not leave the shell without echo: put the terminal back,
// then die of the signal as usual.
void RestoreEchoAndDie(int signal) {
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_echoing);
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

// One line from the terminal on stdin with echo off (restored before returning, and on SIGINT,
// SIGTERM, SIGHUP or SIGQUIT meanwhile).
Result<std::string> ReadHidden(std::ostream& prompt_out, const char* prompt) {
  termios saved{};
  if (::tcgetattr(STDIN_FILENO, &saved) != 0) {
    return Fail(Errc::kInvalidArgument,
                "no terminal to read the password from: use --password-file FILE");
  }
  g_echoing = saved;
  struct sigaction restore {};
  restore.sa_handler = RestoreEchoAndDie;
  struct sigaction previous[std::size(kPromptSignals)]{};
  for (size_t i = 0; i < std::size(kPromptSignals); ++i) {
    ::sigaction(kPromptSignals[i], &restore, &previous[i]);
  }
  struct Unhook {
    const struct sigaction* previous;
    ~Unhook() {
      for (size_t i = 0; i < std::size(kPromptSignals); ++i) {
        ::sigaction(kPromptSignals[i], &previous[i], nullptr);
      }
    }
  } unhook{previous};
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  prompt_out << prompt << std::flush;
  if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
    return Fail(Errc::kIo, "cannot turn off the terminal's echo");
  }
  std::string line;
  const bool read = static_cast<bool>(std::getline(std::cin, line));
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  if (!read) return Fail(Errc::kInvalidArgument, "no password entered");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The password of `admin add` / `admin passwd`: the file's first line, or typed twice.
Result<std::string> NewPassword(Ctl& ctl, const std::string& file) {
  if (!file.empty()) return ReadSecretFile(file);
  auto first = ReadHidden(ctl.err(), "New password: ");
  if (!first) return first;
  auto second = ReadHidden(ctl.err(), "Repeat the password: ");
  if (!second) return second;
  if (*first != *second) return Fail(Errc::kInvalidArgument, "the passwords do not match");
  return first;
}

struct AccountArgs {
  std::string name;
  std::string password_file;
};

// `admin add` and `admin passwd`: the same options, another command and message.
void AddPasswordCommand(Ctl& ctl, CLI::App* admin, const char* name, const char* help,
                        const char* cmd, const char* done) {
  auto args = std::make_shared<AccountArgs>();
  CLI::App* command = admin->add_subcommand(name, help);
  command->add_option("name", args->name, "Account name (1-64 of A-Z a-z 0-9 . _ -)")->required();
  command->add_option("--password-file", args->password_file,
                      "Read the password from the first line of FILE ('-': stdin) instead of "
                      "the terminal");
  command->callback([&ctl, args, cmd, done] {
    auto password = NewPassword(ctl, args->password_file);
    if (!password) return ctl.ReportFailure(password.error());
    ctl.Run(cmd, {{"name", args->name}, {"password", *password}}, false,
            [done](const json& result, std::ostream& out) -> Status {
              out << done << ' ' << Text(result, "name") << '\n';
              return {};
            });
  });
}

Status PrintAdmins(const json& result, std::ostream& out) {
  Table table({"NAME", "CREATED", "PASSWORD CHANGED"});
  const json& admins = Field(result, "admins");
  if (admins.is_array()) {
    for (const json& admin : admins) {
      auto when = [&admin](const char* key) {
        const json& ms = Field(admin, key);
        return ms.is_number_integer() ? FormatIsoUtc(ms.get<int64_t>()) : std::string("-");
      };
      table.AddRow({Text(admin, "name"), when("created_ms"), when("changed_ms")});
    }
  }
  table.Print(out);
  if (table.size() == 0) out << "no admin accounts (sluicectl admin add NAME)\n";
  return {};
}

}  // namespace

void AddAdminCommands(Ctl& ctl) {
  CLI::App* admin = ctl.app().add_subcommand("admin", "Admin accounts of the web dashboard");
  admin->require_subcommand(1);
  AddPasswordCommand(ctl, admin, "add", "Add an admin account", "admin-add", "added admin");
  AddPasswordCommand(ctl, admin, "passwd", "Set an admin's password", "admin-passwd",
                     "changed the password of");
  auto remove_name = std::make_shared<std::string>();
  CLI::App* remove = admin->add_subcommand("remove", "Remove an admin account");
  remove->add_option("name", *remove_name, "Account name")->required();
  remove->callback([&ctl, remove_name] {
    ctl.Run("admin-remove", {{"name", *remove_name}}, false,
            [](const json& result, std::ostream& out) -> Status {
              out << "removed admin " << Text(result, "name") << '\n';
              return {};
            });
  });
  CLI::App* list = admin->add_subcommand("list", "List the admin accounts");
  auto as_json = Ctl::AddJsonFlag(list);
  list->callback([&ctl, as_json] { ctl.Run("admins", json::object(), *as_json, PrintAdmins); });
}

}  // namespace sluice::ctl
