// Requests and responses as plain values: the API's handlers see these, not
// Beast's types, so routing is a function from request to response that
// tests can call without a socket (the Beast examples' handle_request).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qorgau::api {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string authorization;
  std::string idempotency_key;
  std::string content_type;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Splits "a=1&b=x%20y" into a map, percent-decoding; later keys win.
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace qorgau::api
