// `qorgau serve`: the HTTP API over the data directory, until SIGTERM or
// SIGINT; then a graceful shutdown that answers the requests in flight.
#include <signal.h>

#include <iostream>
#include <memory>

#include "api/api.h"
#include "api/server.h"
#include "cli/cli_util.h"

namespace qorgau::cli {

extern const char kOpenApiYaml[];  // docs/openapi.yaml, embedded at build time

namespace {

Result<std::pair<std::string, std::uint16_t>> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Fail(ErrorCode::kInvalidArgument, "listen", "must be ADDRESS:PORT");
  char* end = nullptr;
  const long port = std::strtol(listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) {
    return Fail(ErrorCode::kInvalidArgument, "listen", "port must be 0-65535");
  }
  return std::make_pair(listen.substr(0, colon), static_cast<std::uint16_t>(port));
}

}  // namespace

int Serve(app::Instance& inst, const ServeOptions& o, const std::function<void(std::uint16_t)>& ready) {
  auto listen = ParseListen(o.listen);
  if (!listen) return Report(listen.error());
  // The stop signals are blocked (BlockStopSignals, before any thread
  // started); this thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  api::Metrics metrics(api::Api::RouteNames());
  api::ApiLimits limits;
  limits.max_body = o.body_limit;
  limits.access_log = o.access_log;
  limits.auth.max_failures = o.auth_max_failures;
  limits.auth.window = std::chrono::seconds(o.auth_window_seconds);
  limits.auth.lockout = std::chrono::seconds(o.auth_lockout_seconds);
  api::Api handler(inst, metrics, kOpenApiYaml, limits);
  api::ServerOptions so;
  so.address = listen->first;
  so.port = listen->second;
  so.threads = o.threads;
  so.body_limit = o.body_limit;
  so.max_connections = o.max_connections;
  so.tls_cert_file = o.tls_cert;
  so.tls_key_file = o.tls_key;
  so.insecure = o.insecure;
  api::Server server(
      so, [&handler](const api::HttpRequest& r) { return handler.Handle(r); },
      [&handler](api::HttpRequest& head) { return handler.Admit(head); });
  auto port = server.Start();
  if (!port) return Report(port.error());
  std::cerr << "{\"event\":\"listening\",\"address\":\"" << so.address << "\",\"port\":" << *port
            << ",\"tls\":" << (so.tls_cert_file.empty() ? "false" : "true")
            << ",\"revision\":" << inst.index().revision() << "}" << std::endl;
  if (ready) ready(*port);
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "{\"event\":\"stopping\",\"signal\":" << sig << "}" << std::endl;
  handler.SetReady(false);
  server.Stop();
  server.Wait();
  std::cerr << "{\"event\":\"stopped\",\"revision\":" << inst.index().revision() << "}" << std::endl;
  return 0;
}

void BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void RegisterServe(CLI::App& app, Options& opts) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve the HTTP JSON API (docs/openapi.yaml) until SIGTERM");
  cmd->add_option("--listen", o->listen, "ADDRESS:PORT")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads, one io_context each (0: one per core)")
      ->capture_default_str();
  cmd->add_option("--body-limit", o->body_limit, "Largest request body in bytes")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20))
      ->capture_default_str();
  cmd->add_flag("--access-log", o->access_log,
                "Log one JSON line per request (route pattern, status, time; no values)");
  cmd->add_option("--max-connections", o->max_connections,
                  "Open connections at most; more are answered 503 with Retry-After")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--auth-max-failures", o->auth_max_failures,
                  "Failed authentications from one address within --auth-window before it is "
                  "locked out (429 with Retry-After)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--auth-window", o->auth_window_seconds, "Seconds over which failed authentications count")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--auth-lockout", o->auth_lockout_seconds,
                  "Seconds an address stays locked out after too many failed authentications")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--tls-cert", o->tls_cert, "Serve HTTPS: PEM certificate chain (with --tls-key)");
  cmd->add_option("--tls-key", o->tls_key, "Serve HTTPS: PEM private key of --tls-cert");
  cmd->add_flag("--insecure", o->insecure,
                "Allow plain HTTP on an address other than loopback (keys and data in clear)");
  cmd->callback([&opts, o] {
    BlockStopSignals();  // before the store's threads start, so they inherit it
    WithInstance(opts, [&](app::Instance& inst) { return Serve(inst, *o, nullptr); });
  });
}

}  // namespace qorgau::cli
