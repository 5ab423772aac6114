// Webhooks: see webhooks.h.
#include "rules/webhooks.h"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>

#include "crypto/crypto.h"
#include "ledger/ledger.h"

namespace qorgau::rules {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxUrl = 2000;
constexpr std::size_t kMaxBatch = 1000;

Result<void> CheckSpec(const WebhookSpec& s) {
  if (s.name.empty() || s.name.size() > 64 ||
      !std::all_of(s.name.begin(), s.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      })) {
    return Fail(ErrorCode::kInvalidArgument, "name", "must be 1 to 64 of a-z, 0-9, '_' and '-'");
  }
  if (s.url.size() > kMaxUrl) {
    return Fail(ErrorCode::kInvalidArgument, "url", "is longer than " + std::to_string(kMaxUrl) + " bytes");
  }
  if (std::any_of(s.url.begin(), s.url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
    return Fail(ErrorCode::kInvalidArgument, "url", "must not hold spaces or control characters");
  }
  if (s.url.rfind("http://", 0) != 0 && s.url.rfind("https://", 0) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "url", "must start with http:// or https://");
  }
  const std::size_t start = s.url.find("//") + 2;
  const std::string authority = s.url.substr(start, s.url.find_first_of("/?#", start) - start);
  if (authority.find('@') != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "url", "must not carry a user name or password");
  }
  if (authority.empty() || authority[0] == ':') return Fail(ErrorCode::kInvalidArgument, "url", "names no host");
  if (s.secret_file.empty() || s.secret_file[0] != '/' ||
      std::any_of(s.secret_file.begin(), s.secret_file.end(), [](unsigned char c) { return c < ' '; })) {
    return Fail(ErrorCode::kInvalidArgument, "secret_file", "must be an absolute path");
  }
  return {};
}

std::chrono::milliseconds Backoff(const DeliveryOptions& o, int failures) {
  std::chrono::milliseconds wait = o.backoff;
  for (int i = 1; i < failures && wait < o.max_backoff; ++i) wait *= 2;
  return std::min(wait, o.max_backoff);
}

// One batch's body: each row with its event as the ledger holds it (ids and
// names, never a value). A policy.published event's diff is left out: it
// goes to every subject the edition concerns, and GET /v1/policy/editions
// has it.
Result<std::string> BatchBody(store::Transaction& txn, const std::string& webhook,
                              const std::vector<store::OutboxRecord>& rows) {
  json::array deliveries;
  std::int64_t cached_seq = 0;
  json::value cached;
  std::string cached_hash;
  for (const auto& r : rows) {
    if (r.event_seq != cached_seq) {
      std::optional<store::EventRecord> found;
      QORGAU_TRY(txn.ScanEvents(r.event_seq, [&](const store::EventRecord& e) {
        if (e.seq == r.event_seq) found = e;
        return false;
      }));
      if (!found) {
        return Fail(ErrorCode::kCorruption, "outbox",
                    "event " + std::to_string(r.event_seq) + " of the outbox is not in the ledger");
      }
      boost::system::error_code ec;
      cached = json::parse(found->body, ec);
      cached_hash = crypto::ToHex(found->hash).substr(0, 16);
      if (ec || !cached.is_object()) {
        return Fail(ErrorCode::kCorruption, "outbox", "event " + std::to_string(r.event_seq) + " is not JSON");
      }
      if (auto* data = cached.as_object().if_contains("data"); data && data->is_object()) {
        data->as_object().erase("diff");
      }
      cached_seq = r.event_seq;
    }
    json::object d;
    // Unique for good: after a restore the ledger's seqs are reused by
    // other events, with other hashes.
    d["id"] = std::to_string(r.event_seq) + "." + std::to_string(r.subject_id) + "." + cached_hash;
    d["seq"] = r.event_seq;
    d["subject"] = r.subject_id;
    d["kind"] = r.kind;
    d["created_at"] = FormatUtc(r.created_at);
    d["event"] = cached;
    deliveries.push_back(std::move(d));
  }
  return json::serialize(json::object{{"webhook", webhook}, {"deliveries", std::move(deliveries)}});
}

// Marks delivered what every webhook has accepted (nothing when there is
// none: the outbox waits for one).
Result<void> MarkDeliveredToAll(store::Transaction& txn, UnixMillis now) {
  QORGAU_ASSIGN_OR_RETURN(const auto all, txn.ListWebhooks());
  if (all.empty()) return {};
  std::pair<std::int64_t, store::SubjectId> least{all[0].cursor_seq, all[0].cursor_subject};
  for (const auto& h : all) least = std::min(least, std::make_pair(h.cursor_seq, h.cursor_subject));
  return txn.MarkOutboxDelivered(least.first, least.second, now);
}

}  // namespace

std::string UrlAuthority(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  const std::size_t start = scheme + 3;
  std::string_view authority = url.substr(start, url.find_first_of("/?#", start) - start);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  return std::string(authority);
}

Result<store::WebhookRecord> Webhooks::AddWebhook(const WebhookSpec& spec, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kWebhooksManage));
  QORGAU_TRY(CheckSpec(spec));
  store::WebhookRecord rec;
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"webhook.added", std::nullopt, caller.id(), {}};
    ev.data["name"] = spec.name;
    ev.data["host"] = UrlAuthority(spec.url);
    ev.data["url_hash"] = crypto::ToHex(crypto::Sha256(spec.url));
    ev.data["secret_file"] = spec.secret_file;
    QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, now, ev));
    rec.name = spec.name;
    rec.url = spec.url;
    rec.secret_file = spec.secret_file;
    rec.added_at = now;
    rec.event_seq = event.seq;
    // It starts at the first row nobody has had yet; with none, after
    // everything there is.
    QORGAU_ASSIGN_OR_RETURN(const auto first, txn.OutboxAfter(0, 0, true, 1));
    if (!first.empty()) {
      rec.cursor_seq = first[0].event_seq;
      rec.cursor_subject = first[0].subject_id - 1;
    } else {
      rec.cursor_seq = event.seq;
      rec.cursor_subject = std::numeric_limits<store::SubjectId>::max();
    }
    QORGAU_TRY(txn.InsertWebhook(rec));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return rec;
}

Result<void> Webhooks::RemoveWebhook(const std::string& name, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kWebhooksManage));
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const bool gone, txn.DeleteWebhook(name));
    if (!gone) return Fail(ErrorCode::kNotFound, "name", "no webhook is named '" + name + "'");
    ledger::EventDraft ev{"webhook.removed", std::nullopt, caller.id(), {}};
    ev.data["name"] = name;
    const UnixMillis now = d_.clock.Now();
    QORGAU_TRY(ledger::Append(txn, now, ev));
    // What it held back goes now to no one more.
    QORGAU_TRY(MarkDeliveredToAll(txn, now));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return {};
}

Result<std::vector<store::WebhookRecord>> Webhooks::ListWebhooks(const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kWebhooksManage));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  return txn->ListWebhooks();
}

Result<DeliveryOutcome> Webhooks::DeliverOutbox(const WebhookSender& send, const DeliveryOptions& options,
                                                const Caller& caller, const std::function<bool()>& stop) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kOutboxDeliver));
  return DeliverOutbox(send, options, stop);
}

Result<DeliveryOutcome> Webhooks::DeliverOutbox(const WebhookSender& send, const DeliveryOptions& options,
                                                const std::function<bool()>& stop) {
  if (options.batch == 0 || options.batch > kMaxBatch) {
    return Fail(ErrorCode::kInvalidArgument, "batch", "must be 1 to " + std::to_string(kMaxBatch));
  }
  std::vector<store::WebhookRecord> hooks;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(hooks, txn->ListWebhooks());
  }
  DeliveryOutcome out;
  for (auto& w : hooks) {
    if (stop && stop()) break;
    if (w.next_at > d_.clock.Now()) {
      out.webhooks.push_back({w.name, 0, false, w.last_error, true});
      continue;
    }
    QORGAU_ASSIGN_OR_RETURN(auto done, DeliverTo(std::move(w), send, options, stop));
    out.webhooks.push_back(std::move(done));
  }
  return out;
}

Result<WebhookDelivery> Webhooks::DeliverTo(store::WebhookRecord w, const WebhookSender& send,
                                            const DeliveryOptions& o, const std::function<bool()>& stop) {
  WebhookDelivery out;
  out.webhook = w.name;
  while (!(stop && stop())) {
    std::vector<store::OutboxRecord> rows;
    std::string body;
    {
      QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
      QORGAU_ASSIGN_OR_RETURN(rows, txn->OutboxAfter(w.cursor_seq, w.cursor_subject, false, o.batch));
      if (rows.empty()) break;
      QORGAU_ASSIGN_OR_RETURN(body, BatchBody(*txn, w.name, rows));
    }
    const auto sent = send(w, body);
    const UnixMillis now = d_.clock.Now();
    const std::pair<std::int64_t, store::SubjectId> from{w.cursor_seq, w.cursor_subject};
    const std::pair<std::int64_t, store::SubjectId> to{rows.back().event_seq, rows.back().subject_id};
    if (sent) {
      w.cursor_seq = to.first;
      w.cursor_subject = to.second;
      w.delivered += static_cast<std::int64_t>(rows.size());
      w.failures = 0;
      w.next_at = 0;
      w.last_error.clear();
      w.last_delivered_at = now;
      out.delivered += static_cast<std::int64_t>(rows.size());
    } else {
      ++w.failures;
      w.next_at = now + Backoff(o, w.failures).count();
      w.last_error = sent.error().message;
      out.failed = true;
      out.error = w.last_error;
    }
    bool still_there = true;
    QORGAU_TRY(core_.Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
      // Removed (or removed and added again) while this pass posted: its
      // state is not this pass's to write, and nothing more is sent to it.
      QORGAU_ASSIGN_OR_RETURN(still_there, txn.UpdateWebhookDelivery(w));
      if (!still_there) return std::vector<index::Delta>{};
      if (!sent) {
        QORGAU_TRY(txn.CountOutboxAttempt(from, to));
        return std::vector<index::Delta>{};
      }
      QORGAU_TRY(MarkDeliveredToAll(txn, now));
      return std::vector<index::Delta>{};
    }));
    if (!still_there || !sent || rows.size() < o.batch) break;
  }
  return out;
}

}  // namespace qorgau::rules
