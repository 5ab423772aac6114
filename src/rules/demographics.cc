// Demographics for aggregates: see demographics.h.
#include "rules/demographics.h"

#include <algorithm>
#include <limits>
#include <set>

namespace qorgau::rules {

std::string EncodeDemographics(const Demographics& d) {
  const auto b = d.birth;
  const int year = static_cast<int>(b.year());
  std::string out(5, '\0');
  out[0] = static_cast<char>((year >> 8) & 0xff);
  out[1] = static_cast<char>(year & 0xff);
  out[2] = static_cast<char>(static_cast<unsigned>(b.month()));
  out[3] = static_cast<char>(static_cast<unsigned>(b.day()));
  out[4] = d.sex == Sex::kFemale ? 'F' : 'M';
  return out;
}

std::optional<Demographics> DecodeDemographics(std::string_view plain) {
  if (plain.size() != 5 || (plain[4] != 'F' && plain[4] != 'M')) return std::nullopt;
  const auto byte = [&](int i) { return static_cast<unsigned>(static_cast<unsigned char>(plain[i])); };
  const std::chrono::year_month_day birth{std::chrono::year(static_cast<int>(byte(0) << 8 | byte(1))),
                                          std::chrono::month(byte(2)), std::chrono::day(byte(3))};
  if (!birth.ok()) return std::nullopt;
  return Demographics{birth, plain[4] == 'F' ? Sex::kFemale : Sex::kMale};
}

Result<void> RecordDemographics(store::Transaction& txn, const crypto::KeyRing& keys, store::SubjectId subject,
                                const Iin& iin) {
  QORGAU_ASSIGN_OR_RETURN(const crypto::Bytes sealed, keys.SealDemographics(subject, EncodeDemographics(Demographics::Of(iin))));
  return txn.SetSubjectDemographics(subject, sealed);
}

Result<std::int64_t> FillDemographics(store::Store& store, const crypto::KeyRing& keys, const policy::Policy& policy) {
  {
    QORGAU_ASSIGN_OR_RETURN(auto read, store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto done, read->GetMeta(kDemographicsMeta));
    if (done) return 0;
  }
  QORGAU_ASSIGN_OR_RETURN(auto txn, store.Begin(store::Store::Mode::kWrite));
  QORGAU_ASSIGN_OR_RETURN(const auto done, txn->GetMeta(kDemographicsMeta));
  if (done) return 0;
  std::int64_t filled = 0;
  if (const policy::Category* iin_category = policy.FindCategoryByValue(ValueType::kIin)) {
    // An IIN the key store remembers destroying is never read back: a
    // restored backup may still hold it until the restore destroys it again.
    std::set<store::SubjectId> forgotten;
    QORGAU_TRY(txn->ScanForgotten([&](const store::ForgottenRecord& f) {
      if (f.what == iin_category->id) forgotten.insert(f.subject_id);
    }));
    store::SubjectId after = std::numeric_limits<store::SubjectId>::min();
    for (;;) {
      QORGAU_ASSIGN_OR_RETURN(const auto page, txn->ListSubjects(after, 1000));
      if (page.empty()) break;
      for (const auto& s : page) {
        after = s.id;
        if (s.wrapped_key.empty() || s.destroyed_at || forgotten.count(s.id)) continue;
        QORGAU_ASSIGN_OR_RETURN(const auto values, txn->GetPersonalData(s.id));
        for (const auto& v : values) {
          if (v.category != iin_category->id) continue;
          // One value that does not open leaves that subject "unknown" to
          // aggregates; it never keeps the store from opening.
          auto key = keys.UnwrapDataKey(s.id, s.wrapped_key);
          if (!key) continue;
          auto digits = crypto::Open(*key, v.sealed, crypto::PersonalDataAad(s.id, v.category));
          crypto::Wipe(*key);
          if (!digits) continue;
          auto iin = Iin::Parse(*digits);
          std::fill(digits->begin(), digits->end(), '\0');
          if (!iin) continue;
          QORGAU_TRY(RecordDemographics(*txn, keys, s.id, *iin));
          ++filled;
        }
      }
    }
  }
  QORGAU_TRY(txn->PutMeta(kDemographicsMeta, crypto::ToBytes("1")));
  QORGAU_TRY(txn->Commit());
  return filled;
}

}  // namespace qorgau::rules
