#include "api/api.h"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <utility>

#include "core/utf8.h"
#include "crypto/crypto.h"
#include "policy/policy_printer.h"
#include "report/retention_act.h"
#include "report/statement.h"

namespace qorgau::api {
namespace {

namespace json = boost::json;
using rules::SubjectKey;
using store::ActorRole;
using store::SubjectId;

HttpResponse Json(int status, const json::value& v) {
  return HttpResponse{status, "application/json", json::serialize(v) + "\n", {}};
}

Error Bad(std::string field, std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(field), std::move(message)};
}

}  // namespace

int StatusFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: {
      // An unknown policy term is a semantic error of the request (422);
      // an unknown subject, reference or record is a missing resource (404),
      // and so is a record named by policy terms (a refusal with a reason:
      // no duty for this purpose, `duty_not_found`).
      if (!e.reason.empty()) return 404;
      static const char* kPolicyFields[] = {"purpose", "purposes", "category", "categories",
                                            "channel", "method", "service", "services", "data",
                                            "source", "inputs", "sum"};
      for (const char* f : kPolicyFields) {
        if (e.field == f) return 422;
      }
      return 404;
    }
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kPolicyInvalid: return 422;
    case ErrorCode::kIo: return 503;  // a full or failing disk: retry later
    default: return 500;
  }
}

namespace {

const char* Title(int status) {
  switch (status) {
    case 400: return "Bad request";
    case 401: return "Unauthenticated";
    case 403: return "Forbidden";
    case 404: return "Not found";
    case 409: return "Conflict";
    case 405: return "Method not allowed";
    case 413: return "Payload too large";
    case 415: return "Unsupported media type";
    case 422: return "Unprocessable content";
    case 429: return "Too many requests";
    case 503: return "Service unavailable";
    default: return "Internal error";
  }
}

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object TextJson(const policy::Text& t) {
  json::object o;
  for (const auto& [lang, text] : t) o[lang] = text;
  return o;
}

// A receipt as JSON, or null when none could be signed (the change stands).
json::value ReceiptJson(const std::string& receipt) {
  if (receipt.empty()) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(receipt, ec);
  return ec ? json::value(nullptr) : v;
}

json::object SubjectJson(const rules::SubjectView& v) {
  json::array data;
  for (const auto& d : v.data) {
    data.push_back(json::object{{"category", d.category},
                                {"value", d.value},
                                {"provenance", d.provenance},
                                {"recorded_at", FormatUtc(d.recorded_at)}});
  }
  return json::object{{"id", v.id}, {"masked", v.masked}, {"data", std::move(data)}};
}

std::vector<std::string> SplitActions(DutyActions actions) {
  std::vector<std::string> out;
  const std::string text = DutyActionsText(actions);
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// A route pattern's segments ("/v1/subjects/{id}"). Requests' paths are
// decoded by DecodePath instead: patterns hold braces, which RFC 3986 does not.
std::vector<std::string> SplitPattern(std::string_view pattern) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '/') {
      ++i;
      continue;
    }
    size_t j = pattern.find('/', i);
    if (j == std::string_view::npos) j = pattern.size();
    parts.emplace_back(pattern.substr(i, j - i));
    i = j;
  }
  return parts;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a Content-Type is `want`: the type and subtype compared without
// case (RFC 9110, 8.3.1), and no parameter but charset=utf-8 (any case,
// quoted or not). "application/jsonx" and "application/json-seq" are not
// JSON; neither is a charset we do not decode.
bool MediaTypeIs(std::string_view content_type, std::string_view want) {
  size_t semi = content_type.find(';');
  if (!EqualsIgnoreCase(TrimOws(content_type.substr(0, semi)), want)) return false;
  while (semi != std::string_view::npos) {
    content_type.remove_prefix(semi + 1);
    semi = content_type.find(';');
    const std::string_view parameter = TrimOws(content_type.substr(0, semi));
    if (parameter.empty()) continue;  // "type/subtype;" is allowed
    const size_t eq = parameter.find('=');
    if (eq == std::string_view::npos || !EqualsIgnoreCase(parameter.substr(0, eq), "charset")) {
      return false;
    }
    std::string_view value = parameter.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!EqualsIgnoreCase(value, "utf-8")) return false;
  }
  return true;
}

std::string_view MediaTypeName(BodyType type) {
  return type == BodyType::kCsv ? "text/csv" : "application/json";
}

HttpResponse UnsupportedMediaType(BodyType type) {
  return ProblemResponse(415, Title(415), "unsupported_media_type",
                         "the body must be " + std::string(MediaTypeName(type)) +
                             " (optionally ; charset=utf-8)",
                         "content-type");
}

// Whether a string or member name anywhere in `v` is not valid UTF-8.
bool HasInvalidUtf8(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return !IsValidUtf8(v.get_string());
    case json::kind::array:
      for (const auto& item : v.get_array()) {
        if (HasInvalidUtf8(item)) return true;
      }
      return false;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!IsValidUtf8(kv.key()) || HasInvalidUtf8(kv.value())) return true;
      }
      return false;
    default: return false;
  }
}

// The top-level member of a document parsed with invalid UTF-8 allowed
// that holds invalid UTF-8; "body" when that is a top-level member's name,
// or none is found.
std::string FieldWithInvalidUtf8(const json::value& v) {
  if (!v.is_object()) return "body";
  for (const auto& kv : v.get_object()) {
    if (!IsValidUtf8(kv.key())) return "body";
    if (HasInvalidUtf8(kv.value())) return std::string(kv.key());
  }
  return "body";
}

}  // namespace

HttpResponse Problem(const Error& e) {
  const int status = StatusFor(e);
  const std::string code = !e.reason.empty() ? e.reason : std::string(ErrorCodeName(e.code));
  // Internal errors say nothing of the inside.
  if (status == 500) return ProblemResponse(status, Title(status), code, "internal error; see the server log");
  if (status == 503) {
    // Nothing was changed (the transaction rolled back); the server stays
    // up and reads still work, so the client retries the write.
    std::fprintf(stderr, "qorgau: the store cannot write: %s\n", e.ToString().c_str());
    HttpResponse r = ProblemResponse(status, Title(status), "store_unavailable",
                                     "the store cannot write now (a full or failing disk); nothing was "
                                     "changed; retry later");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  return ProblemResponse(status, Title(status), code, e.message, e.field);
}

// What a handler gets: the request, the path's parameters, the caller and
// the body parsed once.
struct Api::Context {
  const HttpRequest& req;
  std::map<std::string, std::string> params;
  std::shared_ptr<const rules::Caller> caller;
  json::object body;
  const ApiLimits& limits;

  Result<void> ParseBody() {
    if (req.body.empty()) return {};
    json::parse_options opts;
    opts.max_depth = limits.max_json_depth;
    boost::system::error_code ec;
    if (const size_t bad = FirstInvalidUtf8(req.body); bad != std::string_view::npos) {
      // Boost.JSON refuses it too, but as a bare syntax error; parsed with
      // invalid UTF-8 allowed, the member that holds it can be named.
      opts.allow_invalid_utf8 = true;
      const json::value lenient = json::parse(req.body, ec, {}, opts);
      if (ec) return tl::unexpected(Bad("body", "is not valid JSON"));
      const std::string field = FieldWithInvalidUtf8(lenient);
      return tl::unexpected(Bad(field, field == "body" ? "is not valid UTF-8 at byte " + std::to_string(bad)
                                                       : std::string("is not valid UTF-8")));
    }
    json::value v = json::parse(req.body, ec, {}, opts);
    if (ec) return tl::unexpected(Bad("body", "is not valid JSON (or nested deeper than " +
                                                  std::to_string(limits.max_json_depth) + ")"));
    if (!v.is_object()) return tl::unexpected(Bad("body", "must be a JSON object"));
    body = std::move(v.as_object());
    return {};
  }

  Result<std::string> Str(const char* key, bool required) const {
    const json::value* v = body.if_contains(key);
    if (!v || v->is_null()) {
      if (required) return tl::unexpected(Bad(key, "is required"));
      return std::string();
    }
    if (!v->is_string()) return tl::unexpected(Bad(key, "must be a string"));
    if (v->get_string().size() > limits.max_string) {
      return tl::unexpected(Bad(key, "longer than " + std::to_string(limits.max_string) + " bytes"));
    }
    return std::string(v->get_string());
  }

  Result<std::vector<std::string>> List(const char* key) const {
    std::vector<std::string> out;
    const json::value* v = body.if_contains(key);
    if (!v || v->is_null()) return out;
    if (!v->is_array()) return tl::unexpected(Bad(key, "must be a list of strings"));
    if (v->get_array().size() > 256) return tl::unexpected(Bad(key, "has more than 256 items"));
    for (const auto& item : v->get_array()) {
      if (!item.is_string() || item.get_string().size() > limits.max_string) {
        return tl::unexpected(Bad(key, "must be a list of strings"));
      }
      out.emplace_back(item.get_string());
    }
    return out;
  }

  // An optional id of a record (an application): a positive integer.
  Result<std::optional<std::int64_t>> Id(const char* key, const char* what) const {
    const json::value* v = body.if_contains(key);
    if (!v || v->is_null()) return std::optional<std::int64_t>{};
    if (!v->is_int64() || v->get_int64() <= 0) return tl::unexpected(Bad(key, std::string("must be ") + what));
    return std::optional<std::int64_t>{v->get_int64()};
  }

  // A legal representative acting for the subject (`representative`).
  Result<std::optional<rules::Representative>> Representative() const {
    const json::value* rep = body.if_contains("representative");
    if (!rep || rep->is_null()) return std::optional<rules::Representative>{};
    if (!rep->is_object()) return tl::unexpected(Bad("representative", "must be an object"));
    rules::Representative r;
    const std::pair<const char*, std::string*> fields[] = {
        {"kind", &r.kind},
        {"name", &r.name},
        {"iin", &r.iin},
        {"proof_kind", &r.proof_kind},
        {"proof_reference", &r.proof_reference},
        {"valid_until", &r.valid_until}};
    for (const auto& [key, out] : fields) {
      const json::value* v = rep->get_object().if_contains(key);
      if (!v || v->is_null()) continue;
      if (!v->is_string() || v->get_string().size() > limits.max_string) {
        return tl::unexpected(Bad(std::string("representative.") + key, "must be a string"));
      }
      *out = std::string(v->get_string());
    }
    return std::optional<rules::Representative>{std::move(r)};
  }

  // A query parameter, or `fallback` when absent.
  std::string Query(const char* key, const char* fallback) const {
    auto it = req.query.find(key);
    return it == req.query.end() ? std::string(fallback) : it->second;
  }

  Result<bool> Bool(const char* key) const {
    const json::value* v = body.if_contains(key);
    if (!v || v->is_null()) return false;
    if (!v->is_bool()) return tl::unexpected(Bad(key, "must be true or false"));
    return v->get_bool();
  }

  SubjectKey Subject() const { return SubjectKey{SubjectKey::Kind::kId, params.at("id")}; }
};

namespace {

#define TRY(expr)                                   \
  do {                                              \
    if (auto _r = (expr); !_r) return Problem(_r.error()); \
  } while (0)

#define TRY_ASSIGN(var, expr)                     \
  auto var##_result = (expr);                     \
  if (!var##_result) return Problem(var##_result.error()); \
  auto var = std::move(*var##_result)

}  // namespace

Api::Api(app::Instance& instance, Metrics& metrics, std::string openapi, ApiLimits limits)
    : inst_(instance),
      metrics_(metrics),
      openapi_(std::move(openapi)),
      limits_(limits),
      limiter_(limits.auth, instance.engine().clock()) {}

const std::vector<Api::Entry>& Api::Table() {
  constexpr Credential kPublic = Credential::kNone, kKey = Credential::kApiKey;
  constexpr bool kHeavy = true, kSecret = true;
  static const std::vector<Entry> kTable = {
      {{"GET", "/healthz", kPublic}, &Api::Health},
      {{"GET", "/readyz", kPublic}, &Api::Ready},
      {{"GET", "/metrics", kPublic}, &Api::MetricsText},
      {{"GET", "/openapi.yaml", kPublic}, &Api::OpenApi},
      {{"GET", "/v1/policy", kPublic}, &Api::Policy},
      {{"GET", "/v1/policy/editions", kPublic}, &Api::PolicyEditions},
      {{"POST", "/v1/subjects", kKey}, &Api::AddSubject},
      {{"POST", "/v1/subjects/search", kKey}, &Api::SearchSubject},
      {{"GET", "/v1/subjects/{id}", kKey}, &Api::ReadSubject},
      {{"POST", "/v1/subjects/{id}/data", kKey}, &Api::PutData},
      {{"POST", "/v1/subjects/{id}/enrichments", kKey}, &Api::EnrichData},
      {{"POST", "/v1/subjects/{id}/derived", kKey}, &Api::DeriveAttribute},
      {{"POST", "/v1/subjects/{id}/contracts", kKey}, &Api::JoinContract},
      {{"POST", "/v1/subjects/{id}/contracts/{contract}/end", kKey}, &Api::EndContract},
      {{"GET", "/v1/subjects/{id}/services", kKey}, &Api::ListServices},
      {{"POST", "/v1/subjects/{id}/services/{service}/enable", kKey}, &Api::EnableService},
      {{"POST", "/v1/subjects/{id}/services/{service}/disable", kKey}, &Api::DisableService},
      {{"POST", "/v1/subjects/{id}/consents", kKey}, &Api::GrantConsent},
      {{"GET", "/v1/subjects/{id}/consents", kKey}, &Api::ListConsents},
      {{"POST", "/v1/subjects/{id}/withdrawals/preview", kKey}, &Api::PreviewWithdrawal},
      {{"POST", "/v1/subjects/{id}/withdrawals", kKey}, &Api::ConfirmWithdrawal},
      {{"GET", "/v1/subjects/{id}/obligations", kKey}, &Api::ListObligations},
      {{"POST", "/v1/obligations", kKey}, &Api::OpenObligation},
      {{"POST", "/v1/obligations/import", kKey, kHeavy, BodyType::kCsv}, &Api::ImportObligations},
      {{"POST", "/v1/obligations/{ref}/close", kKey}, &Api::CloseObligation},
      {{"GET", "/v1/calendars", kPublic}, &Api::ListCalendars},
      {{"POST", "/v1/calendars", kKey}, &Api::ImportCalendar},
      {{"POST", "/v1/requests", kKey}, &Api::FileApplication},
      {{"GET", "/v1/requests", kKey}, &Api::DueApplications},
      {{"GET", "/v1/requests/{id}", kKey}, &Api::GetApplication},
      {{"POST", "/v1/requests/{id}/documents", kKey}, &Api::AttachDocument},
      {{"POST", "/v1/requests/{id}/advance", kKey}, &Api::AdvanceApplication},
      {{"POST", "/v1/requests/{id}/answer", kKey}, &Api::AnswerApplication},
      {{"POST", "/v1/requests/{id}/refuse", kKey}, &Api::RefuseApplication},
      {{"POST", "/v1/requests/{id}/block", kKey}, &Api::BlockSubject},
      {{"POST", "/v1/requests/{id}/destroy", kKey}, &Api::DestroyOnApplication},
      {{"POST", "/v1/requests/{id}/unblock", kKey}, &Api::UnblockSubject},
      {{"GET", "/v1/subjects/{id}/requests", kKey}, &Api::ListApplications},
      {{"GET", "/v1/subjects/{id}/statement", kKey}, &Api::Statement},
      {{"POST", "/v1/breaches", kKey}, &Api::RecordBreach},
      {{"GET", "/v1/breaches", kKey}, &Api::ListBreaches},
      // Secret: the answer is the export, with values in full; it is never
      // kept as an idempotent answer.
      {{"POST", "/v1/transfers", kKey, kHeavy, BodyType::kJson, kSecret}, &Api::MakeTransfer},
      {{"GET", "/v1/transfers", kKey}, &Api::ListTransfers},
      {{"GET", "/v1/transfers/{id}", kKey}, &Api::GetTransfer},
      {{"POST", "/v1/aggregates", kKey, kHeavy}, &Api::ReleaseAggregate},
      {{"GET", "/v1/aggregates", kKey}, &Api::ListAggregates},
      {{"GET", "/v1/statistics", kKey, kHeavy}, &Api::ReadStatistics},
      {{"POST", "/v1/subjects/{id}/acceptances", kKey}, &Api::AcceptEdition},
      {{"GET", "/v1/subjects/{id}/acceptances", kKey}, &Api::EditionAcceptance},
      {{"GET", "/v1/outbox", kKey}, &Api::Outbox},
      {{"GET", "/v1/retention/plan", kKey}, &Api::RetentionPlan},
      {{"POST", "/v1/retention/runs", kKey}, &Api::RetentionRun},
      {{"GET", "/v1/retention/acts", kKey}, &Api::RetentionActs},
      {{"GET", "/v1/retention/acts/{run}", kKey}, &Api::RetentionAct},
      {{"POST", "/v1/breaches/{id}/notified", kKey}, &Api::BreachNotified},
      {{"GET", "/v1/breaches/{id}/notice", kKey}, &Api::BreachNotice},
      {{"POST", "/v1/check", kKey}, &Api::Check},
      {{"POST", "/v1/check/batch", kKey, kHeavy}, &Api::CheckBatch},
      {{"POST", "/v1/audience", kKey, kHeavy}, &Api::Audience},
      {{"GET", "/v1/receipts/{seq}", kKey}, &Api::Receipt},
      {{"GET", "/v1/audit/verify", kKey, kHeavy}, &Api::AuditVerify},
      {{"GET", "/v1/audit/checkpoint", kKey}, &Api::AuditCheckpoint},
      // Heavy: with `to`, the signed heads are scanned for that size.
      {{"GET", "/v1/audit/consistency", kKey, kHeavy}, &Api::AuditConsistency},
      // Heavy: a subject's trail reads its events and decisions; by actor
      // or date, the index of reads is walked.
      {{"GET", "/v1/audit/access", kKey, kHeavy}, &Api::AuditAccess},
      {{"GET", "/v1/actors", kKey}, &Api::ListActors},
      {{"POST", "/v1/actors", kKey}, &Api::PutActor},
      {{"POST", "/v1/actors/{actor}/disable", kKey}, &Api::DisableActor},
      {{"POST", "/v1/actors/{actor}/duties", kKey}, &Api::GrantDuty},
      {{"DELETE", "/v1/actors/{actor}/duties/{purpose}", kKey}, &Api::RemoveDuty},
      {{"GET", "/v1/actors/{actor}/duties", kKey}, &Api::ListDuties},
      {{"GET", "/v1/actors/{actor}/keys", kKey}, &Api::ListKeys},
      {{"POST", "/v1/actors/{actor}/keys", kKey, false, BodyType::kJson, kSecret}, &Api::CreateKey},
      {{"POST", "/v1/actors/{actor}/keys/{key}/revoke", kKey}, &Api::RevokeKey},
      {{"POST", "/v1/actors/{actor}/enrolments", kKey, false, BodyType::kJson, kSecret},
       &Api::CreateEnrolment},
      {{"POST", "/v1/enrolments/redeem", Credential::kEnrolmentToken, false, BodyType::kJson, kSecret},
       &Api::RedeemEnrolment},
  };
  return kTable;
}

const std::vector<Route>& Api::Routes() {
  static const std::vector<Route> kRoutes = [] {
    std::vector<Route> r;
    for (const auto& e : Table()) r.push_back(e.route);
    return r;
  }();
  return kRoutes;
}

std::vector<std::string> Api::RouteNames() {
  std::vector<std::string> names;
  for (const auto& r : Routes()) names.push_back(r.method + " " + r.pattern);
  return names;
}

void Api::Record(std::size_t route, int status, std::chrono::steady_clock::time_point start) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.CountRequest(route, status, seconds);
  if (limits_.access_log) {
    // The route's pattern, never the path or the query: no values in logs.
    const std::string name = route < Routes().size()
                                 ? Routes()[route].method + " " + Routes()[route].pattern
                                 : std::string("unmatched");
    std::string line = "{\"event\":\"request\",\"route\":" + json::serialize(json::value(name)) +
                       ",\"status\":" + std::to_string(status) +
                       ",\"ms\":" + std::to_string(seconds * 1000.0) + "}\n";
    std::fputs(line.c_str(), stderr);
  }
}

Admission Api::Admit(HttpRequest& head) {
  const auto start = std::chrono::steady_clock::now();
  head.admitted = {};
  std::size_t index = metrics_.unmatched();
  std::optional<HttpResponse> answer = FindRoute(head, &index, &head.admitted.params);
  if (!answer) answer = CheckHead(Table()[index], head, &head.admitted.caller);
  if (answer) {
    Record(index, answer->status, start);
    return Admission{std::move(answer), false};
  }
  head.admitted.route = index;
  return Admission{std::nullopt, Table()[index].route.heavy};
}

HttpResponse Api::Handle(const HttpRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  std::size_t route = metrics_.unmatched();
  HttpResponse r = Dispatch(req, &route);
  Record(route, r.status, start);
  return r;
}

std::optional<HttpResponse> Api::FindRoute(const HttpRequest& req, std::size_t* index,
                                           std::map<std::string, std::string>* params) const {
  auto parts = DecodePath(req.path);
  if (!parts) return Problem(parts.error());
  // The patterns, split once.
  static const std::vector<std::vector<std::string>> kPatterns = [] {
    std::vector<std::vector<std::string>> v;
    for (const Entry& e : Table()) v.push_back(SplitPattern(e.route.pattern));
    return v;
  }();
  auto matches = [&](const std::vector<std::string>& pattern) {
    if (pattern.size() != parts->size()) return false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i].front() != '{' && pattern[i] != (*parts)[i]) return false;
    }
    return true;
  };
  std::string allow;
  for (std::size_t i = 0; i < Table().size(); ++i) {
    const std::vector<std::string>& pattern = kPatterns[i];
    if (!matches(pattern)) continue;
    if (Table()[i].route.method != req.method) {
      allow += (allow.empty() ? "" : ", ") + Table()[i].route.method;
      continue;
    }
    *index = i;
    for (size_t k = 0; k < pattern.size(); ++k) {
      if (pattern[k].front() == '{') {
        (*params)[pattern[k].substr(1, pattern[k].size() - 2)] = std::move((*parts)[k]);
      }
    }
    return std::nullopt;
  }
  if (allow.empty()) return Problem(Error{ErrorCode::kNotFound, "path", "no such route"});
  // Every method of the path, for the Allow header (the loop stopped at
  // none, so it saw them all).
  HttpResponse r = ProblemResponse(405, Title(405), "method_not_allowed", "this path takes " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

namespace {

AuthFailure FailureOf(const Error& e) {
  if (e.reason == "key_revoked") return AuthFailure::kRevoked;
  if (e.reason == "key_expired") return AuthFailure::kExpired;
  if (e.reason == "actor_disabled") return AuthFailure::kDisabled;
  return AuthFailure::kUnknownKey;
}

HttpResponse LockedOut(std::int64_t seconds) {
  HttpResponse r = ProblemResponse(429, Title(429), "too_many_failed_authentications",
                                   "too many failed authentications from this address; retry in " +
                                       std::to_string(seconds) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

}  // namespace

void Api::FailedAuthentication(const HttpRequest& req, AuthFailure reason) {
  metrics_.CountAuthFailure(reason);
  if (reason != AuthFailure::kMissing && limiter_.CountFailure(req.peer)) metrics_.CountLockout();
}

std::optional<HttpResponse> Api::CheckHead(const Entry& e, const HttpRequest& req,
                                           std::shared_ptr<const rules::Caller>* caller) {
  // Admit has checked the head already: what is left is the caller it found.
  const bool admitted = req.admitted.route < Table().size();
  if (admitted) {
    *caller = req.admitted.caller;
  } else if (e.route.credential != Credential::kNone) {
    // Before the credential is looked at, so that a locked-out guesser
    // learns nothing, right guess or wrong (api/auth_limiter.h).
    if (const std::int64_t wait = limiter_.LockedFor(req.peer); wait > 0) return LockedOut(wait);
  }
  if (!admitted && e.route.credential == Credential::kApiKey) {
    constexpr std::string_view kBearer = "Bearer ";
    std::string_view auth = req.authorization;
    if (!auth.starts_with(kBearer)) {
      FailedAuthentication(req, AuthFailure::kMissing);
      return Problem(Error{ErrorCode::kUnauthenticated, "authorization",
                           "send Authorization: Bearer <api key>", "unauthenticated"});
    }
    auto authenticated = inst_.engine().Authenticate(auth.substr(kBearer.size()));
    if (!authenticated) {
      if (authenticated.error().code != ErrorCode::kUnauthenticated) return Problem(authenticated.error());
      FailedAuthentication(req, FailureOf(authenticated.error()));
      // One answer whatever the reason: the key's state is its
      // administrator's business (the metrics count the reasons).
      return Problem(Error{ErrorCode::kUnauthenticated, "authorization",
                           "a valid API key is needed (Authorization: Bearer qk_...)",
                           "unauthenticated"});
    }
    *caller = std::move(*authenticated);
  }
  if (req.method == "POST" && !req.content_type.empty() && !MediaTypeIs(req.content_type, MediaTypeName(e.route.body))) {
    return UnsupportedMediaType(e.route.body);
  }
  return std::nullopt;
}

HttpResponse Api::Dispatch(const HttpRequest& req, std::size_t* route_index) {
  if (req.body.size() > limits_.max_body) {
    return ProblemResponse(413, Title(413), "payload_too_large",
                           "larger than " + std::to_string(limits_.max_body) + " bytes", "body");
  }
  std::size_t index = req.admitted.route;
  Context ctx{req, {}, nullptr, {}, limits_};
  if (index < Table().size()) {
    ctx.params = req.admitted.params;  // routed by Admit
  } else if (auto answer = FindRoute(req, &index, &ctx.params)) {
    return std::move(*answer);
  }
  *route_index = index;
  const Entry& e = Table()[index];
  if (auto answer = CheckHead(e, req, &ctx.caller)) return std::move(*answer);
  if (req.method == "POST") {
    // A body says what it is: no guessing from its bytes.
    if (!req.body.empty() && req.content_type.empty()) return UnsupportedMediaType(e.route.body);
    if (e.route.body == BodyType::kJson) {
      if (auto r = ctx.ParseBody(); !r) return Problem(r.error());
    } else if (const size_t bad = FirstInvalidUtf8(req.body); bad != std::string_view::npos) {
      return Problem(Bad("body", "is not valid UTF-8 at byte " + std::to_string(bad)));
    }
  }
  // A key or token is shown once and never stored: its answer is not
  // replayable. Idempotency keys are scoped to the calling actor.
  if (req.method == "POST" && !req.idempotency_key.empty() && !e.route.secret &&
      e.route.credential == Credential::kApiKey) {
    // Stored as text: HTTP lets bytes above 0x7F through in a header.
    if (!IsValidUtf8(req.idempotency_key)) return Problem(Bad("idempotency-key", "is not valid UTF-8"));
    return WithIdempotency(ctx, e.handler);
  }
  return e.handler(*this, ctx);
}

namespace {

// How long an Idempotency-Key is remembered (docs/api.md).
constexpr UnixMillis kIdempotencyTtl = 24LL * 60 * 60 * 1000;
// Expired records deleted with each stored answer: enough to keep up with
// any rate of new keys, few enough not to slow the answer down.
constexpr int kIdempotencyPurge = 16;

// The answer stored for a key, replayed; or a refusal when the request
// differs or its answer was lost.
HttpResponse Replay(const store::IdempotencyRecord& prior, const crypto::Bytes& hash) {
  if (prior.request_hash != hash) {
    return Problem(Error{ErrorCode::kFailedPrecondition, "idempotency-key",
                         "this key was used for a different request", "idempotency_key_reused"});
  }
  if (prior.status == store::kIdempotencyPending) {
    // The change was made (the record was written with it) but the process
    // stopped before its answer was stored: it is not made twice.
    return Problem(Error{ErrorCode::kAlreadyExists, "idempotency-key",
                         "the request with this key was done (" + prior.body +
                             ") but its answer was not kept; read the current state",
                         "idempotency_answer_lost"});
  }
  HttpResponse r{prior.status, "application/json", prior.body, {}};
  if (r.status >= 400) r.content_type = "application/problem+json";
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

}  // namespace

HttpResponse Api::WithIdempotency(Context& ctx, const Handler& handler) {
  const std::string& key = ctx.req.idempotency_key;
  if (key.size() > 128) return Problem(Bad("idempotency-key", "longer than 128 characters"));
  // Keyed (HMAC), so that a stored hash of a body with an IIN in it cannot
  // be brute-forced back from the database file.
  auto keyed = inst_.keys().BlindIndex("idempotency", ctx.req.method + " " + ctx.req.path + "\n" +
                                                          ctx.req.body);
  if (!keyed) return Problem(keyed.error());
  const std::string actor = ctx.caller->actor.id;
  const UnixMillis now = inst_.engine().clock().Now();
  rules::IdempotencyClaim claim{key, std::move(*keyed), now - kIdempotencyTtl};

  // One request of a key at a time here; between processes, the store's
  // unique (actor, key) lets only one of them change anything.
  {
    std::lock_guard<std::mutex> lock(idempotency_mu_);
    if (!idempotency_in_flight_.emplace(actor, key).second) {
      HttpResponse busy = Problem(Error{ErrorCode::kAlreadyExists, "idempotency-key",
                                        "a request with this key is in progress", "idempotency_key_in_use"});
      busy.headers.emplace_back("Retry-After", "1");
      return busy;
    }
  }
  struct Release {
    Api& api;
    std::pair<std::string, std::string> slot;
    ~Release() {
      std::lock_guard<std::mutex> lock(api.idempotency_mu_);
      api.idempotency_in_flight_.erase(slot);
    }
  } release{*this, {actor, key}};

  auto stored = [&]() -> Result<std::optional<store::IdempotencyRecord>> {
    QORGAU_ASSIGN_OR_RETURN(auto txn, inst_.store().Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(auto prior, txn->GetIdempotency(actor, key));
    if (prior && prior->at < claim.expired_before) prior.reset();
    return prior;
  };
  auto prior = stored();
  if (!prior) return Problem(prior.error());
  if (*prior) return Replay(**prior, claim.request_hash);

  // The engine records the claim with the request's first write, in its
  // transaction (rules::IdempotencyClaim).
  auto caller = std::make_shared<rules::Caller>(*ctx.caller);
  caller->idempotency = &claim;
  const auto own = std::exchange(ctx.caller, std::move(caller));
  HttpResponse r = handler(*this, ctx);
  ctx.caller = own;

  if (!claim.recorded) {
    // Nothing was changed. Another process may have won the key meanwhile.
    auto winner = stored();
    if (winner && *winner) return Replay(**winner, claim.request_hash);
  }
  // A failure of the server is not an answer to keep: a recorded claim
  // stays pending (the retry is told the change was made), an unrecorded
  // one leaves no record (the retry runs the request again).
  if (r.status >= 500) return r;
  // The answer is stored through group commit, durable before it is sent:
  // a retry of an answered request gets the same answer.
  const int status = r.status;
  const std::string& body = r.body;
  const bool recorded = claim.recorded;
  auto saved = inst_.writer().Submit([&](store::Transaction& txn) -> Result<store::GroupCommitter::OnCommit> {
    if (recorded) {
      QORGAU_TRY(txn.CompleteIdempotency(actor, key, status, body));
    } else {
      // A live record written meanwhile (another request's) is kept.
      QORGAU_TRY(txn.PutIdempotency({actor, key, claim.request_hash, status, body, now},
                                    claim.expired_before));
    }
    QORGAU_TRY(txn.DeleteIdempotencyBefore(claim.expired_before, kIdempotencyPurge));
    return store::GroupCommitter::OnCommit{};
  });
  if (!saved && recorded) {
    // The change is durable and its record pending: a retry is told that
    // the change was made, not this answer. The client is told so now.
    std::fprintf(stderr, "qorgau: an idempotent answer was not stored: %s\n",
                 saved.error().ToString().c_str());
    r.headers.emplace_back("Idempotency-Answer-Stored", "false");
  }
  return r;
}

HttpResponse Api::Health(Context&) { return Json(200, json::object{{"status", "ok"}}); }

HttpResponse Api::Ready(Context&) {
  if (!ready_) {
    HttpResponse r = Json(503, json::object{{"type", "urn:qorgau:problem:not_ready"},
                                            {"title", Title(503)},
                                            {"status", 503},
                                            {"code", "not_ready"},
                                            {"detail", "shutting down"}});
    r.content_type = "application/problem+json";
    return r;
  }
  return Json(200, json::object{{"status", "ready"}, {"revision", inst_.index().revision()}});
}

HttpResponse Api::MetricsText(Context&) {
  std::string text = metrics_.Render(inst_.index().revision(), inst_.engine().decisions_pending());
  // Subjects' applications, counted in the store at each scrape (LAW.md §5).
  if (auto counts = inst_.engine().CountApplications(inst_.engine().clock().Now())) {
    text += Metrics::RenderGauge("qorgau_applications_open",
                                 "Subjects' applications not yet answered or refused, by kind.", "kind",
                                 counts->open);
    text += Metrics::RenderGauge("qorgau_applications_overdue",
                                 "Open applications past their legal deadline, by kind.", "kind",
                                 counts->overdue);
  }
  if (auto late = inst_.engine().CountOverdueNotices(inst_.engine().clock().Now())) {
    text += "# HELP qorgau_breach_notices_overdue Breaches whose notice to the authorised body is late.\n"
            "# TYPE qorgau_breach_notices_overdue gauge\nqorgau_breach_notices_overdue " +
            std::to_string(*late) + "\n";
  }
  return HttpResponse{200, "text/plain; version=0.0.4", std::move(text), {}};
}

HttpResponse Api::OpenApi(Context&) { return HttpResponse{200, "application/yaml", openapi_, {}}; }

HttpResponse Api::Policy(Context& ctx) {
  const policy::Policy& p = inst_.policy();
  std::string lang = "kk";
  if (auto it = ctx.req.query.find("lang"); it != ctx.req.query.end()) lang = it->second;
  if (lang != "kk" && lang != "ru" && lang != "en") return Problem(Bad("lang", "must be kk, ru or en"));
  auto in = [&](const policy::Text& t) { return policy::InLanguage(t, lang); };
  json::array purposes, categories, services, channels;
  for (const auto& pu : p.purposes) {
    purposes.push_back(json::object{{"id", pu.id}, {"number", pu.number},
                                    {"basis", policy::LegalBasisName(pu.basis)},
                                    {"name", in(pu.name)}});
  }
  for (const auto& c : p.categories) {
    json::array ps;
    for (const auto& r : c.purposes) ps.emplace_back(r.id);
    categories.push_back(json::object{{"id", c.id},
                                      {"access", c.access == policy::AccessClass::kPublic ? "public" : "restricted"},
                                      {"name", in(c.name)},
                                      {"purposes", std::move(ps)}});
  }
  for (const auto& s : p.services) {
    json::array ps, cs;
    for (const auto& r : s.purposes) ps.emplace_back(r.id);
    for (const auto& r : s.categories) cs.emplace_back(r.id);
    services.push_back(json::object{{"id", s.id},
                                    {"kind", s.kind == policy::ServiceKind::kBase ? "base" : "additional"},
                                    {"name", in(s.name)},
                                    {"purposes", std::move(ps)},
                                    {"categories", std::move(cs)}});
  }
  for (const auto& c : p.channels) channels.push_back(json::object{{"id", c.id}, {"name", in(c.name)}});
  json::object out{
      {"edition", p.edition.number},
      {"effective_date", p.edition.effective_date ? json::value(FormatDate(*p.edition.effective_date)) : json::value(nullptr)},
      {"lang", lang},
      {"controller", json::object{{"name", in(p.controller.name)},
                                  {"brand", p.controller.brand},
                                  {"address", in(p.controller.address)},
                                  {"postal_index", p.controller.postal_index}}},
      {"purposes", std::move(purposes)},
      {"categories", std::move(categories)},
      {"services", std::move(services)},
      {"channels", std::move(channels)},
      {"withdrawal", json::object{{"warning", in(p.withdrawal.warning)}}},
  };
  if (auto it = p.edition.texts.find(lang); it != p.edition.texts.end()) out["text"] = it->second;
  return Json(200, out);
}

HttpResponse Api::AddSubject(Context& ctx) {
  TRY_ASSIGN(iin, ctx.Str("iin", true));
  TRY_ASSIGN(phone, ctx.Str("phone", true));
  TRY_ASSIGN(provenance, ctx.Str("provenance", false));
  rules::SubjectInput in{iin, phone, {}, provenance.empty() ? "subject" : provenance};
  if (const json::value* data = ctx.body.if_contains("data"); data && !data->is_null()) {
    if (!data->is_object()) return Problem(Bad("data", "must be an object of category: value"));
    if (data->get_object().size() > 64) return Problem(Bad("data", "more than 64 values"));
    for (const auto& kv : data->get_object()) {
      if (!kv.value().is_string() || kv.value().get_string().size() > limits_.max_string) {
        return Problem(Bad("data", "each value must be a string of at most " +
                                       std::to_string(limits_.max_string) + " bytes"));
      }
      in.data[std::string(kv.key())] = std::string(kv.value().get_string());
    }
  }
  TRY_ASSIGN(id, inst_.engine().AddSubject(in, *ctx.caller));
  return Json(201, json::object{{"id", id}});
}

HttpResponse Api::SearchSubject(Context& ctx) {
  TRY_ASSIGN(iin, ctx.Str("iin", false));
  TRY_ASSIGN(phone, ctx.Str("phone", false));
  if (iin.empty() == phone.empty()) return Problem(Bad("iin", "give exactly one of iin and phone"));
  TRY_ASSIGN(id, inst_.engine().LookupSubject(
                     *ctx.caller, iin.empty() ? SubjectKey::Phone(phone) : SubjectKey::Iin(iin)));
  return Json(200, json::object{{"id", id}});
}

HttpResponse Api::ReadSubject(Context& ctx) {
  auto purpose = ctx.req.query.find("purpose");
  if (purpose == ctx.req.query.end() || purpose->second.empty()) {
    return Problem(Bad("purpose", "every read of personal data names its purpose (?purpose=)"));
  }
  std::vector<std::string> categories;
  if (auto it = ctx.req.query.find("categories"); it != ctx.req.query.end()) {
    const std::string& c = it->second;
    size_t start = 0;
    while (start <= c.size()) {
      size_t comma = c.find(',', start);
      if (comma == std::string::npos) comma = c.size();
      if (comma > start) categories.push_back(c.substr(start, comma - start));
      start = comma + 1;
    }
  }
  TRY_ASSIGN(view, inst_.engine().ReadPersonalData(*ctx.caller, ctx.Subject(), purpose->second, categories));
  json::object out = SubjectJson(view);
  out["purpose"] = purpose->second;
  return Json(200, out);
}

HttpResponse Api::PutData(Context& ctx) {
  TRY_ASSIGN(category, ctx.Str("category", true));
  TRY_ASSIGN(value, ctx.Str("value", true));
  TRY_ASSIGN(provenance, ctx.Str("provenance", false));
  TRY_ASSIGN(application, ctx.Id("application", "an application id"));
  TRY_ASSIGN(revision, inst_.engine().PutData(ctx.Subject(), category, value,
                                              provenance.empty() ? "subject" : provenance,
                                              *ctx.caller, application));
  return Json(201, json::object{{"category", category}, {"revision", revision}});
}

namespace {

json::object EnrichmentJson(const rules::EnrichmentOutcome& r) {
  const store::EnrichmentRecord& e = r.record;
  json::object out{{"subject", r.subject},    {"category", e.category}, {"kind", e.kind},
                   {"purpose", e.purpose},    {"event", e.event_seq},   {"revision", r.revision}};
  if (e.kind == "derived") {
    out["inputs"] = Strings(e.inputs);
  } else {
    out["source"] = e.source;
    out["agreement"] = e.agreement.empty() ? json::value(nullptr) : json::value(e.agreement);
  }
  return out;
}

}  // namespace

HttpResponse Api::EnrichData(Context& ctx) {
  TRY_ASSIGN(category, ctx.Str("category", true));
  TRY_ASSIGN(value, ctx.Str("value", true));
  TRY_ASSIGN(source, ctx.Str("source", true));
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(r, inst_.engine().EnrichData({ctx.Subject(), category, value, source, purpose}, *ctx.caller));
  return Json(201, EnrichmentJson(r));
}

HttpResponse Api::DeriveAttribute(Context& ctx) {
  TRY_ASSIGN(category, ctx.Str("category", true));
  TRY_ASSIGN(value, ctx.Str("value", true));
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(inputs, ctx.List("inputs"));
  TRY_ASSIGN(r, inst_.engine().DeriveAttribute({ctx.Subject(), category, value, purpose, inputs}, *ctx.caller));
  return Json(201, EnrichmentJson(r));
}

HttpResponse Api::JoinContract(Context& ctx) {
  TRY_ASSIGN(method, ctx.Str("method", true));
  TRY_ASSIGN(services, ctx.List("services"));
  TRY_ASSIGN(evidence, ctx.Str("evidence", true));
  TRY_ASSIGN(representative, ctx.Representative());
  TRY_ASSIGN(r, inst_.engine().JoinContract({ctx.Subject(), method, services, evidence, representative},
                                            *ctx.caller));
  return Json(201, json::object{{"subject", r.subject},
                                {"contract", r.contract_id},
                                {"services", Strings(r.services)},
                                {"consent_by_joining", Strings(r.contract_purposes)},
                                {"consents_granted", Strings(r.consents_granted)},
                                {"revision", r.revision},
                                {"receipt", ReceiptJson(r.receipt)}});
}

HttpResponse Api::EndContract(Context& ctx) {
  TRY_ASSIGN(evidence, ctx.Str("evidence", true));
  std::int64_t contract = 0;
  const std::string& text = ctx.params.at("contract");
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), contract);
  if (ec != std::errc() || end != text.data() + text.size() || contract <= 0) {
    return Problem(Bad("contract", "must be a contract id"));
  }
  TRY_ASSIGN(r, inst_.engine().EndContract({ctx.Subject(), contract, evidence}, *ctx.caller));
  return Json(200, json::object{{"subject", r.subject},
                                {"contract", r.contract},
                                {"services_off", Strings(r.services_off)},
                                {"relationship_ended", r.relationship_ended},
                                {"destroyed", Strings(r.destroyed)},
                                {"revision", r.revision}});
}

HttpResponse Api::ListServices(Context& ctx) {
  TRY_ASSIGN(subs, inst_.engine().ListServices(*ctx.caller, ctx.Subject()));
  json::array out;
  for (const auto& s : subs) {
    out.push_back(json::object{{"service", s.service}, {"active", s.active},
                               {"contract", s.contract_id}, {"changed_at", FormatUtc(s.changed_at)}});
  }
  return Json(200, json::object{{"services", std::move(out)}});
}

HttpResponse Api::EnableService(Context& ctx) {
  TRY_ASSIGN(application, ctx.Str("application", false));
  TRY_ASSIGN(channel, ctx.Str("channel", false));
  TRY_ASSIGN(evidence, ctx.Str("evidence", false));
  TRY_ASSIGN(application_id, ctx.Id("application_id", "an application id"));
  TRY_ASSIGN(representative, ctx.Representative());
  TRY_ASSIGN(r, inst_.engine().EnableService({ctx.Subject(), ctx.params.at("service"), application, channel,
                                              evidence, application_id, representative},
                                             *ctx.caller));
  json::object out{{"subject", r.subject}, {"service", r.service}, {"active", r.active},
                   {"consents_granted", Strings(r.consents_granted)}, {"revision", r.revision}};
  if (!r.receipt.empty()) out["receipt"] = ReceiptJson(r.receipt);
  return Json(200, out);
}

HttpResponse Api::DisableService(Context& ctx) {
  TRY_ASSIGN(r, inst_.engine().DisableService({ctx.Subject(), ctx.params.at("service"), "", "", ""},
                                              *ctx.caller));
  return Json(200, json::object{{"subject", r.subject}, {"service", r.service},
                                {"active", r.active}, {"revision", r.revision},
                                {"destroyed", Strings(r.destroyed)}});
}

HttpResponse Api::GrantConsent(Context& ctx) {
  // Unknown or non-consent purposes get the engine's own answer (422, 409).
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(channel, ctx.Str("channel", true));
  TRY_ASSIGN(evidence, ctx.Str("evidence", true));
  TRY_ASSIGN(representative, ctx.Representative());
  TRY_ASSIGN(cross_border, ctx.Bool("cross_border"));
  TRY_ASSIGN(r, inst_.engine().GrantConsent(
                    {ctx.Subject(), purpose, channel, evidence, representative, cross_border}, *ctx.caller));
  return Json(201, json::object{{"subject", r.subject}, {"purpose", r.purpose}, {"state", "granted"},
                                {"cross_border", cross_border}, {"edition", r.edition}, {"revision", r.revision},
                                {"receipt", ReceiptJson(r.receipt)}});
}

HttpResponse Api::ListConsents(Context& ctx) {
  TRY_ASSIGN(consents, inst_.engine().ListConsents(*ctx.caller, ctx.Subject()));
  json::array out;
  for (const auto& c : consents) {
    out.push_back(json::object{
        {"purpose", c.purpose},
        {"state", c.state == store::ConsentState::kGranted ? "granted" : "withdrawn"},
        {"edition", c.edition}, {"channel", c.channel}, {"evidence", c.evidence},
        {"cross_border", c.cross_border}, {"changed_at", FormatUtc(c.changed_at)}, {"event", c.event_seq}});
  }
  return Json(200, json::object{{"consents", std::move(out)}});
}

namespace {

json::object PlanJson(const rules::WithdrawalPlan& p) {
  json::array nw;
  for (const auto& n : p.not_withdrawable) {
    nw.push_back(json::object{{"purpose", n.purpose}, {"basis", policy::LegalBasisName(n.basis)},
                              {"why", n.why}});
  }
  json::object out{{"subject", p.subject},
                   {"preview", p.preview},
                   {"consents_end", Strings(p.consents_end)},
                   {"services_off", Strings(p.services_off)},
                   {"destroyed", Strings(p.destroyed)},
                   {"not_withdrawable", std::move(nw)},
                   {"warning", TextJson(p.warning)}};
  if (!p.preview) {
    out["revision"] = p.revision;
    out["receipt"] = ReceiptJson(p.receipt);
  }
  return out;
}

}  // namespace

HttpResponse Api::PreviewWithdrawal(Context& ctx) {
  TRY_ASSIGN(application, ctx.Id("application", "an application id"));
  TRY_ASSIGN(channel, ctx.Str("channel", !application));
  TRY_ASSIGN(services, ctx.List("services"));
  TRY_ASSIGN(purposes, ctx.List("purposes"));
  TRY_ASSIGN(plan, inst_.engine().Withdraw({ctx.Subject(), channel, "", services, purposes, true, application},
                                           *ctx.caller));
  return Json(200, PlanJson(plan));
}

HttpResponse Api::ConfirmWithdrawal(Context& ctx) {
  // On a withdrawal application, its channel, reference and purposes.
  TRY_ASSIGN(application, ctx.Id("application", "an application id"));
  TRY_ASSIGN(channel, ctx.Str("channel", !application));
  TRY_ASSIGN(evidence, ctx.Str("evidence", !application));
  TRY_ASSIGN(services, ctx.List("services"));
  TRY_ASSIGN(purposes, ctx.List("purposes"));
  TRY_ASSIGN(representative, ctx.Representative());
  TRY_ASSIGN(plan, inst_.engine().Withdraw(
                       {ctx.Subject(), channel, evidence, services, purposes, false, application, representative},
                       *ctx.caller));
  return Json(200, PlanJson(plan));
}

namespace {

json::object ObligationJson(const store::ObligationRecord& o) {
  json::object out{{"ref", o.ref},
                   {"subject", o.subject_id},
                   {"kind", store::ObligationKindName(o.kind)},
                   {"open", !o.closed_at.has_value()},
                   {"opened_at", FormatUtc(o.opened_at)}};
  if (o.amount_minor) out["amount_tiyn"] = *o.amount_minor;
  if (o.closed_at) out["closed_at"] = FormatUtc(*o.closed_at);
  out["keeps"] = o.categories.empty() ? json::value("everything") : json::value(Strings(o.categories));
  return out;
}

}  // namespace

HttpResponse Api::OpenObligation(Context& ctx) {
  const json::value* subject = ctx.body.if_contains("subject");
  if (!subject || !subject->is_int64()) return Problem(Bad("subject", "must be a subject id"));
  TRY_ASSIGN(kind, ctx.Str("kind", true));
  TRY_ASSIGN(ref, ctx.Str("ref", true));
  TRY_ASSIGN(amount, ctx.Str("amount", false));
  TRY_ASSIGN(categories, ctx.List("categories"));
  store::ObligationKind k;
  if (!store::ParseObligationKind(kind, &k)) {
    return Problem(Bad("kind", "must be debt, instalment or legal_hold"));
  }
  TRY_ASSIGN(o, inst_.engine().OpenObligation(
                    {SubjectKey::Id(subject->get_int64()), k, ref, amount, categories}, *ctx.caller));
  return Json(201, ObligationJson(o));
}

HttpResponse Api::CloseObligation(Context& ctx) {
  TRY_ASSIGN(o, inst_.engine().CloseObligation(ctx.params.at("ref"), *ctx.caller));
  return Json(200, ObligationJson(o));
}

HttpResponse Api::ImportObligations(Context& ctx) {
  TRY_ASSIGN(report, inst_.engine().ImportObligations(ctx.req.body, *ctx.caller));
  if (!report.problems.empty()) {
    Error e{ErrorCode::kInvalidArgument, "body", "nothing imported; see problems", "import_refused"};
    HttpResponse r = Problem(e);
    json::value v = json::parse(r.body);
    v.as_object()["problems"] = Strings(report.problems);
    r.body = json::serialize(v) + "\n";
    return r;
  }
  return Json(200, json::object{{"opened", report.opened}, {"closed", report.closed}});
}

HttpResponse Api::ListObligations(Context& ctx) {
  TRY_ASSIGN(list, inst_.engine().ListObligations(*ctx.caller, ctx.Subject()));
  json::array out;
  for (const auto& o : list) out.push_back(ObligationJson(o));
  return Json(200, json::object{{"obligations", std::move(out)}});
}

namespace {

json::object ApplicationJson(const rules::ApplicationView& v, const WorkingCalendar& calendar) {
  const store::ApplicationRecord& r = v.record;
  json::array purposes, documents;
  for (const auto& p : r.purposes) purposes.emplace_back(p);
  for (const auto& d : v.documents) {
    documents.push_back(json::object{{"reference", d.reference}, {"sha256", d.sha256}, {"added_at", FormatUtc(d.added_at)}});
  }
  json::object out{{"id", r.id},
                   {"subject", r.subject_id},
                   {"kind", ApplicationKindName(r.kind)},
                   {"state", ApplicationStateName(r.state)},
                   {"channel", r.channel},
                   {"reference", r.reference},
                   {"requester", r.requester},
                   {"purposes", std::move(purposes)},
                   {"handler", r.handler},
                   {"received_at", FormatUtc(r.received_at)},
                   {"due_at", FormatUtc(r.due_at)},
                   {"due_date", FormatDate(calendar.LocalDate(r.due_at))},
                   {"time_zone", calendar.zone()},
                   {"working_days", r.working_days},
                   {"overdue", v.overdue},
                   {"documents", std::move(documents)}};
  if (r.requester != "subject") {
    out["proof"] = json::object{{"kind", r.proof_kind}, {"valid_until", r.proof_valid_until}};
  }
  if (r.closed_at) {
    out["closed_at"] = FormatUtc(*r.closed_at);
    out[r.state == ApplicationState::kAnswered ? "answer_reference" : "refusal_reason"] = r.outcome;
  }
  return out;
}

Result<std::int64_t> ApplicationId(const std::string& text, const char* what = "an application id") {
  std::int64_t id = 0;
  const bool ok = !text.empty() && text.size() <= 18 &&
                  std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (ok) id = std::stoll(text);
  if (!ok || id <= 0) return tl::unexpected(Bad("id", std::string("must be ") + what + " (a positive number)"));
  return id;
}

}  // namespace

HttpResponse Api::ImportCalendar(Context& ctx) {
  // A year's file is a few kB: longer than the limit of other strings,
  // within the body's.
  const json::value* text = ctx.body.if_contains("content");
  if (!text || !text->is_string()) return Problem(Bad("content", "is required: the calendar file, as a string"));
  const std::string content(text->get_string());
  TRY_ASSIGN(year, inst_.engine().ImportCalendar(content, *ctx.caller));
  return Json(201, json::object{{"country", year.country},
                                {"year", year.year},
                                {"days_off", year.days_off.size()},
                                {"working_days", year.working_days.size()}});
}

HttpResponse Api::ListCalendars(Context&) {
  TRY_ASSIGN(list, inst_.engine().ListCalendars());
  json::array out;
  for (const auto& c : list) {
    out.push_back(json::object{{"country", c.country}, {"year", c.year}, {"imported_at", FormatUtc(c.imported_at)},
                               {"event", c.event_seq}});
  }
  return Json(200, json::object{{"calendars", std::move(out)}});
}

HttpResponse Api::FileApplication(Context& ctx) {
  rules::ApplicationRequest req;
  TRY_ASSIGN(iin, ctx.Str("iin", false));
  TRY_ASSIGN(phone, ctx.Str("phone", false));
  const json::value* subject = ctx.body.if_contains("subject");
  if ((subject != nullptr) + !iin.empty() + !phone.empty() != 1) {
    return Problem(Bad("subject", "name the subject by exactly one of subject (its id), iin or phone"));
  }
  if (subject) {
    if (!subject->is_int64()) return Problem(Bad("subject", "must be a subject id"));
    req.subject = SubjectKey::Id(subject->get_int64());
  } else {
    req.subject = iin.empty() ? SubjectKey::Phone(phone) : SubjectKey::Iin(iin);
  }
  TRY_ASSIGN(kind, ctx.Str("kind", true));
  TRY_ASSIGN(channel, ctx.Str("channel", true));
  TRY_ASSIGN(reference, ctx.Str("reference", true));
  TRY_ASSIGN(received, ctx.Str("received_at", false));
  TRY_ASSIGN(purposes, ctx.List("purposes"));
  req.kind = kind;
  req.channel = channel;
  req.reference = reference;
  req.purposes = purposes;
  if (!received.empty()) {
    TRY_ASSIGN(at, ParseUtc(received, "received_at"));
    req.received_at = at;
  }
  if (const json::value* docs = ctx.body.if_contains("documents"); docs && !docs->is_null()) {
    if (!docs->is_array() || docs->get_array().size() > 64) {
      return Problem(Bad("documents", "must be a list of at most 64 {reference, sha256}"));
    }
    for (const auto& d : docs->get_array()) {
      const json::value* ref = d.is_object() ? d.get_object().if_contains("reference") : nullptr;
      const json::value* sha = d.is_object() ? d.get_object().if_contains("sha256") : nullptr;
      if (!ref || !sha || !ref->is_string() || !sha->is_string()) {
        return Problem(Bad("documents", "each must be {\"reference\": ..., \"sha256\": ...}"));
      }
      req.documents.push_back({std::string(ref->get_string()), std::string(sha->get_string())});
    }
  }
  TRY_ASSIGN(representative, ctx.Representative());
  req.representative = representative;
  TRY_ASSIGN(view, inst_.engine().FileApplication(req, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(201, ApplicationJson(view, *calendar));
}

HttpResponse Api::DueApplications(Context& ctx) {
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  std::optional<UnixMillis> before;
  if (auto it = ctx.req.query.find("due_before"); it != ctx.req.query.end()) {
    TRY_ASSIGN(day, ParseDate(it->second, "due_before"));
    // Due before the day begins in the operator's time zone.
    before = calendar->EndOfLocalDay(std::chrono::sys_days(day) - std::chrono::days(1)) + 1;
  }
  TRY_ASSIGN(list, inst_.engine().DueApplications(*ctx.caller, before));
  json::array out;
  for (const auto& v : list) out.push_back(ApplicationJson(v, *calendar));
  return Json(200, json::object{{"applications", std::move(out)}});
}

HttpResponse Api::RetentionPlan(Context& ctx) {
  rules::RetentionPlanRequest req;
  if (auto it = ctx.req.query.find("as_of"); it != ctx.req.query.end()) {
    TRY_ASSIGN(day, ParseDate(it->second, "as_of"));
    TRY_ASSIGN(calendar, inst_.engine().Calendar());
    req.as_of = calendar->EndOfLocalDay(std::chrono::sys_days(day));
  }
  TRY_ASSIGN(plan, inst_.engine().PlanDestruction(req, *ctx.caller));
  HttpResponse r = Json(200, json::object{});
  r.body = rules::RetentionPlanJson(plan);
  return r;
}

namespace {

json::object RunJson(const store::RetentionRunRecord& r) {
  json::object o{{"run", r.run},
                 {"number", "DA-" + std::to_string(r.run)},
                 {"as_of", FormatUtc(r.as_of)},
                 {"started_at", FormatUtc(r.started_at)},
                 {"actor", r.actor},
                 {"edition", r.edition},
                 {"finished", r.finished_at.has_value()}};
  if (r.finished_at) {
    o["finished_at"] = FormatUtc(*r.finished_at);
    // Stored canonical; a damaged row says so rather than failing the list
    // (audit verify names it).
    boost::system::error_code ec;
    json::value act = json::parse(r.act, ec);
    o["act"] = ec ? json::value(nullptr) : std::move(act);
  }
  return o;
}

}  // namespace

HttpResponse Api::RetentionRun(Context& ctx) {
  rules::RetentionRunRequest req;
  TRY_ASSIGN(as_of, ctx.Str("as_of", false));
  if (!as_of.empty()) {
    TRY_ASSIGN(calendar, inst_.engine().Calendar());
    TRY_ASSIGN(end, rules::RunAsOfDay(*calendar, as_of, inst_.engine().clock().Now(), "as_of"));
    req.as_of = end;
  }
  TRY_ASSIGN(r, inst_.engine().RunDestruction(req, *ctx.caller));
  json::object out = RunJson(r.run);
  out["resumed"] = r.resumed;
  return Json(200, std::move(out));
}

HttpResponse Api::RetentionActs(Context& ctx) {
  TRY_ASSIGN(runs, inst_.engine().RetentionRuns(*ctx.caller));
  json::array out;
  for (const auto& r : runs) out.push_back(RunJson(r));
  return Json(200, json::object{{"runs", std::move(out)}});
}

HttpResponse Api::RetentionAct(Context& ctx) {
  std::int64_t run = 0;
  const std::string& text = ctx.params.at("run");
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), run);
  if (ec != std::errc() || end != text.data() + text.size() || run <= 0) {
    return Problem(Bad("run", "must be a run number"));
  }
  const auto query = [&](const char* key, const char* fallback) {
    const auto it = ctx.req.query.find(key);
    return it == ctx.req.query.end() ? std::string(fallback) : it->second;
  };
  const std::string lang = query("lang", "kk");
  const std::string format = query("format", "json");
  if (format != "json" && format != "html") return Problem(Bad("format", "must be json or html"));
  TRY_ASSIGN(runs, inst_.engine().RetentionRuns(*ctx.caller));
  const auto it = std::find_if(runs.begin(), runs.end(), [&](const store::RetentionRunRecord& r) { return r.run == run; });
  if (it == runs.end()) return Problem(Error{ErrorCode::kNotFound, "run", "no destruction run " + text});
  if (format == "html") {
    TRY_ASSIGN(html, report::RetentionActHtml(inst_.engine().policy(), *it, lang));
    HttpResponse r = Json(200, json::object{});
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(html);
    return r;
  }
  TRY_ASSIGN(doc, report::RetentionActJson(inst_.engine().policy(), *it, lang));
  HttpResponse r = Json(200, json::object{});
  r.body = std::move(doc);
  return r;
}

HttpResponse Api::GetApplication(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(view, inst_.engine().GetApplication(id, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, ApplicationJson(view, *calendar));
}

HttpResponse Api::ListApplications(Context& ctx) {
  TRY_ASSIGN(list, inst_.engine().ListApplications(*ctx.caller, ctx.Subject()));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  json::array out;
  for (const auto& v : list) out.push_back(ApplicationJson(v, *calendar));
  return Json(200, json::object{{"applications", std::move(out)}});
}

HttpResponse Api::AttachDocument(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(reference, ctx.Str("reference", true));
  TRY_ASSIGN(sha256, ctx.Str("sha256", true));
  TRY_ASSIGN(view, inst_.engine().AttachDocument(id, {reference, sha256}, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, ApplicationJson(view, *calendar));
}

HttpResponse Api::AdvanceApplication(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(to, ctx.Str("to", true));
  TRY_ASSIGN(view, inst_.engine().AdvanceApplication(id, to, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, ApplicationJson(view, *calendar));
}

HttpResponse Api::AnswerApplication(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(reference, ctx.Str("reference", true));
  TRY_ASSIGN(view, inst_.engine().AnswerApplication(id, reference, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, ApplicationJson(view, *calendar));
}

HttpResponse Api::RefuseApplication(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(reason, ctx.Str("reason", true));
  TRY_ASSIGN(view, inst_.engine().RefuseApplication(id, reason, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, ApplicationJson(view, *calendar));
}

HttpResponse Api::Statement(Context& ctx) {
  const std::string format = ctx.Query("format", "json");
  if (format != "json" && format != "html") return Problem(Bad("format", "must be json or html"));
  const std::string full = ctx.Query("full", "false");
  if (full != "true" && full != "false") return Problem(Bad("full", "must be true or false"));
  rules::StatementRequest req{ctx.Subject(), ctx.Query("lang", "kk"), full == "true", std::nullopt};
  if (const std::string a = ctx.Query("application", ""); !a.empty()) {
    TRY_ASSIGN(id, ApplicationId(a));
    req.application = id;
  }
  TRY_ASSIGN(statement, inst_.engine().Statement(req, *ctx.caller));
  if (format == "html") {
    return HttpResponse{200, "text/html; charset=utf-8", report::StatementHtml(inst_.policy(), statement), {}};
  }
  return HttpResponse{200, "application/json", report::StatementJson(inst_.policy(), statement), {}};
}

namespace {

json::object BreachJson(const store::BreachRecord& b, const WorkingCalendar& calendar, UnixMillis now) {
  json::array categories, measures, subjects;
  for (const auto& c : b.categories) categories.emplace_back(c);
  for (const auto& m : b.measures) measures.emplace_back(m);
  for (auto s : b.subjects) subjects.emplace_back(s);
  json::object out{{"id", b.id},
                   {"detected_at", FormatUtc(b.detected_at)},
                   {"how", b.how},
                   {"categories", std::move(categories)},
                   {"measures", std::move(measures)},
                   {"subjects", std::move(subjects)},
                   {"notify_due_at", FormatUtc(b.notify_due_at)},
                   {"notify_due_date", FormatDate(calendar.LocalDate(b.notify_due_at))},
                   {"overdue", !b.notified_at && b.notify_due_at < now}};
  if (b.notified_at) {
    out["notified_at"] = FormatUtc(*b.notified_at);
    out["notice_reference"] = b.notice_reference;
  }
  return out;
}

}  // namespace

HttpResponse Api::RecordBreach(Context& ctx) {
  rules::BreachRequest req;
  TRY_ASSIGN(detected, ctx.Str("detected_at", false));
  if (!detected.empty()) {
    TRY_ASSIGN(at, ParseUtc(detected, "detected_at"));
    req.detected_at = at;
  }
  TRY_ASSIGN(how, ctx.Str("how", true));
  TRY_ASSIGN(categories, ctx.List("categories"));
  TRY_ASSIGN(measures, ctx.List("measures"));
  req.how = how;
  req.categories = categories;
  req.measures = measures;
  if (const json::value* list = ctx.body.if_contains("subjects"); list && !list->is_null()) {
    if (!list->is_array()) return Problem(Bad("subjects", "must be a list of subject ids"));
    for (const auto& id : list->get_array()) {
      if (!id.is_int64()) return Problem(Bad("subjects", "must be a list of subject ids"));
      req.subjects.push_back(id.get_int64());
    }
  }
  TRY_ASSIGN(breach, inst_.engine().RecordBreach(req, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(201, BreachJson(breach, *calendar, inst_.engine().clock().Now()));
}

HttpResponse Api::ListBreaches(Context& ctx) {
  TRY_ASSIGN(list, inst_.engine().ListBreaches(*ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  json::array out;
  for (const auto& b : list) out.push_back(BreachJson(b, *calendar, inst_.engine().clock().Now()));
  return Json(200, json::object{{"breaches", std::move(out)}});
}

namespace {

json::object TransferJson(const store::TransferRecord& t) {
  json::object refused;
  for (const auto& [reason, n] : t.refused) refused[reason] = n;
  return json::object{{"id", t.id},
                      {"at", FormatUtc(t.at)},
                      {"actor", t.actor},
                      {"recipient", t.recipient},
                      {"country", t.country},
                      {"agreement", t.agreement},
                      {"purpose", t.purpose},
                      {"categories", json::array(t.categories.begin(), t.categories.end())},
                      {"edition", t.edition},
                      {"format", t.format},
                      {"sent", t.sent},
                      {"refused", std::move(refused)}};
}

}  // namespace

// The export is the answer's body; what was sent and refused is in the
// headers, and in GET /v1/transfers/{id}.
HttpResponse Api::MakeTransfer(Context& ctx) {
  rules::TransferRequest req;
  TRY_ASSIGN(recipient, ctx.Str("recipient", true));
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(categories, ctx.List("categories"));
  TRY_ASSIGN(format, ctx.Str("format", false));
  req.recipient = recipient;
  req.purpose = purpose;
  req.categories = categories;
  if (!format.empty()) req.format = format;
  const json::value* list = ctx.body.if_contains("subjects");
  if (!list || !list->is_array()) return Problem(Bad("subjects", "must be a list of subject ids"));
  for (const auto& id : list->get_array()) {
    if (!id.is_int64() || id.get_int64() <= 0) return Problem(Bad("subjects", "must be a list of subject ids"));
    req.subjects.push_back(id.get_int64());
  }
  std::ostringstream out;
  TRY_ASSIGN(r, inst_.engine().Transfer(req, *ctx.caller, out));
  std::string refused;
  for (const auto& [reason, n] : r.record.refused) {
    refused += (refused.empty() ? "" : ",") + reason + "=" + std::to_string(n);
  }
  return HttpResponse{201,
                      req.format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
                      std::move(out).str(),
                      {{"Location", "/v1/transfers/" + std::to_string(r.record.id)},
                       {"Qorgau-Transfer", std::to_string(r.record.id)},
                       {"Qorgau-Sent", std::to_string(r.record.sent)},
                       {"Qorgau-Refused", refused}}};
}

HttpResponse Api::ListTransfers(Context& ctx) {
  TRY_ASSIGN(list, inst_.engine().ListTransfers(*ctx.caller));
  json::array out;
  for (const auto& t : list) out.push_back(TransferJson(t));
  return Json(200, json::object{{"transfers", std::move(out)}});
}

HttpResponse Api::GetTransfer(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id"), "a transfer id"));
  TRY_ASSIGN(t, inst_.engine().GetTransfer(id, *ctx.caller));
  return Json(200, TransferJson(t));
}

HttpResponse Api::ReleaseAggregate(Context& ctx) {
  rules::AggregateRequest req;
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(by, ctx.List("by"));
  TRY_ASSIGN(sensitive, ctx.Str("sensitive", false));
  TRY_ASSIGN(recipient, ctx.Str("recipient", false));
  TRY_ASSIGN(sum, ctx.Str("sum", false));
  req.purpose = purpose;
  req.sum = sum;
  req.by = by;
  req.sensitive = sensitive;
  req.recipient = recipient;
  if (const json::value* e = ctx.body.if_contains("epsilon"); e && !e->is_null()) {
    if (!e->is_number()) return Problem(Bad("epsilon", "must be a number"));
    req.epsilon = e->to_number<double>();
  }
  TRY_ASSIGN(release, inst_.engine().ReleaseAggregate(req, *ctx.caller));
  return HttpResponse{201, "application/json", rules::AggregateReleaseJson(release) + "\n", {}};
}

HttpResponse Api::ListAggregates(Context& ctx) {
  TRY_ASSIGN(list, inst_.engine().ListAggregateReleases(*ctx.caller));
  json::array out;
  for (const auto& r : list) {
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    if (ec || !body.is_object()) return Problem(Error{ErrorCode::kCorruption, "aggregate_releases", "a release cannot be read"});
    json::object o = std::move(body.get_object());
    o["id"] = r.id;
    o["at"] = FormatUtc(r.at);
    o["actor"] = r.actor;
    out.push_back(std::move(o));
  }
  return Json(200, json::object{{"releases", std::move(out)}});
}

HttpResponse Api::ReadStatistics(Context& ctx) {
  std::optional<std::chrono::year_month_day> from, to;
  if (auto it = ctx.req.query.find("from"); it != ctx.req.query.end()) {
    TRY_ASSIGN(day, ParseDate(it->second, "from"));
    from = day;
  }
  if (auto it = ctx.req.query.find("to"); it != ctx.req.query.end()) {
    TRY_ASSIGN(day, ParseDate(it->second, "to"));
    to = day;
  }
  TRY_ASSIGN(view, inst_.engine().ReadStatistics(*ctx.caller, from, to));
  HttpResponse r = Json(200, json::object{});
  r.body = rules::StatisticsJson(view);
  return r;
}

// The history of editions, public like the policy: each with its moment,
// reason and difference from the one before.
HttpResponse Api::PolicyEditions(Context&) {
  TRY_ASSIGN(list, inst_.engine().ListEditions());
  json::array out;
  for (const auto& e : list) {
    json::object o{{"edition", e.record.number},
                   {"published_at", FormatUtc(e.record.published_at)},
                   {"in_force_from", FormatUtc(e.record.InForceFrom())},
                   {"in_force", e.in_force},
                   {"reason", e.record.reason},
                   {"hash", crypto::ToHex(e.record.hash)}};
    if (e.diff) {
      boost::system::error_code ec;
      o["diff"] = json::parse(rules::PolicyDiffJson(*e.diff, *e.policy), ec);
    } else {
      o["diff"] = nullptr;
    }
    out.push_back(std::move(o));
  }
  return Json(200, json::object{{"editions", std::move(out)}});
}

HttpResponse Api::AcceptEdition(Context& ctx) {
  TRY_ASSIGN(channel, ctx.Str("channel", true));
  TRY_ASSIGN(evidence, ctx.Str("evidence", true));
  TRY_ASSIGN(r, inst_.engine().AcceptEdition(ctx.Subject(), channel, evidence, *ctx.caller));
  return Json(201, json::object{{"subject", r.subject_id}, {"edition", r.edition}, {"how", r.how},
                                {"channel", r.channel}, {"at", FormatUtc(r.at)}, {"event", r.event_seq}});
}

HttpResponse Api::EditionAcceptance(Context& ctx) {
  TRY_ASSIGN(found, inst_.engine().EditionAcceptance(*ctx.caller, ctx.Subject()));
  json::object o{{"edition", inst_.policy().edition.number}, {"accepted", nullptr}};
  if (found) {
    o["accepted"] = json::object{{"how", found->how}, {"channel", found->channel}, {"at", FormatUtc(found->at)},
                                 {"event", found->event_seq}};
  }
  return Json(200, o);
}

HttpResponse Api::Outbox(Context& ctx) {
  const std::string pending = ctx.Query("pending", "false");
  if (pending != "true" && pending != "false") return Problem(Bad("pending", "must be true or false"));
  TRY_ASSIGN(list, inst_.engine().Outbox(pending == "true", *ctx.caller));
  json::array out;
  for (const auto& o : list) {
    out.push_back(json::object{{"event", o.event_seq},
                               {"subject", o.subject_id},
                               {"kind", o.kind},
                               {"created_at", FormatUtc(o.created_at)},
                               {"delivered_at", o.delivered_at ? json::value(FormatUtc(*o.delivered_at)) : json::value(nullptr)},
                               {"attempts", o.attempts}});
  }
  return Json(200, json::object{{"messages", std::move(out)}});
}

HttpResponse Api::BreachNotified(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id"), "a breach id"));
  TRY_ASSIGN(reference, ctx.Str("reference", true));
  TRY_ASSIGN(breach, inst_.engine().BreachNotified(id, reference, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, BreachJson(breach, *calendar, inst_.engine().clock().Now()));
}

HttpResponse Api::BreachNotice(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id"), "a breach id"));
  auto lang = ctx.req.query.find("lang");
  TRY_ASSIGN(notice, inst_.engine().BreachNotice(id, lang == ctx.req.query.end() ? "kk" : lang->second, *ctx.caller));
  return HttpResponse{200, "text/plain; charset=utf-8", std::move(notice), {}};
}

HttpResponse Api::DestroyOnApplication(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(r, inst_.engine().DestroyOnApplication(id, *ctx.caller));
  json::array kept;
  for (const auto& k : r.kept) {
    json::object o{{"what", k.what}, {"status", rules::RetentionStatusName(k.status)}};
    if (!k.key.empty()) o["key"] = k.key;
    if (k.rule) {
      o["ground"] = k.rule->ground;
      o["statute"] = k.rule->minimum ? json::value(k.rule->minimum->id) : json::value(nullptr);
      o["period"] = k.rule->period.ToString();
      o["from"] = k.rule->from;
    }
    o["until"] = k.due_at ? json::value(FormatUtc(*k.due_at)) : json::value(nullptr);
    json::array by;
    for (const auto& h : k.held_by) by.emplace_back(h);
    o["held_by"] = std::move(by);
    kept.push_back(std::move(o));
  }
  return Json(200, json::object{{"application", r.application},
                                {"subject", r.subject},
                                {"answer", r.answer},
                                {"destroyed", Strings(r.destroyed)},
                                {"subject_destroyed", r.subject_destroyed},
                                {"kept", std::move(kept)},
                                {"revision", r.revision}});
}

HttpResponse Api::BlockSubject(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(view, inst_.engine().BlockSubject(id, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, ApplicationJson(view, *calendar));
}

HttpResponse Api::UnblockSubject(Context& ctx) {
  TRY_ASSIGN(id, ApplicationId(ctx.params.at("id")));
  TRY_ASSIGN(reason, ctx.Str("reason", true));
  TRY_ASSIGN(view, inst_.engine().UnblockSubject(id, reason, *ctx.caller));
  TRY_ASSIGN(calendar, inst_.engine().Calendar());
  return Json(200, ApplicationJson(view, *calendar));
}

HttpResponse Api::Check(Context& ctx) {
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(categories, ctx.List("categories"));
  const json::value* subject = ctx.body.if_contains("subject");
  if (!subject || !subject->is_int64()) return Problem(Bad("subject", "must be a subject id"));
  TRY_ASSIGN(d, inst_.engine().Check(*ctx.caller, SubjectKey::Id(subject->get_int64()), purpose,
                                     categories));
  metrics_.CountDecision(d.reason);
  const SubjectId id = subject->get_int64();
  // The hot path: written by hand. Every piece is a known id or a fixed
  // ASCII text, so nothing needs escaping.
  std::string body;
  body.reserve(256);
  body += "{\"allow\":";
  body += d.allow ? "true" : "false";
  body += ",\"reason\":\"";
  body += index::ReasonCode(d.reason);
  body += "\",\"reason_text\":\"";
  body += index::ReasonText(d.reason);
  body += "\",\"basis\":\"";
  body += policy::LegalBasisName(d.basis);
  body += "\",\"edition\":" + std::to_string(d.edition);
  body += ",\"revision\":" + std::to_string(d.revision);
  body += ",\"subject\":" + std::to_string(id);
  body += ",\"purpose\":\"" + purpose + "\"}\n";
  return HttpResponse{200, "application/json", std::move(body), {}};
}

HttpResponse Api::CheckBatch(Context& ctx) {
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(categories, ctx.List("categories"));
  const json::value* subjects = ctx.body.if_contains("subjects");
  if (!subjects || !subjects->is_array()) return Problem(Bad("subjects", "must be a list of subject ids"));
  const auto& arr = subjects->get_array();
  if (arr.size() > limits_.max_batch) {
    return ProblemResponse(413, Title(413), "payload_too_large",
                           "more than " + std::to_string(limits_.max_batch) + " in one batch", "subjects");
  }
  std::vector<SubjectId> ids;
  ids.reserve(arr.size());
  for (const auto& v : arr) {
    if (!v.is_int64()) return Problem(Bad("subjects", "must be a list of subject ids"));
    ids.push_back(v.get_int64());
  }
  std::vector<index::Decision> decisions(ids.size());
  TRY(inst_.engine().CheckMany(*ctx.caller, ids, purpose, categories, decisions));
  json::array out;
  out.reserve(ids.size());
  std::uint64_t allowed = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    metrics_.CountDecision(decisions[i].reason);
    allowed += decisions[i].allow;
    out.push_back(json::object{{"subject", ids[i]}, {"allow", decisions[i].allow},
                               {"reason", index::ReasonCode(decisions[i].reason)}});
  }
  const std::int64_t revision = decisions.empty() ? inst_.index().revision() : decisions[0].revision;
  return Json(200, json::object{{"purpose", purpose}, {"revision", revision},
                                {"allowed", allowed}, {"decisions", std::move(out)}});
}

HttpResponse Api::Audience(Context& ctx) {
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(exclude, ctx.Bool("exclude_obligations"));
  std::vector<SubjectId> among;
  const json::value* subjects = ctx.body.if_contains("subjects");
  if (subjects && !subjects->is_null()) {
    if (!subjects->is_array() || subjects->get_array().size() > 1000000) {
      return Problem(Bad("subjects", "must be a list of at most 1 000 000 subject ids"));
    }
    for (const auto& v : subjects->get_array()) {
      if (!v.is_int64()) return Problem(Bad("subjects", "must be a list of subject ids"));
      among.push_back(v.get_int64());
    }
  }
  TRY_ASSIGN(a, inst_.engine().SelectAudience(*ctx.caller, purpose, exclude, subjects && !subjects->is_null() ? &among : nullptr));
  json::array ids;
  for (SubjectId id : a.Ids()) ids.emplace_back(id);
  return Json(200, json::object{{"purpose", purpose}, {"count", a.count},
                                {"revision", inst_.index().revision()}, {"subjects", std::move(ids)}});
}

HttpResponse Api::Receipt(Context& ctx) {
  char* end = nullptr;
  const long long seq = std::strtoll(ctx.params.at("seq").c_str(), &end, 10);
  if (*end != '\0' || seq <= 0) return Problem(Bad("seq", "must be a ledger event number"));
  const std::string format = ctx.Query("format", "qorgau");
  if (format != "qorgau" && format != "kantara") return Problem(Bad("format", "must be qorgau or kantara"));
  TRY_ASSIGN(body, inst_.engine().Receipt(*ctx.caller, seq));
  if (format == "kantara") {
    // KantaraReceipt names `lang` when it is not kk, ru or en.
    TRY_ASSIGN(kantara, report::KantaraReceipt(inst_.engine().policy(), body, ctx.Query("lang", "kk")));
    return HttpResponse{200, "application/json", kantara, {}};
  }
  return HttpResponse{200, "application/json", body, {}};
}

HttpResponse Api::AuditVerify(Context& ctx) {
  TRY_ASSIGN(r, inst_.engine().VerifyLedger(*ctx.caller));
  json::object out{{"ok", r.ok}, {"events", r.events}, {"head", r.head_hash}};
  if (!r.ok) {
    out["broken_event"] = r.broken_seq;
    out["reason"] = r.reason;
  }
  return Json(200, out);
}

HttpResponse Api::AuditCheckpoint(Context& ctx) {
  TRY_ASSIGN(head, inst_.engine().LatestCheckpoint(*ctx.caller));
  // The checkpoint file as `qorgau audit checkpoint` writes it, byte for byte.
  return HttpResponse{200, "application/json", ledger::TreeHeadJson(head), {}};
}

HttpResponse Api::AuditConsistency(Context& ctx) {
  // A count of events: digits only, at least 1 (0 and the rest are
  // refused by the engine, naming the field).
  auto size = [&](const char* field) -> Result<std::optional<std::int64_t>> {
    auto it = ctx.req.query.find(field);
    if (it == ctx.req.query.end()) return std::optional<std::int64_t>();
    const std::string& text = it->second;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || !std::isdigit(static_cast<unsigned char>(text[0]))) {
      return tl::unexpected(Bad(field, "must be a count of events (a whole number)"));
    }
    return std::optional<std::int64_t>(v);
  };
  TRY_ASSIGN(from, size("from"));
  if (!from) return Problem(Bad("from", "name the size of the tree head the witness kept (?from=)"));
  TRY_ASSIGN(to, size("to"));
  TRY_ASSIGN(statement, inst_.engine().ConsistencyProof(*ctx.caller, *from, to));
  // The witness statement as `qorgau audit consistency` prints it.
  return HttpResponse{200, "application/json", ledger::WitnessJson(statement), {}};
}

HttpResponse Api::AuditAccess(Context& ctx) {
  auto entry = [](const rules::AccessEntry& a) {
    json::object o{{"event", a.seq},   {"at", a.at},           {"actor", a.actor},
                   {"type", a.type},   {"what", a.what},       {"purpose", a.purpose},
                   {"categories", Strings(a.categories)}, {"allowed", a.allowed}, {"reason", a.reason}};
    if (a.subject != 0) o["subject"] = a.subject;
    return o;
  };
  json::array out;
  if (auto it = ctx.req.query.find("subject"); it != ctx.req.query.end()) {
    for (const char* other : {"actor", "from", "to", "limit"}) {
      if (ctx.req.query.count(other)) return Problem(Bad(other, "a subject's trail takes no other filter"));
    }
    TRY_ASSIGN(trail, inst_.engine().AccessTrail(*ctx.caller, SubjectKey{SubjectKey::Kind::kId, it->second}));
    for (const auto& a : trail) out.push_back(entry(a));
    return Json(200, json::object{{"access", std::move(out)}});
  }
  // By actor, by time, or both: the newest first.
  rules::TrailQuery q;
  q.actor = ctx.Query("actor", "");
  for (auto [name, at] : {std::pair{"from", &q.from}, std::pair{"to", &q.to}}) {
    const std::string text = ctx.Query(name, "");
    if (text.empty()) continue;
    TRY_ASSIGN(t, ParseUtc(text, name));
    *at = t;
  }
  if (q.actor.empty() && !q.from && !q.to) {
    return Problem(Bad("subject", "name the subject (?subject=), or an actor or a time range (?actor=, ?from=, ?to=)"));
  }
  if (const std::string limit = ctx.Query("limit", ""); !limit.empty()) {
    if (limit.size() > 5 || limit.find_first_not_of("0123456789") != std::string::npos) {
      return Problem(Bad("limit", "must be a whole number from 1 to 10000"));
    }
    q.limit = std::stoul(limit);
  }
  TRY_ASSIGN(trail, inst_.engine().AccessTrailBy(*ctx.caller, q));
  for (const auto& a : trail) out.push_back(entry(a));
  return Json(200, json::object{{"access", std::move(out)}});
}

HttpResponse Api::ListActors(Context& ctx) {
  TRY_ASSIGN(actors, inst_.engine().ListActors(*ctx.caller));
  json::array out;
  for (const auto& a : actors) {
    out.push_back(json::object{{"id", a.id}, {"role", store::ActorRoleName(a.role)}, {"name", a.name},
                               {"nda_signed", a.nda_signed},
                               {"liability_acknowledged", a.liability_acknowledged},
                               {"purposes", Strings(a.purposes)},
                               {"disabled_at", a.disabled_at ? json::value(FormatUtc(*a.disabled_at))
                                                             : json::value(nullptr)}});
  }
  return Json(200, json::object{{"actors", std::move(out)}});
}

HttpResponse Api::PutActor(Context& ctx) {
  TRY_ASSIGN(id, ctx.Str("id", true));
  TRY_ASSIGN(role, ctx.Str("role", true));
  TRY_ASSIGN(name, ctx.Str("name", false));
  TRY_ASSIGN(nda, ctx.Str("nda_signed", false));
  TRY_ASSIGN(liability, ctx.Str("liability_acknowledged", false));
  TRY_ASSIGN(purposes, ctx.List("purposes"));
  ActorRole r;
  if (!store::ParseActorRole(role, &r)) return Problem(Bad("role", "must be admin, dpo, employee or system"));
  TRY_ASSIGN(a, inst_.engine().PutActor({id, r, name, nda, liability, purposes}, *ctx.caller));
  return Json(201, json::object{{"id", a.id}, {"role", store::ActorRoleName(a.role)}});
}

HttpResponse Api::GrantDuty(Context& ctx) {
  TRY_ASSIGN(purpose, ctx.Str("purpose", true));
  TRY_ASSIGN(categories, ctx.List("categories"));
  TRY_ASSIGN(view, ctx.Str("view", false));
  if (!view.empty() && view != "masked" && view != "full") return Problem(Bad("view", "must be masked or full"));
  TRY_ASSIGN(action_names, ctx.List("actions"));
  DutyActions actions = static_cast<DutyActions>(DutyAction::kRead);
  std::string bad;
  if (!action_names.empty() && !ParseDutyActions(action_names, &actions, &bad)) {
    return Problem(Bad("actions", "'" + bad + "' is not one of " + DutyActionsText(kAllDutyActions)));
  }
  TRY_ASSIGN(d, inst_.engine().GrantDuty(
                    {ctx.params.at("actor"), purpose, categories, view == "full", actions},
                    *ctx.caller));
  return Json(201, json::object{{"actor", d.actor_id}, {"purpose", d.purpose},
                                {"categories", Strings(d.categories)},
                                {"view", d.full_view ? "full" : "masked"},
                                {"actions", Strings(SplitActions(d.actions))}});
}

HttpResponse Api::RemoveDuty(Context& ctx) {
  TRY(inst_.engine().RemoveDuty(ctx.params.at("actor"), ctx.params.at("purpose"), *ctx.caller));
  return Json(200, json::object{{"actor", ctx.params.at("actor")},
                                {"purpose", ctx.params.at("purpose")},
                                {"removed", true}});
}

HttpResponse Api::DisableActor(Context& ctx) {
  TRY(inst_.engine().DisableActor(ctx.params.at("actor"), *ctx.caller));
  return Json(200, json::object{{"actor", ctx.params.at("actor")}, {"disabled", true}});
}

namespace {

// A key's id: the hex SHA-256 the store keeps, which `revoke` takes a
// prefix of. Not a secret: the key cannot be found from it.
std::string KeyId(const std::string& key) { return crypto::ToHex(crypto::Sha256(key)); }

}  // namespace

HttpResponse Api::CreateKey(Context& ctx) {
  TRY_ASSIGN(expires, ctx.Str("expires", false));
  std::optional<UnixMillis> expires_at;
  if (!expires.empty()) {
    TRY_ASSIGN(day, ParseDate(expires, "expires"));
    // The last valid day, as `key create --expires`: the key works until
    // that day ends (UTC).
    expires_at = StartOfDayUtc(std::chrono::year_month_day(std::chrono::sys_days(day) + std::chrono::days(1)));
  }
  TRY_ASSIGN(key, inst_.engine().CreateApiKey(ctx.params.at("actor"), *ctx.caller, expires_at));
  json::object out{{"actor", ctx.params.at("actor")}, {"key", key}, {"key_id", KeyId(key)},
                   {"note", "shown once; only its hash is kept"}};
  if (expires_at) out["expires_at"] = FormatUtc(*expires_at);
  return Json(201, out);
}

HttpResponse Api::ListDuties(Context& ctx) {
  TRY_ASSIGN(duties, inst_.engine().ListDuties(ctx.params.at("actor"), *ctx.caller));
  json::array out;
  for (const auto& d : duties) {
    json::array actions;
    for (unsigned bit = 1; bit <= kAllDutyActions; bit <<= 1) {
      if (d.actions & bit) actions.emplace_back(DutyActionName(static_cast<DutyAction>(bit)));
    }
    out.push_back(json::object{{"purpose", d.purpose}, {"categories", Strings(d.categories)},
                               {"full_view", d.full_view}, {"actions", std::move(actions)}});
  }
  return Json(200, json::object{{"duties", std::move(out)}});
}

HttpResponse Api::ListKeys(Context& ctx) {
  TRY_ASSIGN(keys, inst_.engine().ListKeys(ctx.params.at("actor"), *ctx.caller));
  json::array out;
  for (const auto& k : keys) {
    json::object o{{"key_id", k.id}, {"created_at", FormatUtc(k.created_at)}};
    o["expires_at"] = k.expires_at ? json::value(FormatUtc(*k.expires_at)) : json::value(nullptr);
    o["revoked_at"] = k.revoked_at ? json::value(FormatUtc(*k.revoked_at)) : json::value(nullptr);
    out.push_back(std::move(o));
  }
  return Json(200, json::object{{"actor", ctx.params.at("actor")}, {"keys", std::move(out)}});
}

HttpResponse Api::RevokeKey(Context& ctx) {
  TRY(inst_.engine().RevokeKey(ctx.params.at("actor"), ctx.params.at("key"), *ctx.caller));
  return Json(200, json::object{{"actor", ctx.params.at("actor")}, {"key_id", ctx.params.at("key")},
                                {"revoked", true}});
}

HttpResponse Api::CreateEnrolment(Context& ctx) {
  std::int64_t hours = 72;
  if (const json::value* v = ctx.body.if_contains("valid_hours"); v && !v->is_null()) {
    if (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > 168) {
      return Problem(Bad("valid_hours", "must be a whole number of hours from 1 to 168"));
    }
    hours = v->get_int64();
  }
  TRY_ASSIGN(enrolment, inst_.engine().CreateEnrolment(ctx.params.at("actor"), *ctx.caller,
                                                       hours * 3600 * 1000));
  return Json(201, json::object{{"actor", ctx.params.at("actor")},
                                {"token", enrolment.token},
                                {"expires_at", FormatUtc(enrolment.expires_at)},
                                {"note", "shown once; give it to the person, who redeems it once "
                                         "(POST /v1/enrolments/redeem or 'qorgau key redeem')"}});
}

HttpResponse Api::RedeemEnrolment(Context& ctx) {
  // The token is the credential: the limiter counts a bad one like a bad key.
  TRY_ASSIGN(token, ctx.Str("token", false));
  if (token.empty()) {
    FailedAuthentication(ctx.req, AuthFailure::kMissing);
    return Problem(Bad("token", "is required: the enrolment token (qe_...)"));
  }
  auto redeemed = inst_.engine().RedeemEnrolment(token);
  if (!redeemed) {
    if (redeemed.error().code == ErrorCode::kUnauthenticated) {
      FailedAuthentication(ctx.req, AuthFailure::kBadEnrolmentToken);
    }
    return Problem(redeemed.error());
  }
  const auto& [actor, key] = *redeemed;
  return Json(201, json::object{{"actor", actor}, {"key", key}, {"key_id", KeyId(key)},
                                {"note", "shown once; only its hash is kept"}});
}

}  // namespace qorgau::api
