// The destruction act (report/retention_act.h): one model, built as JSON in
// the language asked for; the HTML page is that JSON laid out.
#include "report/retention_act.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <map>

#include "core/working_calendar.h"
#include "report/html.h"

namespace qorgau::report {
namespace {

namespace json = boost::json;

struct Label {
  const char* kk;
  const char* ru;
  const char* en;
};

// Every fixed text of the act, in the three languages.
const std::map<std::string, Label, std::less<>>& Labels() {
  static const std::map<std::string, Label, std::less<>> labels = {
      {"title", {"Дербес деректерді жою туралы акт", "Акт об уничтожении персональных данных",
                 "Act of destruction of personal data"}},
      {"number", {"Нөмірі", "Номер", "Number"}},
      {"operator", {"Дербес деректер операторы", "Оператор персональных данных", "Personal data operator"}},
      {"bin", {"БСН", "БИН", "BIN"}},
      {"not_stated", {"көрсетілмеген", "не указан", "not stated"}},
      {"as_of", {"Мерзімі өткен деректер, күні", "Данные со сроком, истёкшим на", "Data whose period ended by"}},
      {"started", {"Басталды", "Начато", "Started"}},
      {"finished", {"Аяқталды", "Завершено", "Finished"}},
      {"actor", {"Жойған", "Уничтожение провёл", "Carried out by"}},
      {"edition", {"Саясат редакциясы", "Редакция политики", "Policy edition"}},
      {"method", {"Жою тәсілі", "Способ уничтожения", "Method of destruction"}},
      {"method_text",
       {"жазбаларды жою; ештеңесі қалмаған субъектінің деректер кілті мен соқыр индекстерін жою (криптографиялық жою)",
        "удаление записей; для субъекта, от которого ничего не осталось, уничтожение ключа его данных и слепых "
        "индексов (криптографическое уничтожение)",
        "deletion of the records; for a subject with nothing left, destruction of its data key and blind indexes "
        "(crypto-shredding)"}},
      {"subjects", {"Деректері жойылған субъектілер", "Субъекты, чьи данные уничтожены", "Subjects whose data were destroyed"}},
      {"subjects_destroyed", {"оның ішінде толық жойылғандар", "из них уничтожены полностью", "of them destroyed entirely"}},
      {"events", {"Тізілімдегі оқиғалар (субъектілердің орнына)", "События реестра (вместо субъектов)",
                  "Ledger events (standing for the subjects)"}},
      {"destroyed", {"Жойылғандар", "Уничтожено", "Destroyed"}},
      {"what", {"Санат немесе жазба", "Категория или запись", "Category or record"}},
      {"count", {"Саны", "Количество", "Count"}},
      {"period", {"Сақтау мерзімі", "Срок хранения", "Storage period"}},
      {"ground", {"Негіз", "Основание", "Ground"}},
      {"statute", {"Заң бойынша ең аз мерзім", "Минимальный срок по закону", "Statutory minimum"}},
      {"nothing", {"мерзімі өткен деректер болмады", "данных с истёкшим сроком не было", "nothing was due"}},
      {"no_values", {"Актіде жойылған мәндер де, субъектілерді анықтайтын деректер де жоқ.",
                     "Акт не содержит ни уничтоженных значений, ни данных, позволяющих определить субъектов.",
                     "The act holds no destroyed value and nothing that identifies a subject."}},
      {"signature", {"Қолы", "Подпись", "Signature"}},
      {"record:contracts", {"шарттар мен қызметтер", "договоры и услуги", "contracts and their services"}},
      {"record:consents", {"келісім жазбалары", "записи о согласиях", "consent records"}},
      {"record:obligations", {"міндеттемелер", "обязательства", "obligations"}},
      {"record:applications", {"өтініштер мен құжаттары", "заявления и их документы", "applications and their documents"}},
      {"unit.y", {"жыл", "г.", "years"}},
      {"unit.m", {"ай", "мес.", "months"}},
      {"unit.d", {"күн", "дн.", "days"}},
      {"from.collection", {"жиналған күннен бастап", "с даты сбора", "from collection"}},
      {"from.relationship_end", {"қарым-қатынас аяқталғаннан кейін", "после прекращения отношений", "after the relationship ends"}},
      {"from.tax_period_end", {"салық кезеңі аяқталғаннан кейін", "после окончания налогового периода",
                               "after the end of the tax period"}},
      {"from.service_end", {"қызметтер өшірілгеннен кейін", "после отключения услуг", "after the services are switched off"}},
      {"from.consent_end", {"келісім кері қайтарылғаннан кейін", "после отзыва согласия", "after the consent is withdrawn"}},
      {"from.application_answered", {"өтінішке жауап берілгеннен кейін", "после ответа на заявление",
                                     "after the application is answered"}},
      {"from.obligation_closed", {"міндеттеме жабылғаннан кейін", "после закрытия обязательства",
                                  "after the obligation is closed"}},
  };
  return labels;
}

std::string L(std::string_view key, std::string_view lang) { return RetentionText(key, lang); }

}  // namespace

std::string RetentionText(std::string_view key, std::string_view lang) {
  const auto& labels = Labels();
  const auto it = labels.find(key);
  if (it == labels.end()) return std::string(key);
  return lang == "ru" ? it->second.ru : lang == "en" ? it->second.en : it->second.kk;
}

namespace {

// "5y" -> "5 г." in the language asked.
std::string PeriodWords(std::string_view period, std::string_view lang) {
  if (period.size() < 2) return std::string(period);
  return std::string(period.substr(0, period.size() - 1)) + " " +
         RetentionText("unit." + std::string(1, period.back()), lang);
}

// An instant as the operator's local date and time: "2026-12-02 11:37
// (Asia/Almaty)".
std::string LocalTime(const std::string& zone, std::string_view utc) {
  const auto t = ParseUtc(utc, "at");
  if (!t) return std::string(utc);
  const auto day = LocalDateIn(zone, *t);
  const UnixMillis start = EndOfLocalDayIn(zone, std::chrono::sys_days(day) - std::chrono::days(1)) + 1;
  const std::int64_t minutes = (*t - start) / 60000;
  char hm[8];
  std::snprintf(hm, sizeof hm, "%02d:%02d", static_cast<int>(minutes / 60), static_cast<int>(minutes % 60));
  return FormatDate(day) + " " + hm + " (" + zone + ")";
}

Result<json::object> BuildUnchecked(const policy::Policy& p, const store::RetentionRunRecord& run,
                                    std::string_view lang);

// A damaged act (a row edited by hand) is reported, never thrown.
Result<json::object> Build(const policy::Policy& p, const store::RetentionRunRecord& run, std::string_view lang) {
  try {
    return BuildUnchecked(p, run, lang);
  } catch (const std::exception&) {
    return Fail(ErrorCode::kCorruption, "act", "the act of run " + std::to_string(run.run) + " cannot be read");
  }
}

Result<json::object> BuildUnchecked(const policy::Policy& p, const store::RetentionRunRecord& run,
                                    std::string_view lang) {
  if (lang != "kk" && lang != "ru" && lang != "en") {
    return Fail(ErrorCode::kInvalidArgument, "lang", "must be kk, ru or en");
  }
  if (!run.finished_at || run.act.empty()) {
    return Fail(ErrorCode::kFailedPrecondition, "run",
                "run " + std::to_string(run.run) + " has not finished: carry it on with 'retention run'");
  }
  boost::system::error_code ec;
  const json::value parsed = json::parse(run.act, ec);
  if (ec || !parsed.is_object()) return Fail(ErrorCode::kCorruption, "act", "the act of run " + std::to_string(run.run) + " cannot be read");
  const json::object& act = parsed.get_object();
  auto text = [&](const policy::Text& t) { return policy::InLanguage(t, lang); };
  json::array lines;
  for (const auto& v : act.at("lines").as_array()) {
    const json::object& in = v.as_object();
    const std::string what(in.at("what").as_string());
    json::object line{{"what", what}, {"count", in.at("count")}};
    if (const policy::Category* c = p.FindCategory(what)) {
      line["name"] = text(c->name);
    } else {
      line["name"] = L(what, lang);
    }
    const auto* period = in.if_contains("period");
    const auto* from = in.if_contains("from");
    line["period"] = period ? json::value(PeriodWords(period->as_string(), lang)) : json::value(nullptr);
    line["from"] = from ? json::value(L("from." + std::string(from->as_string()), lang)) : json::value(nullptr);
    line["ground"] = in.if_contains("ground") ? in.at("ground") : json::value(nullptr);
    const auto* statute = in.if_contains("statute");
    const policy::Statute* st = statute ? p.FindStatute(statute->as_string()) : nullptr;
    line["statute"] = st ? json::value(st->period.ToString() + ": " + st->cite) : json::value(nullptr);
    lines.push_back(std::move(line));
  }
  json::object labels;
  for (const auto& [key, l] : Labels()) labels[key] = L(key, lang);
  const std::string zone = CountryTimeZone(p.controller.country);
  auto local = [&](const char* key) { return json::value(LocalTime(zone, act.at(key).as_string())); };
  return json::object{
      {"format", "qorgau-destruction-act/1"},
      {"lang", lang},
      {"title", L("title", lang)},
      {"number", "DA-" + std::to_string(run.run)},
      {"operator", json::object{{"name", text(p.controller.name)},
                                {"brand", p.controller.brand},
                                {"address", text(p.controller.address)},
                                {"bin", p.controller.bin.empty() ? json::value(nullptr) : json::value(p.controller.bin)}}},
      {"run", run.run},
      {"as_of", act.at("as_of")},
      {"started_at", act.at("started_at")},
      {"finished_at", act.at("finished_at")},
      {"as_of_local", local("as_of")},
      {"started_local", local("started_at")},
      {"finished_local", local("finished_at")},
      {"actor", act.at("actor")},
      {"edition", act.at("edition")},
      {"method", L("method_text", lang)},
      {"subjects", act.at("subjects")},
      {"subjects_destroyed", act.at("subjects_destroyed")},
      {"events", act.at("events")},
      {"lines", std::move(lines)},
      {"ledger_event", run.act_seq},
      {"labels", std::move(labels)}};
}

}  // namespace

Result<std::string> RetentionActJson(const policy::Policy& policy, const store::RetentionRunRecord& run,
                                     std::string_view lang) {
  QORGAU_ASSIGN_OR_RETURN(const json::object act, Build(policy, run, lang));
  return json::serialize(act) + "\n";
}

Result<std::string> RetentionActHtml(const policy::Policy& policy, const store::RetentionRunRecord& run,
                                     std::string_view lang) {
  QORGAU_ASSIGN_OR_RETURN(const json::object a, Build(policy, run, lang));
  const json::object& op = a.at("operator").as_object();
  const auto lab = [&](const char* key) { return Str(a.at("labels").at(key)); };
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"" + Str(a.at("lang")) + "\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>" + Str(a.at("title")) + " " + Str(a.at("number")) + "</title>\n";
  h += "<style>\n@page { size: A4; margin: 18mm 16mm; }\n"
       "body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10pt; color: #111; max-width: 178mm; margin: 0 auto; }\n"
       "h1 { font-size: 15pt; margin: 4mm 0 2mm; } h2 { font-size: 11.5pt; margin: 6mm 0 2mm; }\n"
       "table { width: 100%; border-collapse: collapse; margin-bottom: 3mm; }\n"
       "th, td { border: 0.5pt solid #777; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; }\n"
       "th { background: #eee; } tr { break-inside: avoid; } .meta td { border: none; padding: 0.5mm 0; }\n"
       ".note { font-style: italic; } .sign { margin-top: 14mm; }\n</style>\n</head>\n<body>\n";
  h += "<div><strong>" + Str(op.at("name")) + "</strong> (" + Str(op.at("brand")) + ")</div>\n";
  h += "<div>" + Str(op.at("address")) + "</div>\n";
  h += "<div>" + lab("bin") + ": " + (op.at("bin").is_null() ? lab("not_stated") : Str(op.at("bin"))) + "</div>\n";
  h += "<h1>" + Str(a.at("title")) + " " + Str(a.at("number")) + "</h1>\n<table class=\"meta\">\n";
  auto row = [&](const char* key, const std::string& value) {
    h += "<tr><td>" + lab(key) + ":</td><td>" + value + "</td></tr>\n";
  };
  row("as_of", Str(a.at("as_of_local")));
  row("started", Str(a.at("started_local")));
  row("finished", Str(a.at("finished_local")));
  row("actor", Str(a.at("actor")));
  row("edition", Str(a.at("edition")));
  row("method", Str(a.at("method")));
  row("subjects", Str(a.at("subjects")) + " (" + lab("subjects_destroyed") + ": " + Str(a.at("subjects_destroyed")) + ")");
  if (!a.at("events").is_null()) {
    row("events", Str(a.at("events").at("first")) + "–" + Str(a.at("events").at("last")));
  }
  h += "</table>\n<h2>" + lab("destroyed") + "</h2>\n<table>\n<tr><th>" + lab("what") + "</th><th>" + lab("count") +
       "</th><th>" + lab("period") + "</th><th>" + lab("ground") + "</th><th>" + lab("statute") + "</th></tr>\n";
  for (const auto& v : a.at("lines").as_array()) {
    const json::object& l = v.as_object();
    h += "<tr><td>" + Str(l.at("name")) + "<br><small>" + Str(l.at("what")) + "</small></td><td>" + Str(l.at("count")) +
         "</td><td>" + Str(l.at("period")) + " " + Str(l.at("from")) + "</td><td>" + Str(l.at("ground")) + "</td><td>" +
         Str(l.at("statute")) + "</td></tr>\n";
  }
  if (a.at("lines").as_array().empty()) h += "<tr><td colspan=\"5\">" + lab("nothing") + "</td></tr>\n";
  h += "</table>\n<p class=\"note\">" + lab("no_values") + "</p>\n";
  h += "<p class=\"sign\">" + lab("signature") + ": ____________________</p>\n</body>\n</html>\n";
  return h;
}

}  // namespace qorgau::report
