// A small blocking HTTP/1.1 client for the end-to-end tests: real sockets
// to the real server on loopback, plain or TLS. Beast stays in
// http_client.cc.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qorgau::testing {

struct HttpResult {
  int status = 0;  // 0: the connection (or the TLS handshake) failed
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

HttpResult HttpCall(std::uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& api_key = "",
                    const std::map<std::string, std::string>& headers = {});

// The same from the loopback address `source` ("127.0.0.2"; empty: the
// system's choice), for tests of what is counted per client address.
HttpResult HttpCallFrom(const std::string& source, std::uint16_t port, const std::string& method,
                        const std::string& target, const std::string& body = "",
                        const std::string& api_key = "",
                        const std::map<std::string, std::string>& headers = {});

// The same over TLS, trusting only the PEM certificate `ca_file` and
// checking that it names 127.0.0.1. `max_tls_version` (e.g. TLS1_1_VERSION)
// caps what the client offers; 0 leaves OpenSSL's default.
HttpResult HttpsCall(std::uint16_t port, const std::string& ca_file, const std::string& method,
                     const std::string& target, const std::string& body = "",
                     const std::string& api_key = "", int max_tls_version = 0);

// Sends `bytes` as they are, then reads until the server closes (or 20 s
// pass) and returns everything it sent: for malformed requests. With
// `close_after_send`, half-closes after sending.
std::string RawExchange(std::uint16_t port, const std::string& bytes, bool close_after_send = false);

// The status of the first response in raw bytes ("HTTP/1.1 431 ..."), 0 if none.
int RawStatus(const std::string& response);

struct RawReply {
  std::string bytes;          // everything the server sent
  std::vector<int> statuses;  // the status of each response in `bytes`, in order
  bool closed = false;        // the server closed the connection (not: an error)
  std::string error;          // else what went wrong (a socket error, no data)
};

// Sends `bytes` as they are, half-closes, and reads until the server
// closes: for the fuzz target of the API, which sends anything. It sets no
// timeout, so a server that never closes is caught by the caller's
// watchdog (libFuzzer's -timeout, ctest's TIMEOUT), not by a guess here.
RawReply RawExchangeAll(std::uint16_t port, const std::string& bytes);

}  // namespace qorgau::testing
