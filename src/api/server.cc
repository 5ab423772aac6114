#include "api/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

namespace qorgau::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Shared state of the server's sessions.
struct Shared {
  Server::Handler handler;
  ServerOptions options;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};  // requests read and not yet answered
};

HttpRequest ToRequest(const http::request<http::string_body>& r) {
  HttpRequest out;
  out.method = std::string(r.method_string());
  const std::string_view target = r.target();
  const size_t q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = ParseQuery(target.substr(q + 1));
  out.authorization = std::string(r[http::field::authorization]);
  out.idempotency_key = std::string(r["Idempotency-Key"]);
  out.content_type = std::string(r[http::field::content_type]);
  out.body = r.body();
  return out;
}

// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  void Run() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    // The API answers 413 itself up to the limit plus some slack, over a
    // connection it can keep; beyond that the server stops reading, answers
    // 413 and closes.
    parser_->body_limit(shared_->options.body_limit + 64 * 1024);
    parser_->header_limit(16 * 1024);  // a request line and headers, no more
    stream_.expires_after(shared_->options.timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return Close();
    if (ec == http::error::body_limit) {
      HttpResponse r{413, "application/problem+json",
                     "{\"type\":\"urn:qorgau:problem:invalid_argument\",\"title\":\"Payload too "
                     "large\",\"status\":413,\"code\":\"invalid_argument\",\"field\":\"body\",\"detail\":"
                     "\"the body is larger than the server's limit\"}\n",
                     {}};
      return Write(std::move(r), false, 11);
    }
    if (ec) return Close();
    ++shared_->in_flight;
    const auto& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    HttpResponse r;
    try {
      r = shared_->handler(ToRequest(req));
    } catch (const std::exception&) {
      // A bug must cost one request, not the process.
      r = HttpResponse{500, "application/problem+json",
                       "{\"type\":\"urn:qorgau:problem:internal\",\"title\":\"Internal error\","
                       "\"status\":500,\"code\":\"internal\",\"detail\":\"internal error; see "
                       "the server log\"}\n",
                       {}};
      std::fputs("{\"event\":\"handler_exception\"}\n", stderr);
    }
    Write(std::move(r), keep_alive, version, /*counted=*/true);
  }

  void Write(HttpResponse r, bool keep_alive, unsigned version, bool counted = false) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, "qorgau");
    res->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->keep_alive(keep_alive && !shared_->stopping);
    res->body() = std::move(r.body);
    res->prepare_payload();
    response_ = res;
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, counted](beast::error_code ec, std::size_t) {
                        if (counted) --self->shared_->in_flight;
                        if (ec || !res->keep_alive()) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;
  std::shared_ptr<Shared> shared_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& ioc, std::shared_ptr<Shared> shared)
      : ioc_(ioc), acceptor_(ioc), shared_(std::move(shared)) {}

  Result<std::uint16_t> Bind(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      const int one = 1;
      if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        return Fail(ErrorCode::kIo, "listen", "cannot set SO_REUSEPORT");
      }
    }
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Fail(ErrorCode::kIo, "listen", "cannot listen: " + ec.message());
    return acceptor_.local_endpoint().port();
  }

  void Accept() {
    // One thread runs each io_context, so its sessions need no strand.
    acceptor_.async_accept(ioc_, beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void Close() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!acceptor_.is_open()) return;
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), shared_)->Run();
    }
    if (!shared_->stopping) Accept();
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace

struct Server::Impl {
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::vector<std::thread> threads;
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->shared->options = std::move(options);
  impl_->shared->handler = std::move(handler);
}

Server::~Server() {
  Stop();
  Wait();
}

Result<std::uint16_t> Server::Start() {
  const ServerOptions& o = impl_->shared->options;
  beast::error_code ec;
  const auto address = asio::ip::make_address(o.address, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "listen", "not an IP address");
  int n = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  std::uint16_t port = o.port;
  for (int i = 0; i < n; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    auto listener = std::make_shared<Listener>(*impl_->contexts.back(), impl_->shared);
    auto bound = listener->Bind(tcp::endpoint(address, port));
    if (!bound) return bound;
    port = *bound;  // the first may have picked a free port; the others share it
    listener->Accept();
    impl_->listeners.push_back(std::move(listener));
  }
  for (auto& ioc : impl_->contexts) {
    impl_->threads.emplace_back([ctx = ioc.get()] { ctx->run(); });
  }
  return port;
}

void Server::Stop() {
  if (impl_->shared->stopping.exchange(true)) return;
  for (auto& l : impl_->listeners) l->Close();
  // Let the requests already read be answered; idle keep-alive
  // connections are then cut when the contexts stop.
  const auto deadline = std::chrono::steady_clock::now() + impl_->shared->options.drain;
  while (impl_->shared->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& ioc : impl_->contexts) ioc->stop();
}

void Server::Wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  // Destroying the contexts destroys their pending handlers, and with them
  // the idle sessions: their sockets close, so no client waits forever.
  impl_->listeners.clear();
  impl_->contexts.clear();
}

}  // namespace qorgau::api
