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
  // A misspelt key would otherwise be dropped in silence, and the server
  // start on defaults nobody chose (set before the subcommands, which
  // inherit it).
  app.allow_config_extras(CLI::config_extras_mode::error);

  Register(app, opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ConfigError& e) {
    // CLI11 says "INI was not able to parse serve.listne", and marks a
    // section of its own with ".++": name the key or the section instead.
    std::string item = e.what();
    const std::string prefix = "INI was not able to parse ";
    if (item.rfind(prefix, 0) != 0) {
      std::cerr << "--config: " << item << "\n";  // another complaint of CLI11's: as it is
      return 2;
    }
    item.erase(0, prefix.size());
    const bool section = item.size() > 3 && item.compare(item.size() - 3, 3, ".++") == 0;
    if (section) item.resize(item.size() - 3);
    std::cerr << "--config: " << (section ? "section [" + item + "]" : "key '" + item + "'")
              << " is no option of qorgau (misspelt, or a line that is not key = value)\n";
    return 2;
  } catch (const CLI::ParseError& e) {
    // --help answers 0; every other parse error is a usage
    // error, status 2, whatever CLI11's own code (commands.h).
    return app.exit(e) == 0 ? 0 : 2;
  }
  return opts.exit_code;
}
