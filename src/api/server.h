// The HTTP/1.1 server on Boost.Beast: one io_context and one acceptor per
// thread on the same port (SO_REUSEPORT, so the kernel spreads
// connections), keep-alive, bounded bodies and time-outs. Beast and Asio
// stay in server.cc: this header has none of them.
//
// Graceful shutdown: Stop() closes the acceptors, lets every request that
// was already read finish and be answered (connection: close), then stops
// the io_contexts; requests in flight are never cut off, so no
// acknowledged write is lost.
// Thread safety: Start, Stop and Wait from one controlling thread.
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
  int threads = 0;            // 0: one per core
  // The largest body read: above it the request is answered 413 without
  // reading the rest. 1 MiB holds a batch of 10 000 subject ids.
  std::size_t body_limit = 1 << 20;
  // A connection idle or stalled this long is closed: slow clients must
  // not hold a thread's sockets forever.
  std::chrono::seconds timeout{30};
  // How long Stop() waits for requests in flight.
  std::chrono::seconds drain{10};
};

class Server {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the threads; returns the port listened on.
  Result<std::uint16_t> Start();
  void Stop();
  // Blocks until the threads have ended (after Stop).
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qorgau::api
