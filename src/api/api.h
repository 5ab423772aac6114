// The JSON API under /v1: routes map JSON to engine calls and engine errors
// to RFC 9457 problem details (docs/openapi.yaml). No Beast here: the server
// (api/server.h) turns bytes into HttpRequest and back.
//
// Authentication: every route but the public policy, health, metrics and
// the OpenAPI document needs `Authorization: Bearer <key>`, except the
// redemption of an enrolment token, whose credential is the token in its
// body. A refused key is answered 401 `unauthenticated` whatever the
// reason, and the reason is counted in the metrics; a source that fails
// too often is locked out (api/auth_limiter.h). Writes accept an
// `Idempotency-Key` header: a retry with the same key and body is answered
// from the first answer and recorded once.
//
// Two steps, so that the server can refuse before it reads a body: Admit
// sees the head (no body yet) and answers what the head alone decides (an
// unknown route, a missing key, a wrong Content-Type); Handle answers the
// whole request. Handle also works alone, for callers that have no head
// step (tests): it then checks everything Admit would.
// Thread safety: Admit and Handle may be called from many threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/auth_limiter.h"
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
  AuthLimits auth;                    // failed authentications per source
};

// The media type a route's POST body must have (Content-Type).
enum class BodyType {
  kJson,  // application/json, optionally ; charset=utf-8
  kCsv,   // text/csv, optionally ; charset=utf-8
};

// The credential a route takes.
enum class Credential {
  kNone,            // public: health, readiness, metrics, this document, the policy
  kApiKey,          // Authorization: Bearer qk_...
  kEnrolmentToken,  // the one-time token in the body; no API key
};

struct Route {
  std::string method;
  std::string pattern;  // "/v1/subjects/{id}"
  Credential credential = Credential::kApiKey;
  // The work grows with the request (a batch, an import, the whole ledger):
  // it runs on the server's worker pool so that it cannot hold up the
  // single checks on the I/O threads.
  bool heavy = false;
  BodyType body = BodyType::kJson;
  // The answer holds a secret shown once (a key, an enrolment token). It
  // is never stored, so an Idempotency-Key does not replay it.
  bool secret = false;
};

class Api {
 public:
  Api(app::Instance& instance, Metrics& metrics, std::string openapi, ApiLimits limits = {});

  // The head step (Server's admit hook): routes `head`, authenticates it
  // and checks its Content-Type. Fills head.admitted for Handle. An answer
  // in the result is final (and counted in the metrics).
  Admission Admit(HttpRequest& head);
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
  // The route of the request's method and path, with the path's decoded
  // parameters; or the answer when there is none (400, 404, 405).
  std::optional<HttpResponse> FindRoute(const HttpRequest& request, std::size_t* index,
                                        std::map<std::string, std::string>* params) const;
  // What the head decides for a matched route: a source locked out (429),
  // the caller (401) and a declared Content-Type (415).
  std::optional<HttpResponse> CheckHead(const Entry& entry, const HttpRequest& request,
                                        std::shared_ptr<const rules::Caller>* caller);
  // Counts a credential refused for `request` in the metrics and, unless
  // none was presented, against its source.
  void FailedAuthentication(const HttpRequest& request, AuthFailure reason);
  // Counts a finished request in the metrics and the access log.
  void Record(std::size_t route, int status, std::chrono::steady_clock::time_point start);
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
  HttpResponse EnrichData(Context& ctx);
  HttpResponse DeriveAttribute(Context& ctx);
  HttpResponse JoinContract(Context& ctx);
  HttpResponse EndContract(Context& ctx);
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
  HttpResponse ImportCalendar(Context& ctx);
  HttpResponse ListCalendars(Context& ctx);
  HttpResponse FileApplication(Context& ctx);
  HttpResponse DueApplications(Context& ctx);
  HttpResponse GetApplication(Context& ctx);
  HttpResponse ListApplications(Context& ctx);
  HttpResponse AttachDocument(Context& ctx);
  HttpResponse AdvanceApplication(Context& ctx);
  HttpResponse AnswerApplication(Context& ctx);
  HttpResponse RefuseApplication(Context& ctx);
  HttpResponse BlockSubject(Context& ctx);
  HttpResponse Statement(Context& ctx);
  HttpResponse RecordBreach(Context& ctx);
  HttpResponse ListBreaches(Context& ctx);
  HttpResponse MakeTransfer(Context& ctx);
  HttpResponse ListTransfers(Context& ctx);
  HttpResponse GetTransfer(Context& ctx);
  HttpResponse ReleaseAggregate(Context& ctx);
  HttpResponse ListAggregates(Context& ctx);
  HttpResponse ReadStatistics(Context& ctx);
  HttpResponse PolicyEditions(Context& ctx);
  HttpResponse AcceptEdition(Context& ctx);
  HttpResponse EditionAcceptance(Context& ctx);
  HttpResponse Outbox(Context& ctx);
  HttpResponse RetentionPlan(Context& ctx);
  HttpResponse DestroyOnApplication(Context& ctx);
  HttpResponse RetentionRun(Context& ctx);
  HttpResponse RetentionActs(Context& ctx);
  HttpResponse RetentionAct(Context& ctx);
  HttpResponse BreachNotified(Context& ctx);
  HttpResponse BreachNotice(Context& ctx);
  HttpResponse UnblockSubject(Context& ctx);
  HttpResponse Check(Context& ctx);
  HttpResponse CheckBatch(Context& ctx);
  HttpResponse Audience(Context& ctx);
  HttpResponse Receipt(Context& ctx);
  HttpResponse AuditVerify(Context& ctx);
  HttpResponse AuditAccess(Context& ctx);
  HttpResponse AuditCheckpoint(Context& ctx);
  HttpResponse AuditConsistency(Context& ctx);
  HttpResponse PutActor(Context& ctx);
  HttpResponse ListActors(Context& ctx);
  HttpResponse DisableActor(Context& ctx);
  HttpResponse GrantDuty(Context& ctx);
  HttpResponse RemoveDuty(Context& ctx);
  HttpResponse CreateKey(Context& ctx);
  HttpResponse ListDuties(Context& ctx);
  HttpResponse ListKeys(Context& ctx);
  HttpResponse RevokeKey(Context& ctx);
  HttpResponse CreateEnrolment(Context& ctx);
  HttpResponse RedeemEnrolment(Context& ctx);

  app::Instance& inst_;
  Metrics& metrics_;
  std::string openapi_;
  ApiLimits limits_;
  AuthLimiter limiter_;
  std::atomic<bool> ready_{true};
  // The (actor, Idempotency-Key) pairs of requests in progress here: a
  // second request with the same key waits for the first's answer (409).
  std::mutex idempotency_mu_;
  std::set<std::pair<std::string, std::string>> idempotency_in_flight_;
};

// The HTTP status of an error (the pages answer with the same).
int StatusFor(const Error& e);
// An error as problem details (RFC 9457), with its HTTP status.
HttpResponse Problem(const Error& error);

}  // namespace qorgau::api
