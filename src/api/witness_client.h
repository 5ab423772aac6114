// The client side of an outside witness: one POST of a witness statement
// (ledger/witness.h) to the witness's URL, over HTTP or HTTPS. Beast, Asio
// and OpenSSL's headers stay in witness_client.cc: this header has none.
//
// HTTPS verifies the witness's certificate against the system's trust
// store, plus the PEM certificates of `ca_file`, and checks that it names
// the URL's host (a DNS name or an IP address). Redirects are not
// followed: a 3xx is an answer other than 2xx.
//
// Errors: kInvalidArgument naming "url" (not http:// or https://, no host,
// user:password@ in it) or "ca" (unreadable); kIo naming "witness" for a
// name that does not resolve, a refused connection, a failed TLS
// handshake, a timeout, or an answer other than 2xx. Messages name the
// URL's host and port only, never its path, query or credentials: a
// witness's URL may carry a token.
// Thread safety: reentrant; each call has its own I/O context.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace qorgau::api {

struct WitnessPostOptions {
  // PEM certificates trusted besides the system store (a private CA).
  std::string ca_file;
  // The limit of each step: connecting, the TLS handshake, sending the
  // statement, reading the answer. A witness that hangs must not hang the
  // job that exports heads (cron, a systemd timer).
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

// POSTs `body` with Content-Type application/json to `url`; returns the
// witness's status, a 2xx.
Result<int> PostToWitness(std::string_view url, std::string_view body, const WitnessPostOptions& options);

}  // namespace qorgau::api
