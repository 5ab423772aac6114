// qorgau's outbound HTTP: a POST of JSON to a URL, over HTTP or HTTPS,
// for an outside witness (a witness statement, ledger/witness.h) and for
// webhooks (the outbox, rules/webhooks.h). Beast, Asio and OpenSSL's
// headers stay in outbound.cc: this header has none.
//
// HTTPS verifies the receiver's certificate against the system's trust
// store, plus the PEM certificates of `ca_file`, and checks that it names
// the URL's host (a DNS name or an IP address). Redirects are not
// followed: a 3xx is an answer other than 2xx.
//
// Errors: kInvalidArgument naming "url" (not http:// or https://, no host,
// user:password@ in it) or "ca" (unreadable); kIo naming the receiver
// ("witness", "webhook") for a name that does not resolve, a refused
// connection, a failed TLS handshake, a timeout, or an answer other than
// 2xx. Messages name the URL's host and port only, never its path, query
// or credentials: a URL may carry a token.
// Thread safety: reentrant; each call has its own I/O context.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "rules/webhooks.h"

namespace qorgau::api {

struct PostOptions {
  // PEM certificates trusted besides the system store (a private CA).
  std::string ca_file;
  // The limit of each step: connecting, the TLS handshake, sending the
  // body, reading the answer. A receiver that hangs must not hang the job
  // that posts (cron, a systemd timer, the server's delivery).
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};
using WitnessPostOptions = PostOptions;

using Headers = std::vector<std::pair<std::string, std::string>>;

// POSTs `body` with Content-Type application/json and `headers` to `url`;
// returns the receiver's status, a 2xx. `who` names the receiver in errors.
Result<int> PostJson(std::string_view url, std::string_view body, const Headers& headers, const PostOptions& options,
                     std::string_view who);

// POSTs a witness statement to `url`.
Result<int> PostToWitness(std::string_view url, std::string_view body, const PostOptions& options);

// The signature of a webhook's body, the value of its Qorgau-Signature
// header: "t=UNIX_SECONDS,v1=HEX", HEX the HMAC-SHA256, keyed with the
// secret (the secret file's text, trimmed), of "UNIX_SECONDS.BODY".
Result<std::string> WebhookSignature(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

// Reads a webhook's secret file: readable by its owner only, 32 to 256
// printable characters on its first line (what `qorgau webhook add`
// writes: 64 hex digits).
Result<std::string> ReadWebhookSecret(const std::string& file);

// Writes a new secret file (64 hex digits from 32 random bytes, mode
// 0600); kAlreadyExists when the file exists.
Result<void> CreateWebhookSecret(const std::string& file);

// The real sender: reads the webhook's secret file at each post (a
// rotated secret is used from the next batch), signs the body and POSTs it
// with the headers Qorgau-Signature and Qorgau-Webhook.
rules::WebhookSender MakeWebhookSender(const PostOptions& options);

}  // namespace qorgau::api
