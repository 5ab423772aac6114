#include "demo/synthetic.h"

#include <chrono>
#include <cstdio>

#include "core/iin.h"

namespace qorgau::demo {
namespace {

// SplitMix64: a fixed, portable mix of the seed and the index.
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr const char* kMale[] = {"Айдар", "Нұрлан", "Ерлан", "Арман", "Дәулет", "Асқар", "Бауыржан", "Тимур"};
constexpr const char* kFemale[] = {"Әйгерім", "Дана", "Мадина", "Аружан", "Жанар", "Сәуле", "Гүлнар", "Динара"};
constexpr const char* kSurnames[] = {"Әбенов", "Серіков", "Жұмабаев", "Омаров", "Қасымов", "Нұрланов", "Ахметов", "Исаев"};
constexpr const char* kPrefixes[] = {"700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"};

}  // namespace

SyntheticSubject SyntheticSubjects::At(std::uint64_t index) const {
  using namespace std::chrono;
  const std::uint64_t r = Mix(seed_ ^ Mix(index));
  const bool male = (r & 1) != 0;
  // (birth day, serial pair) = (index mod 20000, index div 20000) is a
  // bijection; each index owns the serials 2k and 2k+1, so IINs never
  // collide below 20000 * 5000 = 100 M.
  const auto day = sys_days(year{1950} / January / 1) + days(static_cast<int>(index % 20000));
  const int serial = static_cast<int>((index / 20000) % 5000) * 2;
  SyntheticSubject s;
  for (int attempt = 0; attempt < 4 && s.iin.empty(); ++attempt) {
    const Sex sex = (male != (attempt >= 2)) ? Sex::kMale : Sex::kFemale;
    if (auto iin = Iin::Make(year_month_day(day), sex, serial + attempt % 2)) s.iin = iin->digits();
  }
  const std::uint64_t local = (index * 7919 + seed_) % 10000000;
  char phone[24];
  std::snprintf(phone, sizeof phone, "+7%s%07llu", kPrefixes[(index / 10000000) % 12],
                static_cast<unsigned long long>(local));
  s.phone = phone;
  std::string surname = kSurnames[(r >> 8) % 8];
  if (!male) surname += "а";
  s.name = std::string(male ? kMale[(r >> 4) % 8] : kFemale[(r >> 4) % 8]) + " " + surname;
  s.email = "subscriber" + std::to_string(index) + "@mail.example";
  return s;
}

}  // namespace qorgau::demo
