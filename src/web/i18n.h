// The pages' words in Kazakh, Russian and English. Every label of the
// console and the privacy centre is a key of one table (i18n.cc), so that
// switching the language changes every label and a test can check that no
// key lacks a language. The policy's own texts (purposes, services,
// warnings) come from the policy in its languages (policy::InLanguage).
// Thread safety: constant data and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qorgau::web {

inline constexpr std::string_view kLanguages[] = {"kk", "ru", "en"};

// `lang` if it is kk, ru or en; otherwise kk, the policy's own language.
std::string_view NormalLanguage(std::string_view lang);

// The label `key` in `lang` (kk, ru or en). An unknown key is returned as
// is, so that a missing label shows on the page (and fails the tests)
// instead of crashing it.
std::string_view T(std::string_view key, std::string_view lang);

struct Label {
  std::string_view key, kk, ru, en;
};
// Every label, for the tests.
const std::vector<Label>& Labels();

}  // namespace qorgau::web
