// What anonymised aggregates (rules/aggregates.h) read of a subject without
// opening its data: the birth date and sex its IIN tells (core/iin.h),
// sealed under the key ring's demographics key and kept beside the
// subject's data key (store::Transaction::SetSubjectDemographics), so that a
// release over a million subjects is one scan and one AES-GCM open each, not
// a million data keys unwrapped and IINs opened.
//
// Written whenever an IIN is recorded (a new subject, a rectified IIN, a
// master-key rotation); cleared when the IIN is destroyed or the subject's
// key is. A database from before them is filled once, at open.
// docs/architecture.md ("Demographics for aggregates") says what this costs
// in privacy and why it is kept with the keys.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/iin.h"
#include "crypto/key_ring.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::rules {

struct Demographics {
  std::chrono::year_month_day birth;
  Sex sex = Sex::kFemale;
  static Demographics Of(const Iin& iin) { return {iin.birth_date(), iin.sex()}; }
};

// Five bytes: year (big-endian, 2), month, day, sex.
std::string EncodeDemographics(const Demographics& d);
std::optional<Demographics> DecodeDemographics(std::string_view plain);

// Seals the demographics of `iin` for `subject` into the transaction.
Result<void> RecordDemographics(store::Transaction& txn, const crypto::KeyRing& keys, store::SubjectId subject,
                                const Iin& iin);

// Fills the demographics of every living subject whose IIN (the policy's
// category of value type iin) is held, opening it with the subject's data
// key, in one write transaction; then marks the store (meta
// kDemographicsMeta) so it runs once. Returns how many were filled.
inline constexpr std::string_view kDemographicsMeta = "demographics_v1";
Result<std::int64_t> FillDemographics(store::Store& store, const crypto::KeyRing& keys, const policy::Policy& policy);

}  // namespace qorgau::rules
