// The decision index: the answer to "may this purpose use this subject's
// data now?" held in memory as bitsets, so that a check is a few bit tests
// and an audience is word-wise AND / ANDNOT over a few arrays.
//
// Layout: the subject id is the dense ordinal (ids are SQLite rowids from 1).
// One bit per subject in each of:
//   exists, destroyed, has-open-obligation, blocked,
//   active[service]                 one per service of the policy,
//   granted[purpose], withdrawn[purpose]   consent-basis purposes only,
//   allowed[purpose]                every purpose: the materialised answer,
//                                   kept equal to what Check() derives.
// With the KEM policy that is 4 + 6 + 2·4 + 11 = 29 bits, 3.6 bytes a subject
// (allocation doubles as subjects grow, so up to twice that is reserved).
// Categories are per purpose, not per subject: a 64-bit mask per purpose.
//
// The index is rebuilt from the store at start (Load) and updated after
// every commit with the deltas of that commit (Apply), so it always reflects
// a committed ledger revision, which every decision carries.
//
// Thread safety: Check, CheckMany and Audience take a shared lock; Apply
// takes it exclusively. Safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::index {

using store::SubjectId;

enum class Reason : std::uint8_t {
  kConsentInForce = 0,     // allowed: a consent under this edition, not withdrawn
  kContractActive = 1,     // allowed: an active service needs the purpose (R-III.3)
  kLaw = 2,                // allowed: the purpose rests on law
  kNoConsent = 3,          // denied: consent purpose, never granted
  kWithdrawn = 4,          // denied: consent purpose, withdrawn
  kNoActiveContract = 5,   // denied: contract purpose, no active service needs it
  kCategoryNotAllowed = 6, // denied: a category asked for is not one the purpose may use
  kSubjectDestroyed = 7,   // denied: the subject's data were destroyed
  kUnknownSubject = 8,     // denied: no such subject
  kUnknownPurpose = 9,     // denied: not a purpose of the edition
  kSubjectBlocked = 10,    // denied: the subject is blocked (LAW.md §1, §5) until the block is lifted
  kConsentRenewalRequired = 11,  // denied: the consent was given under an edition before one that widened
                                 // the purpose (R-XI.2); the subject must consent again
  kObligationOpen = 12,    // allowed: a contract purpose the policy keeps while an obligation is open (a debt
                           // outlives the service it arose under)
};

// Stable codes: "consent_in_force", "no_consent", "withdrawn", ...
std::string_view ReasonCode(Reason r);
// The reason of a code, or none (kept rows name reasons by code).
std::optional<Reason> ReasonFromCode(std::string_view code);
// The reason in words, for people.
std::string_view ReasonText(Reason r);
inline bool IsAllowed(Reason r) { return r <= Reason::kLaw || r == Reason::kObligationOpen; }

struct Decision {
  bool allow = false;
  Reason reason = Reason::kUnknownSubject;
  policy::LegalBasis basis = policy::LegalBasis::kConsent;
  int edition = 0;
  std::int64_t revision = 0;  // the ledger revision the index reflected
};

// One change to apply after a commit.
struct Delta {
  enum class Kind : std::uint8_t {
    kSubjectAdded,
    kSubjectDestroyed,
    kConsentGranted,
    kConsentWithdrawn,
    kServiceOn,
    kServiceOff,
    kObligationOpened,
    kObligationClosed,
    kSubjectBlocked,
    kSubjectUnblocked,
    // At load: a consent granted under an edition before the one that
    // widened the purpose (its `renewal`) no longer counts.
    kConsentNeedsRenewal,
  };
  Kind kind;
  SubjectId subject;
  int ordinal = -1;  // purpose or service ordinal, where the kind needs one
};

// An obligation delta's ordinal: 1 for a legal hold, 0 for a debt or an
// instalment (what `while_obligation_open` purposes follow).
inline int ObligationOrdinal(store::ObligationKind k) { return k == store::ObligationKind::kLegalHold ? 1 : 0; }

// A set of subjects as a bitset over subject ids, with its size.
struct Audience {
  std::vector<std::uint64_t> words;
  std::uint64_t count = 0;
  std::vector<SubjectId> Ids() const;
};

class DecisionIndex {
 public:
  explicit DecisionIndex(std::shared_ptr<const policy::Policy> policy);

  // Rebuilds from the store: subjects, consents, active services and open
  // obligations, at the store's current ledger revision.
  static Result<std::unique_ptr<DecisionIndex>> Load(store::Store& store,
                                                     std::shared_ptr<const policy::Policy> policy);

  // Ordinals of the policy's entries; -1 when unknown.
  int PurposeOrdinal(std::string_view id) const;
  int ServiceOrdinal(std::string_view id) const;
  int CategoryOrdinal(std::string_view id) const;
  // The mask of `categories`; fails naming the first unknown one.
  Result<std::uint64_t> CategoryMask(std::span<const std::string> categories) const;

  Decision Check(SubjectId subject, int purpose, std::uint64_t categories) const;
  // Whether the subject is blocked (LAW.md §1, §5).
  bool IsBlocked(SubjectId subject) const;
  // Checks many subjects for one purpose under one lock; out.size() == subjects.size().
  void CheckMany(std::span<const SubjectId> subjects, int purpose, std::uint64_t categories,
                 std::span<Decision> out) const;

  // Subjects for whom `purpose` is allowed, optionally without those with an
  // open obligation, optionally only among `among`.
  Audience Select(int purpose, bool exclude_obligations,
                  const std::vector<SubjectId>* among = nullptr) const;

  // Subjects with `service` on (empty for an unknown ordinal).
  Audience ActiveOn(int service) const;

  void Apply(std::span<const Delta> deltas, std::int64_t revision);

  std::int64_t revision() const;
  std::size_t subjects() const;
  // Bytes held by the bitsets, for the memory budget.
  std::size_t MemoryBytes() const;

 private:
  class Bits {
   public:
    bool Test(std::uint64_t i) const {
      const std::uint64_t w = i >> 6;
      return w < words_.size() && ((words_[w] >> (i & 63)) & 1) != 0;
    }
    void Set(std::uint64_t i, bool on);
    void Resize(std::uint64_t bits) { words_.resize((bits + 63) / 64, 0); }
    const std::vector<std::uint64_t>& words() const { return words_; }
    std::size_t bytes() const { return words_.capacity() * sizeof(std::uint64_t); }

   private:
    std::vector<std::uint64_t> words_;
  };

  // REQUIRES: mu_ held (shared or exclusive).
  void CheckLocked(std::span<const SubjectId> subjects, int purpose, std::uint64_t categories,
                   std::span<Decision> out) const;
  void ApplyLocked(const Delta& d);
  void Grow(SubjectId subject);
  void Recompute(SubjectId subject, int purpose);
  void RecomputeContractPurposes(SubjectId subject);

  std::shared_ptr<const policy::Policy> policy_;
  std::vector<policy::LegalBasis> basis_;               // by purpose ordinal
  std::vector<std::uint64_t> category_mask_;             // by purpose ordinal
  std::vector<std::vector<int>> services_needing_;       // purpose -> service ordinals
  std::vector<bool> while_obligation_;                   // purpose -> also while a debt is open
  std::unordered_map<SubjectId, int> open_debts_;        // debts and instalments only (no legal hold)
  Bits indebted_;                                        // subjects with an open debt or instalment
  bool any_while_obligation_ = false;

  mutable std::shared_mutex mu_;
  std::uint64_t capacity_ = 0;  // bits allocated per bitset
  Bits exists_, destroyed_, obligated_, blocked_;
  std::vector<Bits> active_;     // by service
  std::vector<Bits> granted_;    // by purpose (used for consent purposes)
  std::vector<Bits> withdrawn_;  // by purpose (used for consent purposes)
  std::vector<Bits> renewal_;    // by purpose: granted under an edition before the purpose widened
  std::vector<Bits> allowed_;    // by purpose
  std::unordered_map<SubjectId, std::uint32_t> open_obligations_;
  std::size_t subjects_ = 0;
  std::int64_t revision_ = 0;
};

}  // namespace qorgau::index
