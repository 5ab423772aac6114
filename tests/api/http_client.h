// A small blocking HTTP/1.1 client for the end-to-end tests: real sockets
// to the real server on loopback. Beast stays in http_client.cc.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace qorgau::testing {

struct HttpResult {
  int status = 0;  // 0: the connection failed
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

HttpResult HttpCall(std::uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& api_key = "",
                    const std::map<std::string, std::string>& headers = {});

}  // namespace qorgau::testing
