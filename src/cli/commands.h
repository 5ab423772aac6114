// The subcommands of `qorgau`, registered on a CLI11 app. Each callback
// sets Options::exit_code: 0 done, 1 refused or failed (the reason on
// stderr), 2 usage (CLI11's own).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace qorgau::app {
class Instance;
}

namespace qorgau::cli {

struct Options {
  std::string data_dir;
  std::string as = "console";  // the actor every command acts as
  int exit_code = 0;
};

void Register(CLI::App& app, Options& opts);

// A file for values (statements, breach notices, transfer exports),
// opened before anything is done and written after: a regular file is made
// readable by its owner only (0600, an existing one's mode too) before a
// byte of it changes, and a file whose mode cannot be changed (another
// user's) is refused untouched; a device or a pipe (/dev/stdout) keeps its
// mode. Errors name the path and the reason.
class OwnerOnlyFile {
 public:
  static Result<OwnerOnlyFile> Open(const std::string& path);
  OwnerOnlyFile(OwnerOnlyFile&& other) noexcept;
  OwnerOnlyFile& operator=(OwnerOnlyFile&&) = delete;
  ~OwnerOnlyFile();  // closes; removes a file Open created and nothing wrote
  // Replaces the contents with `text`, durably (fsync) for a regular file.
  Result<void> Write(std::string_view text);

 private:
  OwnerOnlyFile(std::string path, int fd, bool regular, bool created)
      : path_(std::move(path)), fd_(fd), regular_(regular), created_(created) {}
  std::string path_;
  int fd_ = -1;
  bool regular_ = false, created_ = false, written_ = false;
};

// OwnerOnlyFile::Open, then Write.
Result<void> WriteOwnerOnly(const std::string& path, std::string_view text);

// contract, service, obligation, withdraw, check, audience, receipt
// (cli/engine_commands.cc).
void RegisterEngine(CLI::App& app, Options& opts);

// calendar, request: working-day calendars and subjects' applications
// (cli/rights_commands.cc).
void RegisterRights(CLI::App& app, Options& opts);

// retention: plans (cli/retention_commands.cc).
void RegisterRetention(CLI::App& app, Options& opts);
// transfer make|list|show (R-IX): transfer_commands.cc.
void RegisterTransfers(CLI::App& app, Options& opts);
// aggregate, aggregates (R-IX.2): transfer_commands.cc.
void RegisterAggregates(CLI::App& app, Options& opts);
// policy publish|editions|accept, outbox (R-XI): edition_commands.cc.
// After RegisterPolicy: it adds to the `policy` command.
void RegisterEditions(CLI::App& app, Options& opts);
// webhook add|remove|list|deliver: edition_commands.cc.
void RegisterWebhooks(CLI::App& app, Options& opts);

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;
  std::size_t body_limit = 1 << 20;
  bool access_log = false;
  int max_connections = 1024;
  // TLS: PEM files of the certificate chain and its key; both or neither.
  std::string tls_cert;
  std::string tls_key;
  // Allow plain HTTP on an address other than loopback.
  bool insecure = false;
  // Failed authentications per source before its lockout, within the
  // window; the lockout's length (api/auth_limiter.h).
  int auth_max_failures = 10;
  int auth_window_seconds = 60;
  int auth_lockout_seconds = 60;
  // The daily destruction run (R-VII.2): at this local time of the
  // operator's zone, as this actor (a data protection officer); off when
  // no actor is named.
  std::string retention_at = "02:30";
  std::string retention_as;
  // The outbox's delivery to the webhooks (rules/webhooks.h): a pass every
  // poll (0: none from this server), the first back-off after a failure,
  // each POST step's limit, extra trusted certificates.
  int webhook_poll_ms = 1000;
  int webhook_backoff_ms = 1000;
  int webhook_timeout_seconds = 10;
  int webhook_batch = 100;  // messages per POST
  std::string webhook_ca;
  // The web pages (web/pages.h): the system actor that acts for signed-in
  // subscribers, and the file the one-time codes go to (the demo's SMS
  // gateway; none: subscribers cannot sign in).
  std::string privacy_as = "privacy-centre";
  std::string sms_file;
};

// `qorgau serve` (cli/serve.cc). Serve() runs until SIGTERM or SIGINT;
// `ready` is called with the port once listening.
void RegisterServe(CLI::App& app, Options& opts);
// Blocks SIGTERM and SIGINT in this thread and the threads it starts later,
// so that Serve() alone receives them (sigwait).
void BlockStopSignals();
int Serve(app::Instance& inst, const ServeOptions& options,
          const std::function<void(std::uint16_t)>& ready);

// `qorgau demo`: the main job of `make run` (cli/demo.cc).
void RegisterDemo(CLI::App& app, Options& opts);

}  // namespace qorgau::cli
