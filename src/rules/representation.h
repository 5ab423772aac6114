// Legal representatives (LAW.md §5, §12): who may act for a subject, and
// how what they did is kept. A subject under 18 acts only through one; a
// representative is of age, is not the subject, and proves their authority
// by the document of their kind. Their name, IIN and the proof's number are
// personal data, sealed under the subject's key; the ledger names only the
// kind and proof and the digest of the sealed identity. Applications keep
// their representative in their own row; other changes (a minor's consent,
// contract, service, withdrawal) in `representations`, under the seq of the
// change's event. Used by the aggregates of rules::Engine; internal to rules/.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace boost::json {
class object;
}

namespace qorgau::rules {

struct EngineDeps;

// A legal representative acting for the subject: filing an application,
// giving or withdrawing a minor's consent.
struct Representative {
  std::string kind;             // parent | guardian | attorney
  std::string name;             // personal data: sealed under the subject's key
  std::string iin;              // personal data: sealed likewise
  std::string proof_kind;       // birth_certificate | guardianship_decision | power_of_attorney
  std::string proof_reference;  // the document's number: sealed likewise
  std::string valid_until;      // YYYY-MM-DD; required for a power of attorney
};

// Checks a representative acting at `at`: a known kind with the proof of
// its kind, a name, a valid IIN, and a proof of authority valid on that day
// in `zone`. Returns the identity to seal under the subject's key,
// {"name","iin","proof_reference"} as JSON (a proof's number identifies a
// document).
Result<std::string> CheckRepresentative(const Representative& rep, UnixMillis at, const std::string& zone);

// Who may act for `subject` on the local day of `at`: a subject under 18
// (by the IIN's birth date) only through a legal representative
// (`representative_required`); a representative is not the subject, is 18
// or older, and is a parent only of a minor.
Result<void> CheckRepresentation(const EngineDeps& d, store::Transaction& txn, store::SubjectId subject,
                                 UnixMillis at, const Representative* rep);

// The representative of a change, sealed under the subject's key, with its
// proof; `identity` is what CheckRepresentative returned. The caller puts
// it in the change's event (RepresentationData) and stores it under that
// event's seq.
Result<store::RepresentationRecord> SealRepresentation(const EngineDeps& d, store::Transaction& txn,
                                                       store::SubjectId subject, const Representative& rep,
                                                       const std::string& identity);
void RepresentationData(const store::RepresentationRecord& r, boost::json::object& data);

// Both, for a change by `rep` (or by the subject, when none): refused for a
// minor acting alone; the sealed representative otherwise.
Result<std::optional<store::RepresentationRecord>> Represent(const EngineDeps& d, store::Transaction& txn,
                                                             store::SubjectId subject, UnixMillis at,
                                                             const std::optional<Representative>& rep,
                                                             const std::string& identity);

// The representative an application was filed by, as the representation of
// a change carried out on it; none when the subject filed it.
std::optional<store::RepresentationRecord> RepresentationOf(const store::ApplicationRecord& app);

}  // namespace qorgau::rules
