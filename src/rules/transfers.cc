// Transfers to recipients (R-IX.1, R-IX.3; LAW.md §7, §8): see transfers.h.
#include "rules/transfers.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/working_calendar.h"

namespace qorgau::rules {
namespace {

namespace json = boost::json;

// Whether the recipient's agreement binds it on `day`: signed, not
// expired, with the non-disclosure clause (R-IX.3).
Result<void> AgreementInForce(const policy::Recipient& r, std::chrono::year_month_day day) {
  const std::string who = "recipient '" + r.id + "'";
  if (r.bin.empty() && r.registration.empty()) {
    return Refuse("recipient_unidentified", "recipient",
                  who + " has neither a BIN nor a registration in the policy: a transfer needs to know who receives");
  }
  if (r.agreement.number.empty()) {
    return Refuse("no_agreement", "recipient", who + " has no agreement (R-IX.3)");
  }
  if (day < r.agreement.signed_on) {
    return Refuse("agreement_not_in_force", "recipient",
                  who + ": agreement " + r.agreement.number + " is not signed yet on this day (R-IX.3)");
  }
  if (r.agreement.expires && day > *r.agreement.expires) {
    return Refuse("agreement_not_in_force", "recipient",
                  who + ": agreement " + r.agreement.number + " has expired (R-IX.3)");
  }
  if (!r.agreement.nondisclosure_clause) {
    return Refuse("no_nondisclosure_clause", "recipient",
                  who + ": agreement " + r.agreement.number +
                      " does not forbid disseminating subjects' data without consent or another legal ground (R-IX.3)");
  }
  return {};
}

bool Lists(const std::vector<policy::Ref>& refs, std::string_view id) {
  return std::any_of(refs.begin(), refs.end(), [&](const policy::Ref& r) { return r.id == id; });
}

// A CSV field (RFC 4180): quoted when it holds a separator, quote or line end.
std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<TransferOutcome> Transfers::Transfer(const TransferRequest& req, const Caller& caller, std::ostream& out) {
  const policy::Policy& p = *d_.policy;
  // The request itself: every field, before anything is read.
  const policy::Recipient* recipient = p.FindRecipient(req.recipient);
  if (!recipient) {
    return Fail(ErrorCode::kNotFound, "recipient", "'" + req.recipient + "' is not a recipient of the policy");
  }
  if (req.format != "jsonl" && req.format != "csv") {
    return Fail(ErrorCode::kInvalidArgument, "format", "must be jsonl or csv");
  }
  QORGAU_ASSIGN_OR_RETURN(const int purpose, core_.PurposeOrdinal(req.purpose));
  if (req.categories.empty()) return Fail(ErrorCode::kInvalidArgument, "categories", "name at least one category");
  QORGAU_ASSIGN_OR_RETURN(const std::uint64_t mask, d_.index.CategoryMask(req.categories));
  if (std::set<std::string>(req.categories.begin(), req.categories.end()).size() != req.categories.size()) {
    return Fail(ErrorCode::kInvalidArgument, "categories", "a category is named twice");
  }
  if (req.subjects.empty()) return Fail(ErrorCode::kInvalidArgument, "subjects", "name at least one subject");
  if (req.subjects.size() > kMaxTransferSubjects) {
    return Fail(ErrorCode::kInvalidArgument, "subjects",
                "at most " + std::to_string(kMaxTransferSubjects) + " subjects in one transfer");
  }
  if (std::set<SubjectId>(req.subjects.begin(), req.subjects.end()).size() != req.subjects.size()) {
    return Fail(ErrorCode::kInvalidArgument, "subjects", "a subject is named twice");
  }

  // Who may hand these data over (R-VIII.1).
  QORGAU_TRY(Authorize(p, caller, Action::kTransferMake, {{req.purpose}, req.categories, {}}));

  // The recipient and its agreement (R-IX.3), on the operator's calendar day.
  const UnixMillis now = d_.clock.Now();
  QORGAU_TRY(AgreementInForce(*recipient, LocalDateIn(CountryTimeZone(p.controller.country), now)));
  if (!Lists(recipient->purposes, req.purpose)) {
    return Refuse("purpose_not_in_agreement", "purpose",
                  "recipient '" + recipient->id + "' does not receive data for '" + req.purpose + "' (R-IX.1)");
  }
  for (const std::string& c : req.categories) {
    if (!Lists(recipient->categories, c)) {
      return Refuse("category_not_in_agreement", "categories",
                    "recipient '" + recipient->id + "' does not receive '" + c + "' (R-IX.1)");
    }
    if (!p.CategoryAllowsPurpose(c, req.purpose)) {
      return Refuse("category_not_allowed", "categories",
                    "purpose '" + req.purpose + "' may not use '" + c + "' (R-V.1)");
    }
  }
  // LAW.md §8: within the country, to a country that ensures protection,
  // or with the subject's consent to transfer abroad.
  const bool abroad = recipient->country != p.controller.country;
  const auto& adequate = p.transfers.adequate_countries;
  const bool adequate_country =
      abroad && std::find(adequate.begin(), adequate.end(), recipient->country) != adequate.end();

  store::TransferRecord rec;
  rec.actor = caller.id();
  rec.recipient = recipient->id;
  rec.country = recipient->country;
  rec.agreement = recipient->agreement.number;
  rec.purpose = req.purpose;
  rec.categories = req.categories;
  rec.edition = p.edition.number;
  rec.format = req.format;
  std::vector<store::TransferSubjectRecord> sent;

  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    rec.refused.clear();
    sent.clear();
    for (SubjectId id : req.subjects) {
      // The subject's legal basis for the purpose, now.
      const index::Decision d = d_.index.Check(id, purpose, mask);
      if (!d.allow) {
        ++rec.refused[std::string(index::ReasonCode(d.reason))];
        continue;
      }
      std::string ground = "domestic";
      if (abroad) {
        ground = "adequate_country";
        if (!adequate_country) {
          QORGAU_ASSIGN_OR_RETURN(const auto consents, txn.GetConsents(id));
          const bool covered = std::any_of(consents.begin(), consents.end(), [&](const store::ConsentRecord& c) {
            return c.purpose == req.purpose && c.state == store::ConsentState::kGranted && c.cross_border;
          });
          if (!covered) {
            ++rec.refused["no_cross_border_consent"];
            continue;
          }
          ground = "consent";
        }
      }
      sent.push_back({0, id, std::string(policy::LegalBasisName(d.basis)), ground});
    }
    if (sent.empty()) {
      std::string why;
      for (const auto& [reason, n] : rec.refused) why += (why.empty() ? "" : ", ") + reason + " " + std::to_string(n);
      return Refuse("no_subject_allowed", "subjects",
                    "no subject's data may go to '" + recipient->id + "' for '" + req.purpose + "': " + why);
    }
    rec.sent = static_cast<std::int64_t>(sent.size());

    ledger::EventDraft made{"transfer.made", std::nullopt, caller.id(), {}};
    made.data["recipient"] = rec.recipient;
    made.data["country"] = rec.country;
    made.data["agreement"] = rec.agreement;
    made.data["purpose"] = rec.purpose;
    made.data["categories"] = json::array(rec.categories.begin(), rec.categories.end());
    made.data["edition"] = rec.edition;
    made.data["format"] = rec.format;
    made.data["sent"] = rec.sent;
    json::object refused;
    for (const auto& [reason, n] : rec.refused) refused[reason] = n;
    made.data["refused"] = std::move(refused);
    QORGAU_ASSIGN_OR_RETURN(const auto made_event, ledger::Append(txn, now, made));
    rec.id = made_event.seq;
    rec.at = now;
    for (auto& s : sent) {
      s.transfer_id = rec.id;
      ledger::EventDraft ev{"transfer.sent", s.subject_id, caller.id(), {}};
      ev.data["transfer"] = rec.id;
      ev.data["recipient"] = rec.recipient;
      ev.data["purpose"] = rec.purpose;
      ev.data["categories"] = json::array(rec.categories.begin(), rec.categories.end());
      ev.data["basis"] = s.basis;
      ev.data["cross_border"] = s.cross_border;
      QORGAU_TRY(ledger::Append(txn, now, ev));
    }
    QORGAU_TRY(txn.InsertTransfer(rec, sent));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());

  // Recorded: now the values, decrypted only into the stream.
  if (req.format == "csv") {
    out << "transfer,subject";
    for (const auto& c : req.categories) out << ',' << c;
    out << "\r\n";
  }
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  for (const auto& s : sent) {
    QORGAU_ASSIGN_OR_RETURN(const auto subject, (*txn)->GetSubject(s.subject_id));
    std::map<std::string, std::string> values;
    if (subject && !subject->wrapped_key.empty()) {
      QORGAU_ASSIGN_OR_RETURN(const SubjectView view, core_.ReadValues(**txn, *subject, /*full=*/true));
      for (const auto& item : view.data) values[item.category] = item.value;
    }
    if (req.format == "csv") {
      out << rec.id << ',' << s.subject_id;
      for (const auto& c : req.categories) {
        auto it = values.find(c);
        out << ',' << (it == values.end() ? std::string() : CsvField(it->second));
      }
      out << "\r\n";
    } else {
      json::object line;
      line["transfer"] = rec.id;
      line["subject"] = s.subject_id;
      for (const auto& c : req.categories) {
        auto it = values.find(c);
        if (it == values.end()) {
          line[c] = nullptr;
        } else {
          line[c] = it->second;
        }
      }
      out << json::serialize(line) << '\n';
    }
  }
  return TransferOutcome{rec, *written};
}

Result<std::vector<store::TransferRecord>> Transfers::ListTransfers(const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kTransfersRead));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  std::vector<store::TransferRecord> out;
  QORGAU_TRY((*txn)->ScanTransfers([&](const store::TransferRecord& t) { out.push_back(t); }));
  return out;
}

Result<store::TransferRecord> Transfers::GetTransfer(std::int64_t id, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kTransfersRead));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(const auto found, (*txn)->GetTransfer(id));
  if (!found) return Fail(ErrorCode::kNotFound, "transfer", "no transfer with this id");
  return *found;
}

}  // namespace qorgau::rules
