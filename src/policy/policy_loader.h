// Loads a policy edition from YAML (format qorgau.policy/1) and validates it.
//
// Every problem found is reported with its position, "file:line:column:
// message", and loading goes on to find the others; the policy is returned
// only when there is none. The loader does no I/O itself: files are read
// through a FileReader, so an edition stored in the database is loaded the
// same way as one on disk.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace qorgau::policy {

struct Diagnostic {
  SourcePos pos;
  std::string message;
  std::string ToString() const;  // "file:line:column: message"
};

// Reads a file by its path relative to the policy file's folder; nullopt
// when it cannot be read.
using FileReader = std::function<std::optional<std::string>(const std::string& relative_path)>;

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

// The semantic checks (references, duplicates, bases, retention minimums).
// Run by LoadPolicy; exposed for tests.
std::vector<Diagnostic> ValidatePolicy(const Policy& policy);

}  // namespace qorgau::policy
