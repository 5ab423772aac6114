// `qorgau serve`: the HTTP API over the data directory, until SIGTERM or
// SIGINT; then a graceful shutdown that answers the requests in flight.
#include <signal.h>

#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "api/api.h"
#include "api/outbound.h"
#include "api/server.h"
#include "web/pages.h"
#include "cli/cli_util.h"
#include "core/working_calendar.h"

#include <boost/json.hpp>

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

// "02:30" -> 150.
Result<int> ParseTimeOfDay(const std::string& text) {
  int h = 0, m = 0;
  char tail = 0;
  if (text.size() != 5 || std::sscanf(text.c_str(), "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 ||
      m > 59) {
    return Fail(ErrorCode::kInvalidArgument, "retention-at", "must be HH:MM, 00:00 to 23:59");
  }
  return h * 60 + m;
}

// The daily destruction run inside the server: sleeps until the next
// run's time, runs (carrying on a run a crash left unfinished), logs one
// JSON line, and again the next day; stops with the server.
class DailyRetention {
 public:
  DailyRetention(app::Instance& inst, std::string actor, int minute)
      : inst_(inst), actor_(std::move(actor)), minute_(minute), thread_([this] { Loop(); }) {}
  ~DailyRetention() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    const std::string zone = CountryTimeZone(inst_.policy().controller.country);
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      const UnixMillis now = inst_.engine().clock().Now();
      const UnixMillis next = rules::NextDailyRun(zone, minute_, now);
      std::cerr << "{\"event\":\"retention_scheduled\",\"at\":\"" << FormatUtc(next) << "\"}" << std::endl;
      if (wake_.wait_for(lock, std::chrono::milliseconds(next - now), [&] { return stop_; })) break;
      lock.unlock();
      // The actor as it is now: disabled, or no longer a DPO, it is refused.
      auto caller = inst_.engine().CallerFor(actor_);
      auto r = caller ? inst_.engine().RunDestruction({}, **caller)
                      : Result<rules::RetentionRunOutcome>(tl::unexpected(caller.error()));
      if (r) {
        const auto act = boost::json::parse(r->run.act).as_object();
        std::cerr << "{\"event\":\"retention_run\",\"run\":" << r->run.run
                  << ",\"resumed\":" << (r->resumed ? "true" : "false")
                  << ",\"subjects\":" << act.at("subjects").as_int64()
                  << ",\"subjects_destroyed\":" << act.at("subjects_destroyed").as_int64() << "}" << std::endl;
      } else {
        std::cerr << "{\"event\":\"retention_failed\",\"code\":\"" << ErrorCodeName(r.error().code)
                  << "\",\"field\":\"" << r.error().field << "\"}" << std::endl;
      }
      lock.lock();
    }
  }

  app::Instance& inst_;
  std::string actor_;
  int minute_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// Delivers the outbox to the webhooks (rules/webhooks.h): a pass every
// `poll` (a webhook in back-off waits its turn), logging a JSON line for
// what was delivered or failed; stops with the server, between batches.
class WebhookLoop {
 public:
  WebhookLoop(app::Instance& inst, const ServeOptions& o)
      : inst_(inst), poll_(o.webhook_poll_ms), thread_([this, &o] { Loop(o); }) {}
  ~WebhookLoop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Loop(ServeOptions o) {
    api::PostOptions post;
    post.ca_file = o.webhook_ca;
    post.timeout = std::chrono::seconds(o.webhook_timeout_seconds);
    const rules::WebhookSender send = api::MakeWebhookSender(post);
    rules::DeliveryOptions options;
    options.backoff = std::chrono::milliseconds(o.webhook_backoff_ms);
    options.batch = static_cast<std::size_t>(o.webhook_batch);
    auto stopping = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return stop_;
    };
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      auto r = inst_.engine().DeliverOutbox(send, options, stopping);
      if (!r) {
        std::cerr << "{\"event\":\"webhooks_failed\",\"code\":\"" << ErrorCodeName(r.error().code)
                  << "\",\"field\":\"" << r.error().field << "\"}" << std::endl;
      } else {
        for (const auto& w : r->webhooks) {
          if (w.delivered > 0 || w.failed) {
            // The error names the receiver's host and port only; quoted as JSON.
            std::cerr << "{\"event\":\"webhook_delivery\",\"webhook\":\"" << w.webhook
                      << "\",\"delivered\":" << w.delivered << ",\"failed\":" << (w.failed ? "true" : "false")
                      << ",\"error\":" << boost::json::serialize(boost::json::value(w.error)) << "}" << std::endl;
          }
        }
      }
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(poll_), [&] { return stop_; });
    }
  }

  app::Instance& inst_;
  int poll_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int Serve(app::Instance& inst, const ServeOptions& o, const std::function<void(std::uint16_t)>& ready) {
  auto listen = ParseListen(o.listen);
  if (!listen) return Report(listen.error());
  auto minute = ParseTimeOfDay(o.retention_at);
  if (!minute) return Report(minute.error());
  std::shared_ptr<const rules::Caller> retention_caller;
  if (!o.retention_as.empty()) {
    auto caller = inst.engine().CallerFor(o.retention_as);
    if (!caller) return Report(caller.error());
    // Refused now, not at 02:30: the actor must be one who may run it.
    if (auto allowed = rules::Authorize(inst.policy(), **caller, rules::Action::kRetentionRun); !allowed) {
      return Report(allowed.error());
    }
    retention_caller = *caller;
  }
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
  web::PagesOptions po;
  po.secure_cookies = !o.tls_cert.empty();
  po.privacy_actor = o.privacy_as;
  po.sign_in = limits.auth;
  if (retention_caller) po.retention_at = o.retention_at + " (" + CountryTimeZone(inst.policy().controller.country) + ")";
  std::unique_ptr<web::SmsGateway> sms;
  if (!o.sms_file.empty()) sms = std::make_unique<web::FileSmsGateway>(o.sms_file);
  web::Pages pages(inst, std::move(sms), po);
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
      so,
      [&handler, &pages](const api::HttpRequest& r) {
        return web::Pages::Owns(r.path) ? pages.Handle(r) : handler.Handle(r);
      },
      [&handler, &pages](api::HttpRequest& head) {
        return web::Pages::Owns(head.path) ? pages.Admit(head) : handler.Admit(head);
      });
  auto port = server.Start();
  if (!port) return Report(port.error());
  std::cerr << "{\"event\":\"listening\",\"address\":\"" << so.address << "\",\"port\":" << *port
            << ",\"tls\":" << (so.tls_cert_file.empty() ? "false" : "true")
            << ",\"revision\":" << inst.index().revision() << "}" << std::endl;
  if (ready) ready(*port);
  std::unique_ptr<DailyRetention> daily;
  if (retention_caller) {
    daily = std::make_unique<DailyRetention>(inst, o.retention_as, *minute);
  } else {
    std::cerr << "{\"event\":\"retention_off\",\"why\":\"no --retention-as actor\"}" << std::endl;
  }
  std::unique_ptr<WebhookLoop> webhooks;
  if (o.webhook_poll_ms > 0) webhooks = std::make_unique<WebhookLoop>(inst, o);
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "{\"event\":\"stopping\",\"signal\":" << sig << "}" << std::endl;
  webhooks.reset();
  daily.reset();
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
  cmd->add_option("--retention-at", o->retention_at,
                  "The daily destruction run's local time, HH:MM in the operator's time zone")
      ->capture_default_str();
  cmd->add_option("--retention-as", o->retention_as,
                  "Run retention daily as this actor (a data protection officer); off when not given");
  cmd->add_option("--webhook-poll", o->webhook_poll_ms,
                  "Milliseconds between deliveries of the outbox to the webhooks (0: this server delivers none)")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  cmd->add_option("--webhook-backoff", o->webhook_backoff_ms,
                  "Milliseconds before a webhook that failed is tried again, doubling to 5 minutes")
      ->check(CLI::Range(1, 300000))
      ->capture_default_str();
  cmd->add_option("--webhook-timeout", o->webhook_timeout_seconds, "Seconds each step of a webhook's POST may take")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  cmd->add_option("--webhook-batch", o->webhook_batch, "Messages of the outbox per POST")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--webhook-ca", o->webhook_ca, "PEM certificates to trust for the webhooks besides the system's");
  cmd->add_option("--privacy-as", o->privacy_as,
                  "The system actor that acts for subscribers signed in to the privacy centre (/privacy/)")
      ->capture_default_str();
  cmd->add_option("--sms-file", o->sms_file,
                  "Append the privacy centre's one-time sign-in codes to this file, as the SMS gateway "
                  "(none: subscribers cannot sign in)");
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
