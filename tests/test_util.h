// Helpers shared by the tests: temporary directories, files, and running
// the real `qorgau` binary.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qorgau::testing {

inline std::filesystem::path SourceDir() { return QORGAU_SOURCE_DIR; }
inline std::filesystem::path KemPolicy() { return SourceDir() / "policies/kem/policy.yaml"; }

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "qorgau-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

// Copies the KEM policy, its texts and the law table into `dir`, keeping
// their relative layout, and returns the copied policy's path.
// `edition`: the folder under policies/ ("kem", or "kem-2" for edition 2).
inline std::filesystem::path CopyKemPolicy(const std::filesystem::path& dir, const std::string& edition = "kem") {
  namespace fs = std::filesystem;
  fs::create_directories(dir / edition);
  fs::copy(SourceDir() / "policies" / edition, dir / edition,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  if (!fs::exists(dir / "law")) {
    fs::create_directories(dir / "law");
    fs::copy(SourceDir() / "policies/law", dir / "law", fs::copy_options::recursive);
  }
  return dir / edition / "policy.yaml";
}

// Replaces the first occurrence of `from` in `text`; the test fails loudly
// (returns text unchanged plus a marker) if it is absent.
inline std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) return text + "\n# ReplaceOnce: pattern not found\n";
  return text.replace(at, from.size(), to);
}

// The KEM policy copied into `dir` with its example recipients identified
// (a BIN, a registration abroad: fixtures, not the operator's partners)
// and three more that a transfer must refuse: an expired agreement, one
// without the non-disclosure clause, and a partner with no BIN. Aggregates
// of two subjects may be released (k: 2), so that the two subscribers of
// the access world make one group. Returns the copied policy's path.
// The shipped working-day calendars come along, as `init` finds them
// beside the policy.
inline std::filesystem::path KemPolicyWithPartners(const std::filesystem::path& dir, const std::string& edition = "kem") {
  const std::filesystem::path path = CopyKemPolicy(dir, edition);
  if (!std::filesystem::exists(dir / "calendars")) {
    std::filesystem::copy(SourceDir() / "calendars", dir / "calendars", std::filesystem::copy_options::recursive);
  }
  std::string text = ReadFile(path);
  text = ReplaceOnce(text, "    country: KZ\n    agreement: \"AGR-2024-001\"\n    nda_signed: 2024-02-01\n",
                     "    bin: \"990140000017\"\n    country: KZ\n"
                     "    agreement: {number: \"AGR-2024-001\", signed: 2024-02-01, expires: 2030-12-31, "
                     "nondisclosure_clause: true}\n");
  text = ReplaceOnce(text, "    country: DE\n    agreement: \"AGR-2024-002\"\n    nda_signed: 2024-03-15\n",
                     "    registration: \"HRB 100001 (Amtsgericht Berlin)\"\n    country: DE\n"
                     "    agreement: {number: \"AGR-2024-002\", signed: 2024-03-15, nondisclosure_clause: true}\n");
  if (edition != "kem") {
    text = ReplaceOnce(text, "  changes:                                 # R-XI.1: every change from edition 1, with its reason\n",
                       "  changes:\n"
                       "    - change: sources/data_bureau\n      reason: \"A test supplier under contract.\"\n"
                       "    - change: sources/expired_bureau\n      reason: \"A test supplier whose contract ended.\"\n");
    // Third parties that supply data (R-X.1): one under an agreement in
    // force, one whose agreement expired.
    text = ReplaceOnce(text, "\nrecipients:", R"yaml(  - id: data_bureau
    kind: third_party
    name: {kk: "Деректер бюросы (сынақ)", en: "Data bureau (test)"}
    bin: "990140000041"
    country: KZ
    agreement: {number: "SUP-2025-001", signed: 2025-01-01, expires: 2030-12-31, nondisclosure_clause: true}
    purposes: [marketing]
    categories: [user.social.public_profile, user.telecom.usage]
  - id: expired_bureau
    kind: third_party
    name: {kk: "Мерзімі өткен бюро (сынақ)", en: "Expired bureau (test)"}
    bin: "990140000052"
    country: KZ
    agreement: {number: "SUP-2020-002", signed: 2020-01-01, expires: 2024-12-31, nondisclosure_clause: true}
    purposes: [marketing]
    categories: [user.social.public_profile]

recipients:)yaml");
  }
  text = ReplaceOnce(text, "\nwithdrawal:", R"(
  - id: expired_partner
    name: {kk: "Мерзімі өткен серіктес", en: "Expired partner"}
    bin: "990140000028"
    country: KZ
    agreement: {number: "AGR-2020-009", signed: 2020-01-01, expires: 2024-12-31, nondisclosure_clause: true}
    purposes: [convergent_services]
    categories: [user.identity.name, user.contact.phone]
  - id: open_partner
    name: {kk: "Құпиялылық талабы жоқ серіктес", en: "Partner without the clause"}
    bin: "990140000039"
    country: KZ
    agreement: {number: "AGR-2025-010", signed: 2025-01-01, nondisclosure_clause: false}
    purposes: [convergent_services]
    categories: [user.identity.name, user.contact.phone]
  - id: unknown_partner
    name: {kk: "Анықталмаған серіктес", en: "Unidentified partner"}
    country: KZ
    agreement: {number: "AGR-2025-011", signed: 2025-01-01, nondisclosure_clause: true}
    purposes: [convergent_services]
    categories: [user.identity.name, user.contact.phone]

aggregates:
  k: 2
  epsilon_budget: 1.0

withdrawal:)");
  WriteFile(path, text);
  return path;
}

// 1-based line of the first occurrence of `needle` in `text`, 0 if absent.
inline int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  if (at == std::string::npos) return 0;
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  return line;
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `sql` on the SQLite database at `db` behind qorgau's back: a test
// tampering with the store, or looking at it.
inline void ExecSql(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// Runs the real qorgau binary with `args`; stdout and stderr captured.
inline RunResult RunQorgau(const std::vector<std::string>& args, const std::string& env = "") {
  TempDir io;
  std::string cmd = env + " " + ShellQuote(QORGAU_BIN);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " >" + ShellQuote((io.path() / "out").string()) + " 2>" +
         ShellQuote((io.path() / "err").string()) + " </dev/null";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(io.path() / "out");
  r.err = ReadFile(io.path() / "err");
  return r;
}

}  // namespace qorgau::testing
