// Webhooks: the outbox delivered to the operator's other systems (billing,
// CRM, the app's backend) at least once, in order. Part of rules::Engine
// (rules/engine.h); implemented in webhooks.cc.
//
// The outbox holds the events other systems must act on (ledger::
// GoesToOutbox, and policy.published once per subject it concerns), written
// in the transaction of the event. Each webhook is sent the outbox in its
// order, (event seq, subject), in batches: a batch is one POST; a 2xx
// answer moves the webhook's cursor past it, anything else (or no answer)
// leaves the cursor where it was and the batch is sent again after a
// back-off that doubles from DeliveryOptions::backoff up to max_backoff.
// A webhook is never sent a row before every row ahead of it was accepted,
// so each subject's messages arrive in order; one that fails holds its own
// webhook back, never another. A crash between the POST and the cursor's
// move sends the batch again: receivers deduplicate by each delivery's
// `id`, "seq.subject.hash" (the event hash's first 16 hex digits: a
// restored backup reuses seqs, never hashes; docs/architecture.md, "The
// outbox and its webhooks").
//
// A row is delivered (OutboxRecord::delivered_at) once every webhook has
// it. A new webhook starts at the first row not delivered yet: what waited
// for a receiver goes to the first one added.
//
// The engine does no I/O: the POST, with the signature made from the
// webhook's secret file, is the WebhookSender the caller gives
// (api/outbound.h makes the real one).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct WebhookSpec {
  std::string name;         // [a-z0-9_-], 1 to 64
  std::string url;          // http:// or https://
  std::string secret_file;  // an absolute path: the signing key's file
};

// Posts one batch (the JSON body) to the webhook; an error says why it was
// not accepted (kIo: no answer, or not 2xx; naming host and port only).
using WebhookSender = std::function<Result<void>(const store::WebhookRecord& webhook, const std::string& body)>;

struct DeliveryOptions {
  std::size_t batch = 100;                              // rows per POST
  std::chrono::milliseconds backoff{1000};              // after the first failure
  std::chrono::milliseconds max_backoff{5 * 60 * 1000};  // the longest wait
};

struct WebhookDelivery {
  std::string webhook;
  std::int64_t delivered = 0;  // rows accepted in this pass
  bool failed = false;         // the pass ended on a failure
  std::string error;           // its reason (host and port only)
  bool waiting = false;        // in back-off: not tried in this pass
};

struct DeliveryOutcome {
  std::vector<WebhookDelivery> webhooks;
};

class Webhooks {
 public:
  explicit Webhooks(EngineCore& core) : core_(core), d_(core.deps()) {}
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // The administrator's (webhooks.manage). Each a ledger event that names
  // the webhook, the URL's host and port and its SHA-256 (a URL may carry
  // a token), and the secret's file.
  Result<store::WebhookRecord> AddWebhook(const WebhookSpec& spec, const Caller& caller);
  Result<void> RemoveWebhook(const std::string& name, const Caller& caller);
  Result<std::vector<store::WebhookRecord>> ListWebhooks(const Caller& caller);

  // One delivery pass: each webhook not in back-off is sent what it has
  // not accepted, batch after batch, until it is up to date or a batch
  // fails. `stop`, checked between batches, ends the pass early (a server
  // shutting down). The caller's (outbox.deliver) ...
  Result<DeliveryOutcome> DeliverOutbox(const WebhookSender& send, const DeliveryOptions& options,
                                        const Caller& caller, const std::function<bool()>& stop = {});
  // ... or the server's own job (`qorgau serve` delivers in the
  // background).
  Result<DeliveryOutcome> DeliverOutbox(const WebhookSender& send, const DeliveryOptions& options,
                                        const std::function<bool()>& stop = {});

 private:
  Result<WebhookDelivery> DeliverTo(store::WebhookRecord webhook, const WebhookSender& send,
                                    const DeliveryOptions& options, const std::function<bool()>& stop);
  EngineCore& core_;
  const EngineDeps& d_;
};

// The URL's host and port, for events, logs and errors; "" when it has none.
std::string UrlAuthority(std::string_view url);

}  // namespace qorgau::rules
