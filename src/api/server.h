// The HTTP/1.1 server on Boost.Beast, plain or over TLS. Beast, Asio and
// OpenSSL's headers stay in server.cc: this header has none of them.
//
// Threads: one io_context per I/O thread. One listening socket, bound
// without SO_REUSEPORT so that no other process can bind the same port and
// take a share of the connections; it accepts on the first thread and
// hands each connection to the threads in turn. Handlers of routes the
// admission step marks heavy run on a small worker pool instead, and their
// answers are written back on the connection's own thread.
//
// A request: the head (request line and headers) is read first and given
// to the admission hook, which may answer at once (a missing key, an
// unknown route) so that a large body is never read for nothing; then the
// body; then the handler. Malformed HTTP is answered 400 (431 for a head
// too large, 413 for a body too large) as problem+json, and the
// connection closed.
//
// Graceful shutdown: Stop() closes the listener, lets every request that
// was already read finish and be answered (connection: close), then stops
// the io_contexts; requests in flight are never cut off, so no
// acknowledged write is lost.
// Thread safety: Start, Stop and Wait from one controlling thread; the
// handler and the admission hook are called from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http.h"
#include "core/error.h"

namespace qorgau::api {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Start's result)
  int threads = 0;            // I/O threads; 0: one per core
  int workers = 0;            // threads for heavy handlers; 0: max(1, threads / 2)
  // The largest body read: above it the request is answered 413 without
  // reading the rest. 1 MiB holds a batch of 10 000 subject ids.
  std::size_t body_limit = 1 << 20;
  // A connection idle or stalled this long is closed: slow clients must
  // not hold a thread's sockets forever.
  std::chrono::seconds timeout{30};
  // How long Stop() waits for requests in flight.
  std::chrono::seconds drain{10};
  // Open connections at most; one more is answered 503 with Retry-After
  // (over TLS: closed) and closed. Each costs a socket, buffers and a
  // session, and file descriptors run out long before threads do.
  int max_connections = 1024;
  // Requests on one connection before it is closed (0: no limit), so that
  // a client that never reconnects is rebalanced across threads and
  // instances behind a load balancer now and then.
  int max_requests_per_connection = 0;
  // TLS (1.2 and later): PEM files of the certificate chain and its key.
  // Both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Plain HTTP on an address other than loopback is refused unless set:
  // API keys and personal data would cross the network in clear.
  bool insecure = false;
};

class Server {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Called with the head of each request (body still empty); see
  // Admission. May fill head.admitted for the handler.
  using Admit = std::function<Admission(HttpRequest& head)>;

  // Without `admit`, every body is read and every handler is light.
  Server(ServerOptions options, Handler handler, Admit admit = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the threads; returns the port listened on. Fails
  // (kFailedPrecondition) when another process holds the address, when
  // plain HTTP would face the network without `insecure`, and (kInvalidArgument)
  // when the TLS files cannot be loaded.
  Result<std::uint16_t> Start();
  void Stop();
  // Blocks until the threads have ended (after Stop).
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qorgau::api
