// The subcommands of `qorgau`, registered on a CLI11 app. Each callback
// sets Options::exit_code: 0 done, 1 refused or failed (the reason on
// stderr), 2 usage (CLI11's own).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace qorgau::cli {

struct Options {
  std::string data_dir;
  int exit_code = 0;
};

void Register(CLI::App& app, Options& opts);

// contract, service, obligation, withdraw, check, audience, receipt
// (cli/engine_commands.cc).
void RegisterEngine(CLI::App& app, Options& opts);

// `qorgau demo`: the main job of `make run` (cli/demo.cc).
void RegisterDemo(CLI::App& app, Options& opts);

}  // namespace qorgau::cli
