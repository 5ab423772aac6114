// The `qorgau` command. A thin layer: parse arguments, call the engine,
// print the result or the error. Errors go to stderr with a non-zero exit;
// the engine guarantees nothing is half-written.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "app/instance.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace qorgau::cli;
  // A write beyond the file-size limit fails with EFBIG, answered like a
  // full disk (503), instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"qorgau - the personal-data protection engine of an operator's policy"};
  app.require_subcommand(1);
  Options opts;
  const char* env_data = std::getenv("QORGAU_DATA");
  opts.data_dir = env_data && *env_data ? env_data : "var";
  app.add_option("--data", opts.data_dir, "Data directory (default ./var, or $QORGAU_DATA)");
  // Every command acts as a named actor, under the same permission model as
  // the API (docs/access.md); `init` creates `console`, an administrator.
  app.add_option("--as", opts.as, "The actor to act as (default console, or $QORGAU_AS)")
      ->envname("QORGAU_AS");
  // A TOML file: `data = "..."` at the top, a [serve] section with the
  // server's options (listen, threads, body-limit, access-log), and
  // [audit.checkpoint] post = "URL" for the outside witness.
  app.set_config("--config", "", "Config file (TOML): data, [serve] listen, threads, ..., "
                                 "[audit.checkpoint] post");

  Register(app, opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return opts.exit_code;
}
