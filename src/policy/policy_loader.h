// Loads a policy edition from YAML (format qorgau.policy/1) and validates it.
//
// Every problem found is reported with its position, "file:line:column:
// message", and loading goes on to find the others; the policy is returned
// only when there is none. The loader does no I/O itself: files are read
// through a FileReader, so an edition stored in the database is loaded the
// same way as one on disk.
//
// Loading never throws: a malformed, truncated or hostile file (an alias
// bomb, /dev/zero as a text, a 50 MB line) is a Diagnostic like any other.
// The limits below bound the memory and time one file can take; they are
// documented in docs/policy.md, section 15.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/working_calendar.h"
#include "policy/policy.h"

namespace qorgau::policy {

// Every file of an edition (the policy, the law table, each text) at most.
inline constexpr std::size_t kMaxPolicyFileBytes = 4 * 1024 * 1024;
// YAML nodes (scalars, lists, maps) in one file; the KEM policy has ~1,300.
inline constexpr std::size_t kMaxPolicyNodes = 100'000;
// Nested lists and maps in one file; the format itself needs 4.
inline constexpr std::size_t kMaxPolicyDepth = 64;
// yaml-cpp scans a whole flow collection ([...], {...}) before it hands out
// the first of its nodes, so the node limit alone would not bound it: the
// parser may read at most this far ahead of the last node it reported.
inline constexpr std::size_t kMaxPolicyLookaheadBytes = 64 * 1024;

struct Diagnostic {
  SourcePos pos;
  std::string message;
  std::string ToString() const;  // "file:line:column: message"
};

// Reads a file by its path relative to the policy file's folder; when it
// cannot, an Error whose message says why ("not a regular file", "larger than
// N bytes", ...). The loader refuses content above kMaxPolicyFileBytes
// whatever the reader returns, but a reader should refuse it before reading.
using FileReader = std::function<Result<std::string>(const std::string& relative_path)>;

struct LoadResult {
  std::optional<Policy> policy;  // set only when problems is empty
  std::vector<Diagnostic> problems;
  // Every file read (relative path -> content): the edition's bundle, which
  // is stored so the edition can be reloaded without the files.
  std::map<std::string, std::string> files;
};

// The policy file itself is read as `main_file` (relative path, usually
// "policy.yaml"). Positions name files as `display_dir / relative_path`.
LoadResult LoadPolicy(const std::string& main_file, const std::filesystem::path& display_dir,
                      const FileReader& read);

// Loads `path` and the files it references from disk.
LoadResult LoadPolicyFile(const std::filesystem::path& path);

// Loads an edition bundle (as LoadResult::files) with `main_file` in it.
LoadResult LoadPolicyBundle(const std::map<std::string, std::string>& files,
                            const std::string& main_file = "policy.yaml");

// One year of a working-day calendar (calendars/kz/YEAR.yaml, format
// calendars/README.md), checked: the year and its dates agree, no date is
// given twice or both off and worked, a working day is a weekend day.
// `display_name` names the file in the problems. Never throws.
struct CalendarLoadResult {
  std::optional<CalendarYear> year;  // set only when problems is empty
  std::vector<Diagnostic> problems;
};
CalendarLoadResult LoadCalendarYear(const std::string& content, const std::string& display_name);

// The semantic checks (references, duplicates, bases, retention minimums).
// Run by LoadPolicy; exposed for tests.
std::vector<Diagnostic> ValidatePolicy(const Policy& policy);

}  // namespace qorgau::policy
