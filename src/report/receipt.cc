#include "report/receipt.h"

#include <boost/json.hpp>
#include <set>

#include "ledger/canonical_json.h"
#include "ledger/merkle.h"

namespace qorgau::report {
namespace {

boost::json::object TextJson(const policy::Text& text) {
  boost::json::object o;
  for (const auto& [lang, value] : text) o[lang] = value;
  return o;
}

std::string StringArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out.push_back(',');
    ledger::AppendCanonicalString(item, &out);
  }
  out.push_back(']');
  return out;
}

// The canonical JSON of the proof member.
Result<std::string> ProofJson(const ReceiptProof& proof) {
  std::vector<std::string> path;
  path.reserve(proof.path.size());
  for (const auto& h : proof.path) path.push_back(crypto::ToHex(h));
  std::string head = ledger::TreeHeadJson(proof.head);
  if (!head.empty() && head.back() == '\n') head.pop_back();
  ledger::CanonicalObject o;
  o.Raw("leaf", proof.leaf).Int("seq", proof.seq).Raw("path", StringArray(path)).Raw("tree_head", head);
  return o.Finish();
}

}  // namespace

namespace {

// The term of a consent under the policy (R-VII.1, R-VI): data are kept,
// and the consent lasts, until the purposes of processing are achieved,
// unless it is withdrawn first.
boost::json::object TermJson() {
  return {{"until", "purposes_achieved_or_withdrawn"},
          {"text", boost::json::object{
                       {"kk", "өңдеу мақсаттарына қол жеткізілгенге дейін немесе келісім кері қайтарылғанға дейін"},
                       {"ru", "до достижения целей обработки или до отзыва согласия"},
                       {"en", "until the purposes of processing are achieved, or until the consent is withdrawn"}}}};
}

}  // namespace

struct ReceiptWriter::PurposeParts {
  std::string purposes, categories, recipients;
  bool third_party = false;
  bool cross_border = false;
};

ReceiptWriter::ReceiptWriter(std::shared_ptr<const policy::Policy> policy) : policy_(std::move(policy)) {
  const policy::Policy& p = *policy_;
  boost::json::object controller;
  controller["name"] = TextJson(p.controller.name);
  controller["brand"] = p.controller.brand;
  controller["address"] = TextJson(p.controller.address);
  controller["postal_index"] = p.controller.postal_index;
  controller["country"] = p.controller.country;
  if (!p.controller.bin.empty()) controller["bin"] = p.controller.bin;  // Art. 8: the operator's BIN
  boost::json::object edition;
  edition["edition"] = p.edition.number;
  // Unknown stays unknown: null, never a made-up day.
  if (p.edition.effective_date) {
    edition["effective_date"] = FormatDate(*p.edition.effective_date);
  } else {
    edition["effective_date"] = nullptr;
  }
  boost::json::array withdraw_channels;
  for (const auto& c : p.withdrawal.channels) withdraw_channels.emplace_back(c.id);
  const boost::json::object how{{"channels", std::move(withdraw_channels)},
                                {"warning", TextJson(p.withdrawal.warning)}};
  auto c = ledger::CanonicalJson(controller);
  auto e = ledger::CanonicalJson(edition);
  auto h = ledger::CanonicalJson(how);
  auto t = ledger::CanonicalJson(TermJson());
  if (!c || !e || !h || !t) {
    error_ = !c ? c.error() : !e ? e.error() : !h ? h.error() : t.error();
    return;
  }
  controller_ = std::move(*c);
  edition_ = std::move(*e);
  how_to_withdraw_ = std::move(*h);
  term_ = std::move(*t);
}

ReceiptWriter::~ReceiptWriter() = default;

Result<std::shared_ptr<const ReceiptWriter::PurposeParts>> ReceiptWriter::Parts(
    const std::vector<std::string>& ids) const {
  std::string key;
  for (const auto& id : ids) key.append(id).push_back('\0');
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = parts_.find(key); it != parts_.end()) return it->second;
  }
  const policy::Policy& p = *policy_;
  boost::json::array purposes;
  std::set<std::string> categories;
  boost::json::array recipients;
  std::set<std::string> recipient_ids;
  auto parts = std::make_shared<PurposeParts>();
  for (const auto& id : ids) {
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
        parts->cross_border = parts->cross_border || rec.country != p.controller.country;
        recipients.push_back(boost::json::object{{"id", rec.id}, {"country", rec.country}});
      }
    }
  }
  QORGAU_ASSIGN_OR_RETURN(parts->purposes, ledger::CanonicalJson(purposes));
  parts->categories = StringArray({categories.begin(), categories.end()});
  QORGAU_ASSIGN_OR_RETURN(parts->recipients, ledger::CanonicalJson(recipients));
  parts->third_party = !recipient_ids.empty();
  // The sets of purposes a policy's changes name are few; the bound only
  // keeps a caller that names many from growing the map.
  constexpr std::size_t kMaxCached = 4096;
  std::lock_guard<std::mutex> lock(mu_);
  if (parts_.size() < kMaxCached) parts_.emplace(std::move(key), parts);
  return std::shared_ptr<const PurposeParts>(std::move(parts));
}

Result<std::string> ReceiptWriter::Build(const ReceiptInput& in, const ReceiptProof* proof) const {
  if (error_) return tl::unexpected(*error_);
  QORGAU_ASSIGN_OR_RETURN(const auto parts, Parts(in.purposes));
  const policy::Policy& p = *policy_;
  ledger::CanonicalObject r;
  r.String("version", kReceiptFormat);
  r.String("receipt_id", ReceiptId(in.receipt_seq != 0 ? in.receipt_seq : in.event_seq));
  r.String("issued_at", FormatUtc(in.at));
  r.String("jurisdiction", p.controller.country);
  r.Raw("controller", controller_).Raw("policy", edition_);
  r.Raw("subject", "{\"id\":" + std::to_string(in.subject) + "}");
  r.String("action", in.action);
  r.Raw("purposes", parts->purposes).Raw("categories", parts->categories);
  r.Raw("recipients", parts->recipients);
  r.Bool("third_party_transfer", parts->third_party).Bool("cross_border_transfer", parts->cross_border);
  r.Raw("services_switched_on", StringArray(in.services_on));
  r.Raw("services_switched_off", StringArray(in.services_off));
  r.String("channel", in.channel).String("evidence", in.evidence);
  // Art. 8: the term of the consent, and whether the data are published in
  // public sources (no operation of qorgau publishes personal data).
  r.Raw("term", term_).Bool("public_sources", false);
  r.Raw("how_to_withdraw", how_to_withdraw_);
  ledger::CanonicalObject ledger;
  ledger.Int("seq", in.event_seq).String("hash", in.event_hash);
  QORGAU_ASSIGN_OR_RETURN(const std::string at, ledger.Finish());
  r.Raw("ledger", at);
  if (!proof) return r.Finish();
  QORGAU_ASSIGN_OR_RETURN(const std::string proof_json, ProofJson(*proof));
  r.Raw("proof", proof_json);
  QORGAU_ASSIGN_OR_RETURN(std::string body, r.Finish());
  body.push_back('\n');
  return body;
}

Result<std::string> ReceiptWriter::Content(const ReceiptInput& in) const { return Build(in, nullptr); }

Result<std::string> ReceiptWriter::WithProof(const ReceiptInput& in, const ReceiptProof& proof) const {
  return Build(in, &proof);
}

namespace {

std::string Str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A text of the receipt ({"kk":..,"ru":..,"en":..}) in `lang`, falling back
// to Kazakh, the policy's required language.
std::string InLang(const boost::json::value* text, std::string_view lang) {
  if (!text || !text->is_object()) return "";
  const auto& o = text->get_object();
  if (const auto* v = o.if_contains(lang); v && v->is_string()) return std::string(v->get_string());
  return Str(o, "kk");
}

}  // namespace

Result<std::string> KantaraReceipt(const policy::Policy& p, std::string_view receipt, std::string_view lang) {
  namespace json = boost::json;
  if (lang != "kk" && lang != "ru" && lang != "en") {
    return Fail(ErrorCode::kInvalidArgument, "lang", "must be kk, ru or en");
  }
  json::error_code ec;
  json::value parsed = json::parse(receipt, ec);
  if (ec || !parsed.is_object()) return Fail(ErrorCode::kCorruption, "receipt", "is not a JSON object");
  const json::object& r = parsed.get_object();
  const auto* controller = r.if_contains("controller");
  const auto* policy = r.if_contains("policy");
  const auto* subject = r.if_contains("subject");
  if (!controller || !controller->is_object() || !policy || !policy->is_object() || !subject ||
      !subject->is_object() || !subject->get_object().if_contains("id")) {
    return Fail(ErrorCode::kCorruption, "receipt", "lacks its controller, policy or subject");
  }
  // A Kantara receipt records consent given; a withdrawal's receipt
  // records its end.
  if (Str(r, "action") == "consent.withdrawn") {
    return Refuse("receipt_not_a_consent", "seq",
                  "this receipt records a withdrawal, not a consent given: the Kantara form is for consents; "
                  "the receipt itself is the record of the withdrawal");
  }
  const json::object& c = controller->get_object();
  QORGAU_ASSIGN_OR_RETURN(const UnixMillis issued, ParseUtc(Str(r, "issued_at"), "issued_at"));
  const auto* edition = policy->get_object().if_contains("edition");
  const bool same_edition = edition && edition->is_int64() && edition->get_int64() == p.edition.number;

  // How consent was collected: the channel (or the contract's method) by
  // name, and the evidence kept.
  const std::string channel = Str(r, "channel");
  std::string method = channel;
  if (const policy::Channel* ch = p.FindChannel(channel)) method = policy::InLanguage(ch->name, std::string(lang));
  if (const policy::ContractMethod* cm = p.FindContractMethod(channel)) {
    method = policy::InLanguage(cm->name, std::string(lang));
  }
  method += " (" + Str(r, "evidence") + ")";

  json::object address{{"streetAddress", InLang(c.if_contains("address"), lang)},
                       {"postalCode", Str(c, "postal_index")},
                       {"addressCountry", Str(c, "country")}};
  json::object pii_controller{{"piiController", InLang(c.if_contains("name"), lang)},
                              {"onBehalf", false},
                              {"contact", p.controller.dpo_contact},
                              {"address", std::move(address)},
                              {"email", ""},
                              {"phone", ""}};

  // Categories and recipients: per purpose from the edition that issued
  // the receipt, else the receipt's own lists for every purpose.
  json::array all_categories;
  if (const auto* cats = r.if_contains("categories"); cats && cats->is_array()) all_categories = cats->get_array();
  std::string all_recipients;
  if (const auto* recs = r.if_contains("recipients"); recs && recs->is_array()) {
    for (const auto& x : recs->get_array()) {
      if (!x.is_object()) continue;
      all_recipients += (all_recipients.empty() ? "" : ", ") + Str(x.get_object(), "id");
    }
  }
  const auto* stated_term = r.if_contains("term");
  const std::string term = InLang(stated_term && stated_term->is_object()
                                      ? stated_term->get_object().if_contains("text")
                                      : nullptr,
                                  lang);
  const json::object fallback_term = TermJson();
  json::array purposes;
  if (const auto* list = r.if_contains("purposes"); list && list->is_array()) {
    for (const auto& x : list->get_array()) {
      if (!x.is_object()) continue;
      const json::object& pu = x.get_object();
      const std::string id = Str(pu, "id");
      const std::string basis = Str(pu, "legal_basis");
      json::array categories;
      std::string recipients;
      if (same_edition) {
        for (const auto& cat : p.categories) {
          if (p.CategoryAllowsPurpose(cat.id, id)) categories.emplace_back(cat.id);
        }
        for (const auto& rec : p.recipients) {
          for (const auto& rp : rec.purposes) {
            if (rp.id == id) recipients += (recipients.empty() ? "" : ", ") + rec.id;
          }
        }
      } else {
        categories = all_categories;
        recipients = all_recipients;
      }
      json::object o{{"purpose", InLang(pu.if_contains("name"), lang)},
                     {"purposeCategory", json::array{json::value(id)}},
                     // Consent-basis purposes are consented to explicitly;
                     // contract-basis ones by joining the contract (R-III.3).
                     {"consentType", basis == "consent" ? "EXPLICIT" : "IMPLICIT"},
                     {"piiCategory", std::move(categories)},
                     {"primaryPurpose", basis == "contract"},
                     {"termination", term.empty() ? InLang(&fallback_term.at("text"), lang) : term},
                     {"thirdPartyDisclosure", !recipients.empty()}};
      if (!recipients.empty()) o["thirdPartyName"] = recipients;
      purposes.push_back(std::move(o));
    }
  }
  // The services the change switched on or off, by name; a consent on its
  // own is to the operator's service as a whole, its brand.
  std::string service;
  for (const char* key : {"services_switched_on", "services_switched_off"}) {
    const auto* list = r.if_contains(key);
    if (!list || !list->is_array()) continue;
    for (const auto& sid : list->get_array()) {
      if (!sid.is_string()) continue;
      const policy::Service* sv = p.FindService(std::string(sid.get_string()));
      service += (service.empty() ? "" : ", ") +
                 (sv ? policy::InLanguage(sv->name, std::string(lang)) : std::string(sid.get_string()));
    }
  }
  if (service.empty()) service = Str(c, "brand");

  json::object out{
      {"version", "KI-CR-v1.1.0"},
      {"jurisdiction", Str(r, "jurisdiction")},
      {"consentTimestamp", issued / 1000},
      {"collectionMethod", method},
      {"consentReceiptID", Str(r, "receipt_id")},
      {"language", std::string(lang)},
      {"piiPrincipalId", "subject-" + json::serialize(subject->get_object().at("id"))},
      {"piiControllers", json::array{std::move(pii_controller)}},
      {"policyUrl", "urn:qorgau:policy:" + Str(c, "country") + ":edition:" +
                        (edition ? json::serialize(*edition) : std::string("0"))},
      {"services", json::array{json::object{{"service", service}, {"purposes", std::move(purposes)}}}},
      // The policy names no special categories of data.
      {"sensitive", false},
      {"spiCat", json::array{}}};
  return json::serialize(out) + "\n";
}

std::string ReceiptId(std::int64_t receipt_seq) { return "receipt-" + std::to_string(receipt_seq); }

std::string ReceiptDigest(std::string_view content) { return crypto::ToHex(crypto::Sha256(content)); }

Result<std::string> ReceiptWithProof(std::string_view content, const ReceiptProof& proof) {
  boost::system::error_code ec;
  boost::json::value r = boost::json::parse(content, ec);
  if (ec || !r.is_object()) return Fail(ErrorCode::kInternal, "receipt", "the stored content is not an object");
  QORGAU_ASSIGN_OR_RETURN(const std::string proof_json, ProofJson(proof));
  r.as_object()["proof"] = boost::json::parse(proof_json, ec);
  if (ec) return Fail(ErrorCode::kInternal, "receipt", "the proof does not encode");
  QORGAU_ASSIGN_OR_RETURN(const std::string body, ledger::CanonicalJson(r));
  return body + "\n";
}

namespace {

// The public key of a key id, or nullptr.
using KeyLookup = std::function<const crypto::Verifier*(std::string_view key_id)>;

std::string UnknownKey(std::string_view key_id) {
  return "signed with key " + std::string(key_id) +
         ", which is not among the public keys given (a receipt issued before a signing key "
         "rotation verifies with the archive, DATA/receipt-keys)";
}

// Format 2: content digest in the leaf, leaf in the signed tree, and the
// receipt byte for byte the one these parts issue. `canonical` is the
// receipt's canonical form.
void VerifyProof(boost::json::object& r, std::string_view canonical, const KeyLookup& keys,
                 ReceiptCheck& check) {
  const auto* proof_value = r.if_contains("proof");
  if (!proof_value || !proof_value->is_object()) {
    check.reason = "no proof";
    return;
  }
  const boost::json::object proof = proof_value->get_object();
  r.erase("proof");
  auto content = ledger::CanonicalJson(r);
  const auto* leaf = proof.if_contains("leaf");
  const auto* seq = proof.if_contains("seq");
  const auto* path = proof.if_contains("path");
  const auto* head_value = proof.if_contains("tree_head");
  if (!content || !leaf || !leaf->is_object() || !seq || !seq->is_int64() || !path ||
      !path->is_array() || !head_value || !head_value->is_object()) {
    check.reason = "the proof lacks its leaf, position, path or tree head";
    return;
  }
  // The leaf: the receipt.issued event, naming this content's digest.
  const auto* data = leaf->get_object().if_contains("data");
  const auto* type = leaf->get_object().if_contains("type");
  const auto* leaf_seq = leaf->get_object().if_contains("seq");
  const auto* digest = data && data->is_object() ? data->get_object().if_contains("receipt_hash") : nullptr;
  if (!type || !type->is_string() || type->get_string() != "receipt.issued" || !leaf_seq ||
      !leaf_seq->is_int64() || leaf_seq->get_int64() != seq->get_int64() || !digest ||
      !digest->is_string()) {
    check.reason = "the leaf is not this receipt's receipt.issued event";
    return;
  }
  if (digest->get_string() != ReceiptDigest(*content)) {
    check.reason = "the content does not match the digest the ledger recorded";
    return;
  }
  auto head = ledger::ParseTreeHeadJson(boost::json::serialize(*head_value));
  if (!head) {
    check.reason = "the tree head is malformed: " + head.error().ToString();
    return;
  }
  const crypto::Verifier* verifier = keys(head->key_id);
  if (!verifier) {
    check.reason = UnknownKey(head->key_id);
    return;
  }
  check.key_id = head->key_id;
  if (!ledger::VerifyTreeHead(*head, *verifier)) {
    check.reason = "the tree head's signature does not match";
    return;
  }
  std::vector<ledger::merkle::Hash> hashes;
  for (const auto& h : path->get_array()) {
    auto bytes = h.is_string() ? crypto::FromHex(h.get_string(), "path") : Result<crypto::Bytes>(crypto::Bytes());
    if (!bytes || bytes->size() != 32) {
      check.reason = "the proof's path is not a list of hashes";
      return;
    }
    ledger::merkle::Hash x{};
    std::copy(bytes->begin(), bytes->end(), x.begin());
    hashes.push_back(x);
  }
  auto leaf_body = ledger::CanonicalJson(*leaf);
  const std::int64_t s = seq->get_int64();
  if (!leaf_body || s < 1 || s > head->size ||
      !ledger::merkle::VerifyInclusion(static_cast<std::uint64_t>(s - 1),
                                       static_cast<std::uint64_t>(head->size),
                                       ledger::EventLeafHash(*leaf_body), hashes, head->root)) {
    check.reason = "the proof does not place the leaf in the signed tree";
    return;
  }
  // The checks above read what they need and no more: the case of a hex
  // digit, another spelling of the head's time, or a member added to the
  // proof or the head would pass them. Only the receipt as issued is valid.
  auto issued = ReceiptWithProof(*content, ReceiptProof{*leaf_body, s, *head, std::move(hashes)});
  if (!issued || *issued != std::string(canonical) + "\n") {
    check.reason = "the proof is not as issued (the file was altered)";
    return;
  }
  check.ok = true;
}

ReceiptCheck Verify(std::string_view text, const KeyLookup& keys) {
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
  if (version && version->is_string() && version->get_string() == kReceiptFormat) {
    VerifyProof(r, *canonical, keys, check);
    return check;
  }
  if (!version || !version->is_string() || version->get_string() != kReceiptFormatV1) {
    check.reason = "not a qorgau-receipt/2 (or /1)";
    return check;
  }
  const auto* sig = r.if_contains("signature");
  if (!sig || !sig->is_object()) {
    check.reason = "no signature";
    return check;
  }
  // Members beside these three would be covered by no signature.
  if (sig->get_object().size() != 3) {
    check.reason = "signature has members other than alg, key_id and value";
    return check;
  }
  const auto* alg = sig->get_object().if_contains("alg");
  const auto* key_id = sig->get_object().if_contains("key_id");
  const auto* value = sig->get_object().if_contains("value");
  if (!alg || !alg->is_string() || alg->get_string() != "Ed25519" || !value || !value->is_string()) {
    check.reason = "signature is not Ed25519";
    return check;
  }
  if (!key_id || !key_id->is_string()) {
    check.reason = "signature has no key id";
    return check;
  }
  const crypto::Verifier* verifier = keys(key_id->get_string());
  if (!verifier) {
    check.reason = UnknownKey(key_id->get_string());
    return check;
  }
  check.key_id = std::string(key_id->get_string());
  auto bytes = crypto::Base64Decode(value->get_string(), "signature.value");
  if (!bytes) {
    check.reason = "signature is not base64";
    return check;
  }
  r.erase("signature");
  auto body = ledger::CanonicalJson(r);
  if (!body || !verifier->Verify(*body, *bytes)) {
    check.reason = "signature does not match the content";
    return check;
  }
  check.ok = true;
  return check;
}

KeyLookup One(const crypto::Verifier& verifier) {
  return [&verifier](std::string_view id) { return id == verifier.KeyId() ? &verifier : nullptr; };
}

KeyLookup Set(const crypto::PublicKeys& keys) {
  return [&keys](std::string_view id) { return keys.Find(id); };
}

std::function<std::string(const store::ReceiptRecord&)> Checker(KeyLookup keys) {
  return [keys = std::move(keys)](const store::ReceiptRecord& r) -> std::string {
    // Format 2 stores the content alone; its digest is in the ledger, which
    // the replay compares. Format 1 stored the signed receipt.
    if (r.body.find(kReceiptFormatV1) == std::string::npos) return "";
    const ReceiptCheck c = Verify(r.body, keys);
    return c.ok ? "" : c.reason;
  };
}

}  // namespace

ReceiptCheck VerifyReceipt(std::string_view text, const crypto::Verifier& verifier) {
  return Verify(text, One(verifier));
}

ReceiptCheck VerifyReceipt(std::string_view text, const crypto::PublicKeys& keys) {
  return Verify(text, Set(keys));
}

std::function<std::string(const store::ReceiptRecord&)> ReceiptChecker(const crypto::Verifier& verifier) {
  return Checker(One(verifier));
}

std::function<std::string(const store::ReceiptRecord&)> ReceiptChecker(const crypto::PublicKeys& keys) {
  return Checker(Set(keys));
}

}  // namespace qorgau::report
