// Decisions from the in-memory index: a check for one subject, an audience
// for a purpose. The store is read only to resolve an IIN or a phone to the
// subject id.
#include "rules/checks.h"
#include "rules/engine.h"

namespace qorgau::rules {

Result<index::Decision> Engine::Check(const SubjectKey& key, const std::string& purpose,
                                      const std::vector<std::string>& categories) {
  const int p = d_.index.PurposeOrdinal(purpose);
  if (p < 0) {
    return Fail(ErrorCode::kNotFound, "purpose",
                "'" + purpose + "' is not a purpose of policy edition " +
                    std::to_string(d_.policy->edition.number));
  }
  auto mask = d_.index.CategoryMask(categories);
  if (!mask) return tl::unexpected(mask.error());
  if (key.kind == SubjectKey::Kind::kId) {
    // The hot path: an id needs no store lookup; the index knows who exists.
    auto id = ParseSubjectId(key.value);
    if (!id) return tl::unexpected(id.error());
    const index::Decision d = d_.index.Check(*id, p, *mask);
    if (d.reason == index::Reason::kUnknownSubject) {
      return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
    }
    return d;
  }
  auto id = FindSubject(key);
  if (!id) return tl::unexpected(id.error());
  return d_.index.Check(*id, p, *mask);
}

Result<index::Audience> Engine::SelectAudience(const std::string& purpose,
                                               bool exclude_obligations,
                                               const std::vector<SubjectId>* among) {
  const int p = d_.index.PurposeOrdinal(purpose);
  if (p < 0) {
    return Fail(ErrorCode::kNotFound, "purpose",
                "'" + purpose + "' is not a purpose of policy edition " +
                    std::to_string(d_.policy->edition.number));
  }
  return d_.index.Select(p, exclude_obligations, among);
}

}  // namespace qorgau::rules
