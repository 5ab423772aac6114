// Deterministic synthetic subscribers for demos, tests and benchmarks: the
// same seed and index always give the same subscriber, on every platform.
// IINs carry valid check digits and are unique for indexes below 100 M;
// phones are unique Kazakhstan mobile numbers. None is a real person's data.
#pragma once

#include <cstdint>
#include <string>

namespace qorgau::demo {

struct SyntheticSubject {
  std::string iin;
  std::string phone;  // E.164
  std::string name;
  std::string email;
};

class SyntheticSubjects {
 public:
  explicit SyntheticSubjects(std::uint64_t seed = 2024) : seed_(seed) {}
  SyntheticSubject At(std::uint64_t index) const;

 private:
  std::uint64_t seed_;
};

}  // namespace qorgau::demo
