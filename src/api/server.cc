#include "api/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <sstream>
#include <thread>
#include <vector>

namespace qorgau::api {
namespace {

// Heavy handlers (batch checks, imports, audits) run at a lower scheduling
// priority than the I/O threads: on a machine with few cores, a client
// flooding batch checks then takes the CPU the single checks leave, not
// theirs. Once per worker thread (Linux: nice applies per thread).
void LowerPriority() {
  static thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
}

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// A request line and its headers, no more: enough for any client we
// serve, and it bounds what a connection can make us buffer before we know
// anything about it. Above it: 431.
constexpr std::size_t kHeaderLimit = 16 * 1024;
// After the last answer on a connection we stop sending and read (and
// drop) what the client still sends, for at most this long, before
// closing: closing with unread bytes makes the kernel send a reset, which
// can destroy our answer before the client has read it.
constexpr std::chrono::seconds kLinger{2};
// After a failed accept (no file descriptors left, say), try again after
// this pause instead of in a loop that would spin a core.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

// Shared state of the server's sessions.
struct Shared {
  Server::Handler handler;
  Server::Admit admit;
  ServerOptions options;
  std::unique_ptr<ssl::context> tls;  // null: plain HTTP
  asio::thread_pool* workers = nullptr;  // owned by Server::Impl, outlives the sessions
  std::string busy;                      // the whole 503 answer, bytes ready to send
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};    // requests read and not yet answered
  std::atomic<int> connections{0};  // open connections (ConnectionSlot)
};

const beast::error_category& HttpErrors() {
  return http::make_error_code(http::error::bad_target).category();
}

// One open connection counted in Shared::connections, for as long as the
// object lives (moved from the TLS detector to its session).
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {
    ++shared_->connections;
  }
  ~ConnectionSlot() {
    if (shared_) --shared_->connections;
  }
  ConnectionSlot(ConnectionSlot&&) = default;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  Shared& shared() const { return *shared_; }

 private:
  std::shared_ptr<Shared> shared_;
};

HttpResponse Internal() {
  return ProblemResponse(500, "Internal error", "internal", "internal error; see the server log");
}

// One connection: read a request's head, admit it, read its body, answer
// it, repeat while keep-alive. `Derived` (CRTP, as in Beast's
// advanced_server_flex) owns the stream, plain or TLS, and closes it.
template <class Derived>
class Session {
 public:
  Session(beast::flat_buffer buffer, ConnectionSlot slot)
      : buffer_(std::move(buffer)), slot_(std::move(slot)) {}

  // Answers `r` and closes: for a request refused before it was read.
  void Refuse(HttpResponse r) { Write(std::move(r), false, 11, false); }

 protected:
  Shared& shared() { return slot_.shared(); }

  void ReadHead() {
    parser_.emplace();
    // The API answers 413 itself up to the limit plus some slack, over a
    // connection it can keep; beyond that the server stops reading, answers
    // 413 and closes.
    parser_->body_limit(shared().options.body_limit + 64 * 1024);
    parser_->header_limit(kHeaderLimit);
    Lowest().expires_after(shared().options.timeout);
    http::async_read_header(Stream(), buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHead, Self()));
  }

  beast::flat_buffer buffer_;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }
  auto& Stream() { return derived().stream(); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(derived().stream()); }
  std::shared_ptr<Derived> Self() { return derived().shared_from_this(); }

  void OnHead(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    const auto& head = parser_->get();
    version_ = head.version();
    request_ = HttpRequest{};  // nothing, in particular no caller, from the last request
    request_.method = std::string(head.method_string());
    const std::string_view target = head.target();
    const std::size_t q = target.find('?');
    request_.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
      auto query = ParseQuery(target.substr(q + 1));
      if (!query) {
        return Answer(ProblemResponse(400, "Bad request", "invalid_argument", query.error().message,
                                      query.error().field));
      }
      request_.query = std::move(*query);
    }
    request_.authorization = std::string(head[http::field::authorization]);
    request_.idempotency_key = std::string(head["Idempotency-Key"]);
    request_.content_type = std::string(head[http::field::content_type]);
    request_.cookie = std::string(head[http::field::cookie]);
    request_.sec_fetch_site = std::string(head["Sec-Fetch-Site"]);
    if (peer_.empty()) {
      beast::error_code peer_error;
      const auto endpoint = Lowest().socket().remote_endpoint(peer_error);
      if (!peer_error) peer_ = endpoint.address().to_string();
    }
    request_.peer = peer_;
    heavy_ = false;
    if (shared().admit) {
      Admission admission;
      try {
        admission = shared().admit(request_);
      } catch (const std::exception&) {
        std::fputs("{\"event\":\"admit_exception\"}\n", stderr);
        admission.answer = Internal();
      }
      if (admission.answer) return Answer(std::move(*admission.answer));
      heavy_ = admission.heavy;
    }
    // A small request comes in one packet: its body is already in the
    // buffer, and parsing it here saves an asynchronous read (a trip
    // through the io_context and a timer) on the hot path.
    while (!parser_->is_done() && buffer_.size() > 0) {
      beast::error_code parse;
      const std::size_t used = parser_->put(buffer_.data(), parse);
      buffer_.consume(used);
      if (parse == http::error::need_more) break;
      if (parse) return OnReadError(parse);
      if (used == 0) break;
    }
    if (parser_->is_done()) return OnBody({}, 0);
    // The client waits for our word before it sends the body: it is
    // admitted, so say go on.
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, version_);
      Lowest().expires_after(shared().options.timeout);
      return http::async_write(Stream(), *continue_, [self = Self()](beast::error_code ec, std::size_t) {
        if (ec) return;  // the session ends with this handler
        self->ReadBody();
      });
    }
    ReadBody();
  }

  // The rest of the body, within the deadline set for the request.
  void ReadBody() {
    http::async_read(Stream(), buffer_, *parser_, beast::bind_front_handler(&Session::OnBody, Self()));
  }

  void OnBody(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    request_.body = std::move(parser_->get().body());
    bool keep_alive = parser_->get().keep_alive();
    const int max_requests = shared().options.max_requests_per_connection;
    if (max_requests > 0 && ++served_ >= max_requests) keep_alive = false;
    ++shared().in_flight;
    if (heavy_ && shared().workers) {
      // Off the I/O thread; the session waits (no read is pending: HTTP/1.1
      // answers in order) and the answer is written on its own executor.
      asio::post(*shared().workers, [self = Self(), keep_alive] {
        LowerPriority();
        HttpResponse r = self->Call();
        asio::post(self->Lowest().get_executor(), [self, keep_alive, r = std::move(r)]() mutable {
          // A new deadline for the answer: the handler may have taken a while.
          self->Lowest().expires_after(self->shared().options.timeout);
          self->Write(std::move(r), keep_alive, self->version_, true);
        });
      });
      return;
    }
    Write(Call(), keep_alive, version_, true);
  }

  HttpResponse Call() {
    try {
      return shared().handler(request_);
    } catch (const std::exception&) {
      // A bug must cost one request, not the process.
      std::fputs("{\"event\":\"handler_exception\"}\n", stderr);
      return Internal();
    }
  }

  // An answer given before the body was read: the connection can go on
  // only if there was no body, else its bytes would be read as the next
  // request.
  void Answer(HttpResponse r) {
    const bool keep_alive = parser_->is_header_done() && parser_->is_done() && parser_->get().keep_alive();
    ++shared().in_flight;
    Write(std::move(r), keep_alive, version_, true);
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return Refuse(ProblemResponse(431, "Request header fields too large", "request_header_too_large",
                                    "the request line and headers are larger than " +
                                        std::to_string(kHeaderLimit) + " bytes",
                                    "headers"));
    }
    if (ec == http::error::body_limit) {
      return Refuse(ProblemResponse(413, "Payload too large", "payload_too_large",
                                    "the body is larger than the server's limit", "body"));
    }
    // Any other parse error is malformed HTTP: a bad request line, a bad
    // Content-Length, an unencoded space in the target, a bad chunk. A
    // closed or reset connection, or a timeout, leaves nobody to answer.
    if (ec.category() == HttpErrors() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message && ec != http::error::short_read) {
      return Refuse(ProblemResponse(400, "Bad request", "malformed_request",
                                    "malformed HTTP request: " + ec.message()));
    }
    // The session ends when this handler returns: the socket closes.
  }

  void Write(HttpResponse r, bool keep_alive, unsigned version, bool counted) {
    res_ = {};
    res_.result(static_cast<http::status>(r.status));
    res_.version(version);
    res_.set(http::field::server, "qorgau");
    res_.set(http::field::content_type, r.content_type);
    // Inserted, not set: a page may send several Set-Cookie headers.
    for (const auto& [name, value] : r.headers) res_.insert(name, value);
    res_.keep_alive(keep_alive && !shared().stopping);
    res_.body() = std::move(r.body);
    res_.prepare_payload();
    // Written within the request's deadline (set before its head was read;
    // renewed for heavy handlers), so a client that does not read its
    // answer cannot hold the connection.
    http::async_write(Stream(), res_, [self = Self(), counted](beast::error_code ec, std::size_t) {
      if (counted) --self->shared().in_flight;
      if (ec) return;
      if (!self->res_.keep_alive()) return self->derived().Close();
      self->ReadHead();
    });
  }

  ConnectionSlot slot_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> res_;
  HttpRequest request_;
  std::string peer_;  // the client's address, read once per connection
  unsigned version_ = 11;
  bool heavy_ = false;
  int served_ = 0;
};

class PlainSession : public Session<PlainSession>, public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(beast::tcp_stream stream, beast::flat_buffer buffer, ConnectionSlot slot)
      : Session(std::move(buffer), std::move(slot)), stream_(std::move(stream)) {}

  void Run() { ReadHead(); }
  beast::tcp_stream& stream() { return stream_; }

  // Half-close, then drop what the client still sends until it closes or
  // kLinger passes (see kLinger).
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    stream_.expires_after(kLinger);
    Drain();
  }

 private:
  void Drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->Drain();
    });
  }

  beast::tcp_stream stream_;
};

class TlsSession : public Session<TlsSession>, public std::enable_shared_from_this<TlsSession> {
 public:
  TlsSession(beast::tcp_stream stream, ssl::context& context, beast::flat_buffer buffer, ConnectionSlot slot)
      : Session(std::move(buffer), std::move(slot)), stream_(std::move(stream), context) {}

  void Run() {
    beast::get_lowest_layer(stream_).expires_after(shared().options.timeout);
    // The detector's bytes are the start of the handshake.
    // (A member, not a lambda: Boost 1.81 constrains this handler with the
    // wrong signature, which bind_front_handler's variadic call satisfies.)
    stream_.async_handshake(ssl::stream_base::server, buffer_.data(),
                            beast::bind_front_handler(&TlsSession::OnHandshake, shared_from_this()));
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }

  void Close() {
    beast::get_lowest_layer(stream_).expires_after(kLinger);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

 private:
  void OnHandshake(beast::error_code ec, std::size_t used) {
    if (ec) return;  // a bad or impatient peer: the session ends here
    buffer_.consume(used);
    ReadHead();
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
};

// On a TLS port: a TLS client gets a TlsSession; a plain-HTTP request is
// answered 400 in plain HTTP, since it cannot read anything else.
class Detector : public std::enable_shared_from_this<Detector> {
 public:
  Detector(tcp::socket socket, ConnectionSlot slot) : stream_(std::move(socket)), slot_(std::move(slot)) {}

  void Run() {
    stream_.expires_after(slot_.shared().options.timeout);
    beast::async_detect_ssl(stream_, buffer_, beast::bind_front_handler(&Detector::OnDetect, shared_from_this()));
  }

 private:
  void OnDetect(beast::error_code ec, bool tls) {
    if (ec) return;
    Shared& shared = slot_.shared();
    if (tls) {
      std::make_shared<TlsSession>(std::move(stream_), *shared.tls, std::move(buffer_), std::move(slot_))->Run();
      return;
    }
    std::make_shared<PlainSession>(std::move(stream_), std::move(buffer_), std::move(slot_))
        ->Refuse(ProblemResponse(400, "Bad request", "tls_required",
                                 "this port speaks HTTPS: send the request over TLS (https://)"));
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  ConnectionSlot slot_;
};

// The one listening socket; accepts on its thread and gives each
// connection to the io_contexts in turn.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::vector<asio::io_context*> contexts, std::shared_ptr<Shared> shared)
      : contexts_(std::move(contexts)),
        acceptor_(*contexts_.front()),
        backoff_(*contexts_.front()),
        shared_(std::move(shared)) {}

  Result<std::uint16_t> Bind(const tcp::endpoint& endpoint) {
    const std::string where = (endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                                          : endpoint.address().to_string()) +
                              ":" + std::to_string(endpoint.port());
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    // SO_REUSEADDR lets a restarted server bind while the old connections
    // linger in TIME_WAIT; it never admits a second listener. SO_REUSEPORT,
    // which would, is not set.
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (ec == asio::error::address_in_use) {
      return Fail(ErrorCode::kFailedPrecondition, "listen", where + " is in use by another process");
    }
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Fail(ErrorCode::kIo, "listen", "cannot listen on " + where + ": " + ec.message());
    return acceptor_.local_endpoint().port();
  }

  void Accept() {
    asio::io_context& next = *contexts_[next_++ % contexts_.size()];
    acceptor_.async_accept(next, beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void Close() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->backoff_.cancel();
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open() || shared_->stopping) return;
    if (ec) {
      backoff_.expires_after(kAcceptBackoff);
      backoff_.async_wait([self = shared_from_this()](beast::error_code wait) {
        if (!wait && self->acceptor_.is_open()) self->Accept();
      });
      return;
    }
    if (shared_->connections.load() >= shared_->options.max_connections) {
      Busy(std::move(socket));
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      ConnectionSlot slot(shared_);
      // Each session starts on its own io_context's thread.
      const auto executor = socket.get_executor();
      if (shared_->tls) {
        asio::dispatch(executor, [s = std::make_shared<Detector>(std::move(socket), std::move(slot))] { s->Run(); });
      } else {
        asio::dispatch(executor, [s = std::make_shared<PlainSession>(beast::tcp_stream(std::move(socket)),
                                                                      beast::flat_buffer(), std::move(slot))] {
          s->Run();
        });
      }
    }
    Accept();
  }

  // Over the cap: a plain-HTTP client gets 503 and Retry-After, written at
  // once without blocking (a fresh socket's send buffer is empty); a TLS
  // client cannot be answered without a handshake, which is the cost we
  // refuse, and is just closed.
  void Busy(tcp::socket socket) {
    beast::error_code ec;
    socket.non_blocking(true, ec);
    if (!shared_->tls && !ec) socket.send(asio::buffer(shared_->busy), 0, ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    // Drop what has already arrived, without waiting for more: closing
    // with unread bytes sends a reset, which can destroy the answer.
    char scrap[4096];
    for (int i = 0; i < 16; ++i) {
      socket.receive(asio::buffer(scrap), 0, ec);
      if (ec) break;
    }
    socket.close(ec);
  }

  std::vector<asio::io_context*> contexts_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  std::shared_ptr<Shared> shared_;
  std::size_t next_ = 0;
};

// The 503 answer for a connection over the cap, as bytes.
std::string BusyAnswer() {
  const HttpResponse problem = ProblemResponse(503, "Service unavailable", "too_many_connections",
                                               "the server has too many open connections; retry later");
  http::response<http::string_body> res(http::status::service_unavailable, 11);
  res.set(http::field::server, "qorgau");
  res.set(http::field::content_type, problem.content_type);
  res.set(http::field::retry_after, "1");
  res.keep_alive(false);
  res.body() = problem.body;
  res.prepare_payload();
  std::ostringstream out;
  out << res;
  return out.str();
}

Result<std::unique_ptr<ssl::context>> LoadTls(const ServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Fail(ErrorCode::kInvalidArgument, o.tls_cert_file.empty() ? "tls-cert" : "tls-key",
                "TLS needs both a certificate (tls-cert) and its key (tls-key)");
  }
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and later only, whatever the system's OpenSSL configuration
  // allows: 1.0 and 1.1 are deprecated (RFC 8996).
  if (SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION) != 1) {
    return Fail(ErrorCode::kInternal, "tls", "cannot require TLS 1.2");
  }
  context->set_options(ssl::context::default_workarounds | ssl::context::single_dh_use);
  // An encrypted key would make OpenSSL ask for its passphrase on the
  // terminal; fail instead.
  context->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
  beast::error_code ec;
  context->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "tls-cert", "cannot load " + o.tls_cert_file + ": " + ec.message());
  context->use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "tls-key", "cannot load " + o.tls_key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "tls-key", o.tls_key_file + " is not the key of the certificate");
  }
  return context;
}

}  // namespace

struct Server::Impl {
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  // Keeps each context's run() going while it has no connection yet (only
  // the first holds the listener).
  std::vector<WorkGuard> guards;
  std::unique_ptr<asio::thread_pool> workers;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
};

Server::Server(ServerOptions options, Handler handler, Admit admit) : impl_(std::make_unique<Impl>()) {
  impl_->shared->options = std::move(options);
  impl_->shared->handler = std::move(handler);
  impl_->shared->admit = std::move(admit);
}

Server::~Server() {
  Stop();
  Wait();
}

Result<std::uint16_t> Server::Start() {
  Shared& shared = *impl_->shared;
  const ServerOptions& o = shared.options;
  beast::error_code ec;
  const auto address = asio::ip::make_address(o.address, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "listen", "not an IP address");
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    auto tls = LoadTls(o);
    if (!tls) return tl::unexpected(tls.error());
    shared.tls = std::move(*tls);
  } else if (!address.is_loopback() && !o.insecure) {
    return Fail(ErrorCode::kFailedPrecondition, "listen",
                o.address + " is not a loopback address: plain HTTP would carry API keys and personal "
                            "data in clear; serve TLS (--tls-cert, --tls-key) or pass --insecure");
  }
  shared.busy = BusyAnswer();
  int n = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  std::vector<asio::io_context*> contexts;
  for (int i = 0; i < n; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    contexts.push_back(impl_->contexts.back().get());
  }
  auto listener = std::make_shared<Listener>(std::move(contexts), impl_->shared);
  auto port = listener->Bind(tcp::endpoint(address, o.port));
  if (!port) {
    listener.reset();  // its acceptor and timer before their context
    impl_->contexts.clear();
    return port;
  }
  impl_->workers = std::make_unique<asio::thread_pool>(o.workers > 0 ? o.workers : std::max(1, n / 2));
  shared.workers = impl_->workers.get();
  listener->Accept();
  impl_->listener = std::move(listener);
  for (auto& ioc : impl_->contexts) {
    impl_->guards.push_back(asio::make_work_guard(*ioc));
    impl_->threads.emplace_back([ctx = ioc.get()] { ctx->run(); });
  }
  return port;
}

void Server::Stop() {
  if (impl_->shared->stopping.exchange(true)) return;
  if (impl_->listener) impl_->listener->Close();
  // Let the requests already read be answered; idle keep-alive
  // connections are then cut when the contexts stop.
  const auto deadline = std::chrono::steady_clock::now() + impl_->shared->options.drain;
  while (impl_->shared->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& ioc : impl_->contexts) ioc->stop();
  if (impl_->workers) impl_->workers->stop();
}

void Server::Wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  // The pool goes first: a job it abandoned holds a session, whose socket
  // must close while its io_context still exists.
  if (impl_->workers) impl_->workers->join();
  impl_->workers.reset();
  impl_->shared->workers = nullptr;
  // Destroying the contexts destroys their pending handlers, and with them
  // the idle sessions: their sockets close, so no client waits forever.
  impl_->listener.reset();
  impl_->guards.clear();
  impl_->contexts.clear();
}

}  // namespace qorgau::api
