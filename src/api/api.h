// The JSON API under /v1: routes map JSON to engine calls and engine errors
// to RFC 9457 problem details (docs/openapi.yaml). No Beast here: the server
// (api/server.h) turns bytes into HttpRequest and back.
//
// Authentication: every route but the public policy, health, metrics and
// the OpenAPI document needs `Authorization: Bearer <key>`. Writes accept an
// `Idempotency-Key` header: a retry with the same key and body is answered
// from the first answer and recorded once.
// Thread safety: Handle may be called from many threads at once.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/metrics.h"
#include "app/instance.h"

namespace qorgau::api {

// Limits on input, each with its reason.
struct ApiLimits {
  std::size_t max_body = 1 << 20;     // 1 MiB: a batch of 10 000 ids fits with room
  int max_json_depth = 16;            // our documents are 3 deep; deeper is abuse
  std::size_t max_batch = 10000;      // checks per batch request (the bound)
  std::size_t max_string = 1024;      // any single JSON string
  bool access_log = false;            // one JSON line per request on stderr
};

struct Route {
  std::string method;
  std::string pattern;  // "/v1/subjects/{id}"
  bool authenticated = true;
};

class Api {
 public:
  Api(app::Instance& instance, Metrics& metrics, std::string openapi, ApiLimits limits = {});

  HttpResponse Handle(const HttpRequest& request);

  // Every route the API has, for the OpenAPI test and the docs.
  static const std::vector<Route>& Routes();
  // "METHOD pattern" of each route, in Routes() order, for Metrics.
  static std::vector<std::string> RouteNames();

  // Not ready while shutting down.
  void SetReady(bool ready) { ready_ = ready; }

 private:
  struct Context;
  using Handler = std::function<HttpResponse(Api&, Context&)>;
  struct Entry {
    Route route;
    Handler handler;
  };
  static const std::vector<Entry>& Table();

  HttpResponse Dispatch(const HttpRequest& request, std::size_t* route);
  HttpResponse WithIdempotency(Context& ctx, const Handler& handler);

  // Handlers.
  HttpResponse Health(Context& ctx);
  HttpResponse Ready(Context& ctx);
  HttpResponse MetricsText(Context& ctx);
  HttpResponse OpenApi(Context& ctx);
  HttpResponse Policy(Context& ctx);
  HttpResponse AddSubject(Context& ctx);
  HttpResponse SearchSubject(Context& ctx);
  HttpResponse ReadSubject(Context& ctx);
  HttpResponse PutData(Context& ctx);
  HttpResponse JoinContract(Context& ctx);
  HttpResponse ListServices(Context& ctx);
  HttpResponse EnableService(Context& ctx);
  HttpResponse DisableService(Context& ctx);
  HttpResponse GrantConsent(Context& ctx);
  HttpResponse ListConsents(Context& ctx);
  HttpResponse PreviewWithdrawal(Context& ctx);
  HttpResponse ConfirmWithdrawal(Context& ctx);
  HttpResponse OpenObligation(Context& ctx);
  HttpResponse CloseObligation(Context& ctx);
  HttpResponse ImportObligations(Context& ctx);
  HttpResponse ListObligations(Context& ctx);
  HttpResponse Check(Context& ctx);
  HttpResponse CheckBatch(Context& ctx);
  HttpResponse Audience(Context& ctx);
  HttpResponse Receipt(Context& ctx);
  HttpResponse AuditVerify(Context& ctx);
  HttpResponse AuditAccess(Context& ctx);
  HttpResponse PutActor(Context& ctx);
  HttpResponse ListActors(Context& ctx);
  HttpResponse GrantDuty(Context& ctx);
  HttpResponse CreateKey(Context& ctx);

  app::Instance& inst_;
  Metrics& metrics_;
  std::string openapi_;
  ApiLimits limits_;
  std::atomic<bool> ready_{true};
  std::mutex idempotency_mu_;  // one idempotent write at a time: no double execution
};

// An error as problem details (RFC 9457), with its HTTP status.
HttpResponse Problem(const Error& error);

}  // namespace qorgau::api
