// Phone numbers of Kazakhstan, normalised to E.164 ("+77011234567").
//
// Accepts the usual spellings: "+7 701 123 45 67", "8 (701) 123-45-67",
// "87011234567", "7011234567". Kazakhstan shares country code +7 with
// Russia; its national numbers begin with 6 or 7, so others are refused.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace qorgau {

class Phone {
 public:
  static Result<Phone> Parse(std::string_view text, std::string_view field = "phone");

  const std::string& e164() const { return e164_; }

  // For display: "+7701*****67".
  std::string Masked() const;

 private:
  explicit Phone(std::string e164) : e164_(std::move(e164)) {}
  std::string e164_;
};

}  // namespace qorgau
