// The policy loader on arbitrary bytes as the policy file of an edition
// bundle (LoadPolicyBundle, the loader's in-memory entry), beside the other
// files of the KEM policy (its texts and the law table), so that a mutated
// KEM policy still finds what it references.
//
// Properties: loading never throws; a policy comes back exactly when no
// problem is reported; every problem has a message and a position inside
// the file it names; and a policy that loads is whole: its stored bundle
// (LoadResult::files, how an edition is kept in the database) loads again
// to a policy, the validator finds nothing more, and it prints in every
// language.
#include <algorithm>
#include <map>
#include <string>

#include "fuzz.h"
#include "policy/policy_loader.h"
#include "policy/policy_printer.h"

namespace {

using namespace qorgau::policy;

const std::string kMain = "policy.yaml";

// The KEM edition's files, read once from the source tree.
const std::map<std::string, std::string>& KemFiles() {
  static const std::map<std::string, std::string> files = [] {
    LoadResult kem =
        LoadPolicyFile(std::filesystem::path(QORGAU_SOURCE_DIR) / "policies/kem/policy.yaml");
    FUZZ_CHECK(kem.policy.has_value(), "the KEM policy loads");
    return std::move(kem.files);
  }();
  return files;
}

int Lines(const std::string& text) {
  return 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::map<std::string, std::string> files = KemFiles();
  files[kMain] = std::string(qorgau::fuzz::Bytes(data, size));
  const LoadResult result = LoadPolicyBundle(files, kMain);
  FUZZ_CHECK(result.policy.has_value() == result.problems.empty(),
             "a policy exactly when no problem");
  for (const Diagnostic& d : result.problems) {
    FUZZ_CHECK(!d.message.empty(), "a problem says what it is");
    FUZZ_CHECK(!d.pos.file.empty(), "a problem names its file");
    FUZZ_CHECK(d.pos.line >= 0 && d.pos.column >= 0, "a position is not negative");
    for (const auto& [name, content] : files) {
      if ((std::filesystem::path("edition") / name).lexically_normal() == d.pos.file) {
        FUZZ_CHECK(d.pos.line <= Lines(content), "a problem's line is in its file");
      }
    }
  }
  if (!result.policy) return 0;

  const auto main = result.files.find(kMain);
  FUZZ_CHECK(main != result.files.end() && main->second == files[kMain],
             "the bundle keeps the file as read");
  FUZZ_CHECK(ValidatePolicy(*result.policy).empty(), "a loaded policy validates");
  const LoadResult again = LoadPolicyBundle(result.files, kMain);
  FUZZ_CHECK(again.policy.has_value(), "a loaded edition's bundle loads again");
  FUZZ_CHECK(again.files == result.files, "and reads the same files");
  for (const char* lang : {"kk", "ru", "en"}) {
    FUZZ_CHECK(!FormatPolicy(*result.policy, lang).empty(), "a loaded policy prints");
  }
  return 0;
}
