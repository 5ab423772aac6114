// Requests and responses as plain values: the API's handlers see these, not
// Beast's types, so routing is a function from request to response that
// tests can call without a socket (the Beast examples' handle_request).
// Also the strict decoders of a request target (RFC 3986), shared by the
// server and the API. No Beast here.
// Thread safety: values and pure functions.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace qorgau::rules {
struct Caller;
}

namespace qorgau::api {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string path;    // without the query, still percent-encoded as sent
  std::map<std::string, std::string> query;  // decoded (ParseQuery)
  std::string authorization;
  std::string idempotency_key;
  std::string content_type;
  // For the web pages (web/pages.h): the Cookie header, and the browser's
  // Sec-Fetch-Site, which tells a cross-site form post.
  std::string cookie;
  std::string sec_fetch_site;
  std::string body;
  // The client's IP address as the socket sees it ("127.0.0.1", "::1"):
  // whose failed authentications count together (api/auth_limiter.h).
  // Empty when the request came without a socket.
  std::string peer;
  // What an admission step (Api::Admit) learnt from the head, for the
  // handler, so that a request is routed and authenticated once. Only
  // Admit fills it; the server starts every request with a fresh value.
  struct Admitted {
    std::size_t route = static_cast<std::size_t>(-1);  // index of the route matched; -1: none
    std::map<std::string, std::string> params;          // the path's decoded parameters
    std::shared_ptr<const rules::Caller> caller;        // null: none authenticated
  } admitted;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The service's verdict on a request whose head (request line and headers,
// HttpRequest without the body) has been read, before the body is.
struct Admission {
  // Set: answer this and do not read the body (the connection then closes
  // unless the request had none). Unset: read the body, then handle.
  std::optional<HttpResponse> answer;
  // The handler's work grows with the request (a batch, an import, the
  // whole ledger): run it on the worker pool, not on an I/O thread.
  bool heavy = false;
};

// The segments of an origin-form path ("/v1/obligations/A%2FB/close"),
// each percent-decoded on its own, so that an escaped "/" stays inside its
// segment. Empty segments ("//", a trailing "/") are skipped. Strict: a
// character outside RFC 3986's pchar, a malformed escape ("%zz", a "%" at
// the end), a decoded NUL or invalid UTF-8 is an error naming "path".
Result<std::vector<std::string>> DecodePath(std::string_view path);

// Splits "a=1&b=x%20y+z" into a map, percent-decoding and reading "+" as a
// space (HTML forms); later keys win. Strict like DecodePath: a malformed
// escape, a decoded NUL or invalid UTF-8 is an error naming the parameter
// (or "query" when its name is the culprit).
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// A problem-details answer (RFC 9457) in the API's shape (api::Problem):
// `code` is also the type's suffix; `field` is left out when empty.
HttpResponse ProblemResponse(int status, std::string_view title, std::string_view code,
                             std::string_view detail, std::string_view field = {});

}  // namespace qorgau::api
