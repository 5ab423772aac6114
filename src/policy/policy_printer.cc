#include "policy/policy_printer.h"

#include <sstream>

#include "core/clock.h"

namespace qorgau::policy {
namespace {

// Headings in the three languages.
struct Labels {
  const char* edition;
  const char* owner;
  const char* effective;
  const char* controller;
  const char* channels;
  const char* contract_methods;
  const char* purposes;
  const char* categories;
  const char* services;
  const char* retention;
  const char* recipients;
  const char* sources;
  const char* withdrawal;
  const char* rights;
  const char* security;
};

const Labels& LabelsFor(std::string_view lang) {
  static const Labels kk{"Редакция", "Саясат иесі", "Күшіне енген күні", "Дербес деректер операторы",
                         "Келісім беру арналары", "Шарт жасасу тәсілдері", "Мақсаттар",
                         "Дербес деректер санаттары", "Қызметтер", "Сақтау мерзімдері",
                         "Алушылар", "Деректер көздері (байыту)", "Келісімді кері қайтарып алу", "Құқықтар",
                         "Қорғау шаралары"};
  static const Labels ru{"Редакция", "Владелец политики", "Дата вступления в силу", "Оператор",
                         "Каналы согласия", "Способы заключения договора", "Цели",
                         "Категории персональных данных", "Услуги", "Сроки хранения",
                         "Получатели", "Источники данных (обогащение)", "Отзыв согласия", "Права", "Меры защиты"};
  static const Labels en{"Edition", "Owner", "Effective", "Controller", "Consent channels",
                         "Ways of joining a contract", "Purposes", "Data categories", "Services",
                         "Retention", "Recipients", "Data sources (enrichment)", "Withdrawal of consent", "Rights",
                         "Security measures"};
  if (lang == "kk") return kk;
  if (lang == "ru") return ru;
  return en;
}

std::string Ids(const std::vector<Ref>& refs) {
  std::string out;
  for (const auto& r : refs) out += (out.empty() ? "" : ", ") + r.id;
  return out;
}

}  // namespace

std::string FormatPolicy(const Policy& p, std::string_view lang) {
  const Labels& l = LabelsFor(lang);
  std::ostringstream o;
  const Controller& c = p.controller;
  o << InLanguage(c.name, lang) << " (" << c.brand << ")\n"
    << InLanguage(c.address, lang) << ", " << c.postal_index << "\n\n";
  o << l.edition << ": " << p.edition.number << "\n"
    << l.owner << ": " << InLanguage(p.edition.owner, lang) << "\n"
    << l.effective << ": " << (p.edition.effective_date ? FormatDate(*p.edition.effective_date) : std::string("-")) << " (" << p.edition.effective
    << ")\n\n";

  o << l.purposes << ":\n";
  for (const auto& pu : p.purposes) {
    o << "  " << pu.number << ". " << pu.id << " [" << LegalBasisName(pu.basis) << "] "
      << InLanguage(pu.name, lang) << "\n";
    if (!pu.statute.empty()) o << "     " << pu.statute << "\n";
  }
  o << "\n" << l.categories << ":\n";
  for (const auto& cat : p.categories) {
    o << "  " << cat.id << " ("
      << (cat.access == AccessClass::kPublic ? "public" : "restricted") << ") "
      << InLanguage(cat.name, lang) << "\n     -> " << Ids(cat.purposes) << "\n";
  }
  o << "\n" << l.services << ":\n";
  for (const auto& s : p.services) {
    o << "  " << s.id << " (" << (s.kind == ServiceKind::kBase ? "base" : "additional") << ") "
      << InLanguage(s.name, lang) << "\n     purposes: " << Ids(s.purposes)
      << "\n     categories: " << Ids(s.categories) << "\n";
  }
  o << "\n" << l.channels << ":\n";
  for (const auto& ch : p.channels) {
    o << "  " << ch.id << ": " << InLanguage(ch.name, lang) << " [" << ch.evidence << "]\n";
  }
  o << "\n" << l.contract_methods << ":\n";
  for (const auto& m : p.contract_methods) o << "  " << m.id << ": " << InLanguage(m.name, lang) << "\n";
  o << "\n" << l.retention << ":\n";
  for (const auto& r : p.retention) {
    o << "  " << r.category.id << ": " << r.period.ToString() << " from " << r.from;
    if (r.minimum) o << " (minimum: " << r.minimum->id << ")";
    o << " - " << r.ground << "\n";
  }
  o << "\n" << l.recipients << ":\n";
  for (const auto& r : p.recipients) {
    o << "  " << r.id << " [" << r.country << "] " << InLanguage(r.name, lang)
      << "\n     purposes: " << Ids(r.purposes) << "; categories: " << Ids(r.categories) << "\n";
  }
  if (!p.sources.empty()) {
    o << "\n" << l.sources << ":\n";
    for (const auto& s : p.sources) {
      o << "  " << s.id << " (" << (s.kind == SourceKind::kPublic ? "public_source" : "third_party") << ") "
        << InLanguage(s.name, lang) << "\n     purposes: " << Ids(s.purposes) << "; categories: " << Ids(s.categories)
        << "\n";
    }
  }
  o << "\n" << l.withdrawal << ":\n  " << InLanguage(p.withdrawal.warning, lang)
    << "\n  channels: " << Ids(p.withdrawal.channels) << "\n";
  o << "\n" << l.rights << ":\n";
  for (const auto& r : p.rights) o << "  " << InLanguage(r.name, lang) << "\n";
  o << "\n" << l.security << ":\n";
  for (const auto& m : p.security_measures) o << "  " << InLanguage(m.name, lang) << "\n";
  return o.str();
}

}  // namespace qorgau::policy
