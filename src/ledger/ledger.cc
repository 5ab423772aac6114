#include "ledger/ledger.h"

#include <boost/json.hpp>

#include "core/personal_value.h"
#include "crypto/crypto.h"
#include "ledger/canonical_json.h"

namespace qorgau::ledger {
namespace {

crypto::Bytes ChainHash(const crypto::Bytes& prev, std::string_view body) {
  const crypto::Digest d = crypto::Sha256(
      {kFormat, "\n", std::string_view(reinterpret_cast<const char*>(prev.data()), prev.size()), body});
  return crypto::Bytes(d.begin(), d.end());
}

// `path` names the field for the error: it grows and shrinks as the walk
// goes down and up, so a clean event allocates nothing.
Result<void> CheckNoValues(const boost::json::value& v, std::string& path) {
  switch (v.kind()) {
    case boost::json::kind::string:
      if (ContainsPersonalDataShape(v.get_string())) {
        return Fail(ErrorCode::kInternal, path, "event field has the shape of personal data");
      }
      return {};
    case boost::json::kind::array:
      for (const auto& item : v.get_array()) QORGAU_TRY(CheckNoValues(item, path));
      return {};
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        // Hex digests are random digits, not values; they are exempt, and
        // so are signing key ids (the first hex digits of one).
        if (kv.key().ends_with("hash") || kv.key().ends_with("key_id")) continue;
        const std::size_t size = path.size();
        path += '.';
        path += kv.key();
        QORGAU_TRY(CheckNoValues(kv.value(), path));
        path.resize(size);
      }
      return {};
    default:
      return {};
  }
}

}  // namespace

Result<store::EventRecord> Append(store::Transaction& txn, UnixMillis at, const EventDraft& draft) {
  std::string path = "data";
  QORGAU_TRY(CheckNoValues(draft.data, path));
  auto last = txn.LastEvent();
  if (!last) return tl::unexpected(last.error());
  store::EventRecord e;
  e.seq = *last ? (*last)->seq + 1 : 1;
  e.prev_hash = *last ? (*last)->hash : crypto::Bytes(32, 0);
  QORGAU_ASSIGN_OR_RETURN(const std::string data, CanonicalJson(draft.data));
  CanonicalObject body;
  body.Int("v", 1).Int("seq", e.seq).String("at", FormatUtc(at)).String("type", draft.type);
  body.String("actor", draft.actor).Raw("data", data);
  if (draft.subject) body.Int("subject", *draft.subject);
  QORGAU_ASSIGN_OR_RETURN(e.body, body.Finish());
  e.hash = ChainHash(e.prev_hash, e.body);
  e.subject = draft.subject;
  if (IsRead(draft.type)) e.reader = draft.actor;
  QORGAU_TRY(txn.AppendEvent(e));
  if (GoesToOutbox(draft.type)) QORGAU_TRY(txn.InsertOutbox({e.seq, draft.subject.value_or(0), draft.type, at}));
  return e;
}

bool IsRead(std::string_view type) {
  return type == "access.read" || type == "access.lookup" || type == "transfer.sent";
}

bool GoesToOutbox(std::string_view type) {
  // The same list is in schema migration 16 (store/sqlite/sqlite_store.cc).
  static constexpr std::string_view kKinds[] = {"consent.withdrawn", "service.disabled",   "subject.blocked",
                                                "subject.unblocked", "retention.destroyed", "transfer.made"};
  for (std::string_view k : kKinds) {
    if (k == type) return true;
  }
  return false;
}

Result<VerifyReport> Verify(store::Transaction& txn) {
  VerifyReport report;
  crypto::Bytes prev(32, 0);
  std::int64_t expected = 1;
  auto fail = [&](std::int64_t seq, std::string reason) {
    report.ok = false;
    report.broken_seq = seq;
    report.reason = std::move(reason);
    return false;
  };
  auto scanned = txn.ScanEvents(1, [&](const store::EventRecord& e) {
    if (e.seq != expected) {
      return fail(expected, "event is missing (next stored is " + std::to_string(e.seq) + ")");
    }
    if (e.prev_hash != prev) return fail(e.seq, "previous-hash link does not match");
    if (ChainHash(prev, e.body) != e.hash) return fail(e.seq, "hash does not match the body");
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(e.body, ec);
    if (ec || !parsed.is_object()) return fail(e.seq, "body is not a JSON object");
    auto canonical = CanonicalJson(parsed);
    if (!canonical || *canonical != e.body) return fail(e.seq, "body is not in canonical form");
    const auto* seq = parsed.get_object().if_contains("seq");
    if (!seq || !seq->is_int64() || seq->get_int64() != e.seq) {
      return fail(e.seq, "body names another sequence number");
    }
    prev = e.hash;
    ++expected;
    ++report.events;
    return true;
  });
  if (!scanned) return tl::unexpected(scanned.error());
  report.head_hash = crypto::ToHex(prev);
  return report;
}

Result<std::int64_t> Revision(store::Transaction& txn) {
  auto last = txn.LastEvent();
  if (!last) return tl::unexpected(last.error());
  return *last ? (*last)->seq : 0;
}

}  // namespace qorgau::ledger
