#include "report/receipt.h"

#include <boost/json.hpp>
#include <set>

#include "ledger/canonical_json.h"

namespace qorgau::report {
namespace {

boost::json::object TextJson(const policy::Text& text) {
  boost::json::object o;
  for (const auto& [lang, value] : text) o[lang] = value;
  return o;
}

}  // namespace

Result<std::string> BuildReceipt(const policy::Policy& p, const ReceiptInput& in,
                                 const crypto::Signer& signer) {
  boost::json::object r;
  r["version"] = kReceiptFormat;
  r["receipt_id"] = "receipt-" + std::to_string(in.event_seq);
  r["issued_at"] = FormatUtc(in.at);
  r["jurisdiction"] = p.controller.country;
  boost::json::object controller;
  controller["name"] = TextJson(p.controller.name);
  controller["brand"] = p.controller.brand;
  controller["address"] = TextJson(p.controller.address);
  controller["postal_index"] = p.controller.postal_index;
  controller["country"] = p.controller.country;
  r["controller"] = std::move(controller);
  boost::json::object policy;
  policy["edition"] = p.edition.number;
  policy["effective_date"] = FormatDate(p.edition.effective_date);
  r["policy"] = std::move(policy);
  r["subject"] = boost::json::object{{"id", in.subject}};
  r["action"] = in.action;

  boost::json::array purposes;
  std::set<std::string> categories;
  boost::json::array recipients;
  std::set<std::string> recipient_ids;
  bool cross_border = false;
  for (const auto& id : in.purposes) {
    const policy::Purpose* pu = p.FindPurpose(id);
    if (!pu) return Fail(ErrorCode::kInternal, "purpose", "unknown purpose in a receipt");
    boost::json::object o;
    o["id"] = pu->id;
    o["number"] = pu->number;
    o["legal_basis"] = std::string(policy::LegalBasisName(pu->basis));
    o["name"] = TextJson(pu->name);
    purposes.push_back(std::move(o));
    for (const auto& c : p.categories) {
      if (p.CategoryAllowsPurpose(c.id, id)) categories.insert(c.id);
    }
    for (const auto& rec : p.recipients) {
      for (const auto& rp : rec.purposes) {
        if (rp.id != id || !recipient_ids.insert(rec.id).second) continue;
        cross_border = cross_border || rec.country != p.controller.country;
        recipients.push_back(boost::json::object{{"id", rec.id}, {"country", rec.country}});
      }
    }
  }
  r["purposes"] = std::move(purposes);
  boost::json::array cats;
  for (const auto& c : categories) cats.emplace_back(c);
  r["categories"] = std::move(cats);
  r["recipients"] = std::move(recipients);
  r["third_party_transfer"] = !recipient_ids.empty();
  r["cross_border_transfer"] = cross_border;
  boost::json::array on, off;
  for (const auto& s : in.services_on) on.emplace_back(s);
  for (const auto& s : in.services_off) off.emplace_back(s);
  r["services_switched_on"] = std::move(on);
  r["services_switched_off"] = std::move(off);
  r["channel"] = in.channel;
  r["evidence"] = in.evidence;
  boost::json::array withdraw_channels;
  for (const auto& c : p.withdrawal.channels) withdraw_channels.emplace_back(c.id);
  r["how_to_withdraw"] = boost::json::object{{"channels", std::move(withdraw_channels)},
                                             {"warning", TextJson(p.withdrawal.warning)}};
  r["ledger"] = boost::json::object{{"seq", in.event_seq}, {"hash", in.event_hash}};

  auto unsigned_body = ledger::CanonicalJson(r);
  if (!unsigned_body) return tl::unexpected(unsigned_body.error());
  auto signature = signer.Sign(*unsigned_body);
  if (!signature) return tl::unexpected(signature.error());
  r["signature"] = boost::json::object{{"alg", "Ed25519"},
                                       {"key_id", signer.KeyId()},
                                       {"value", crypto::Base64Encode(*signature)}};
  auto body = ledger::CanonicalJson(r);
  if (!body) return tl::unexpected(body.error());
  return *body + "\n";
}

ReceiptCheck VerifyReceipt(std::string_view text, const crypto::Verifier& verifier) {
  ReceiptCheck check;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    check.reason = "not a JSON object";
    return check;
  }
  auto canonical = ledger::CanonicalJson(parsed);
  if (!canonical || (*canonical + "\n" != text && *canonical != text)) {
    check.reason = "not in canonical form (the file was altered)";
    return check;
  }
  boost::json::object& r = parsed.as_object();
  if (const auto* id = r.if_contains("receipt_id"); id && id->is_string()) {
    check.receipt_id = std::string(id->get_string());
  }
  const auto* version = r.if_contains("version");
  if (!version || !version->is_string() || version->get_string() != kReceiptFormat) {
    check.reason = "not a qorgau-receipt/1";
    return check;
  }
  const auto* sig = r.if_contains("signature");
  if (!sig || !sig->is_object()) {
    check.reason = "no signature";
    return check;
  }
  const auto* alg = sig->get_object().if_contains("alg");
  const auto* key_id = sig->get_object().if_contains("key_id");
  const auto* value = sig->get_object().if_contains("value");
  if (!alg || !alg->is_string() || alg->get_string() != "Ed25519" || !value || !value->is_string()) {
    check.reason = "signature is not Ed25519";
    return check;
  }
  if (!key_id || !key_id->is_string() || key_id->get_string() != verifier.KeyId()) {
    check.reason = "signed with another key (key id differs)";
    return check;
  }
  auto bytes = crypto::Base64Decode(value->get_string(), "signature.value");
  if (!bytes) {
    check.reason = "signature is not base64";
    return check;
  }
  r.erase("signature");
  auto body = ledger::CanonicalJson(r);
  if (!body || !verifier.Verify(*body, *bytes)) {
    check.reason = "signature does not match the content";
    return check;
  }
  check.ok = true;
  return check;
}

std::function<std::string(const store::ReceiptRecord&)> ReceiptChecker(const crypto::Verifier& verifier) {
  return [&verifier](const store::ReceiptRecord& r) -> std::string {
    const ReceiptCheck c = VerifyReceipt(r.body, verifier);
    return c.ok ? "" : c.reason;
  };
}

}  // namespace qorgau::report
