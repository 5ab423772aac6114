// The information statement (report/statement.h). One model, built as JSON
// in the language asked for; the HTML page is that JSON laid out.
#include "report/statement.h"

#include <boost/json.hpp>

#include <chrono>
#include <unordered_map>

#include "core/clock.h"
#include "report/html.h"
#include "report/retention_act.h"

namespace qorgau::report {
namespace {

namespace json = boost::json;

struct Label {
  const char* key;
  const char* kk;
  const char* ru;
  const char* en;
};

// Every fixed text of the statement, in the three languages.
constexpr Label kLabels[] = {
    {"title", "Дербес деректер туралы мәліметтер", "Сведения о персональных данных", "Statement of personal data held"},
    {"reference", "Тіркеу нөмірі", "Номер", "Reference"},
    {"date", "Күні", "Дата", "Date"},
    {"operator", "Дербес деректер операторы", "Оператор персональных данных", "Personal data operator"},
    {"bin", "БСН", "БИН", "BIN"},
    {"dpo", "Дербес деректерді өңдеуді ұйымдастыруға жауапты тұлға",
     "Лицо, ответственное за организацию обработки персональных данных",
     "Person responsible for organising personal-data processing"},
    {"not_stated", "саясатта көрсетілмеген", "не указано в политике", "not stated in the policy"},
    {"edition", "Саясат редакциясы", "Редакция политики", "Policy edition"},
    {"subject", "Дербес деректер субъектісі", "Субъект персональных данных", "Data subject"},
    {"prepared_by", "Дайындаған", "Подготовил", "Prepared by"},
    {"application", "Өтініш", "Заявление", "Application"},
    {"masked", "Мәндер жасырылған", "Значения замаскированы", "Values are masked"},
    {"blocked", "Деректер бұғатталған: оларды өңдеу тоқтатылған", "Данные заблокированы: их обработка приостановлена",
     "The data are blocked: their processing is stopped"},
    {"data_held", "Сақталатын дербес деректер", "Хранимые персональные данные", "Personal data held"},
    {"category", "Санат", "Категория", "Category"},
    {"value", "Мәні", "Значение", "Value"},
    {"recorded_on", "Жиналған немесе өзгертілген күні", "Дата сбора или изменения", "Collected or last changed"},
    {"source", "Көзі", "Источник", "Source"},
    {"rectified_on", "Өзгерту өтініші", "Заявление об изменении", "Changed on application"},
    {"purposes", "Мақсаттары және құқықтық негіздері", "Цели и правовые основания", "Purposes and legal bases"},
    {"in_force", "қолданыста", "действует", "in force"},
    {"not_in_force", "қолданыста емес", "не действует", "not in force"},
    {"collection", "Жинау тәсілі", "Способ сбора", "Method of collection"},
    {"processing_methods", "Өңдеу тәсілдері мен қорғау шаралары", "Способы обработки и меры защиты",
     "Methods of processing and safeguards"},
    {"processing_period", "Өңдеу мерзімі", "Срок обработки", "Processing period"},
    {"processing_period_text", "мақсаттың құқықтық негізі сақталғанша", "пока сохраняется правовое основание цели",
     "while the purpose's legal basis holds"},
    {"storage_period", "Сақтау мерзімі", "Срок хранения", "Storage period"},
    {"no_rule", "саясатта сақтау ережесі жоқ: мақсаттарға жеткенге дейін",
     "в политике нет правила хранения: до достижения целей", "no retention rule in the policy: until the purposes are achieved"},
    {"until", "дейін", "до", "until"},
    {"statutory_minimum", "заң бойынша ең аз мерзімі", "минимальный срок по закону", "statutory minimum"},
    {"suspended", "ашық міндеттемелер немесе заңды шектеулер жабылғанша жою тоқтатылады",
     "уничтожение приостановлено до закрытия обязательств или правовых ограничений",
     "destruction waits while obligations or legal holds are open"},
    {"not_started", "мерзім әлі басталған жоқ", "срок ещё не начался", "the period has not started yet"},
    {"ended_on", "мерзімі аяқталды", "срок истёк", "the period ended on"},
    {"to_destroy", "деректер жойылуға жатады", "данные подлежат уничтожению", "the data are to be destroyed"},
    {"kept_by.debt", "берешек", "задолженность", "a debt"},
    {"kept_by.instalment", "бөліп төлеу", "рассрочка", "an instalment"},
    {"kept_by.legal_hold", "заңды шектеу", "правовое ограничение", "a legal hold"},
    {"consents", "Келісімдер тарихы", "История согласий", "Consent history"},
    {"granted", "берілді", "дано", "granted"},
    {"withdrawn", "кері қайтарылды", "отозвано", "withdrawn"},
    {"channel", "Арна", "Канал", "Channel"},
    {"evidence", "Дәлел", "Подтверждение", "Evidence"},
    {"contracts", "Шарттар мен қызметтер", "Договоры и услуги", "Contracts and services"},
    {"service_on", "қосулы", "подключена", "on"},
    {"service_off", "өшірілген", "отключена", "off"},
    {"applications", "Өтініштер және олардың нәтижелері", "Заявления и их результаты", "Applications and their outcomes"},
    {"received", "Қабылданды", "Принято", "Received"},
    {"due", "Мерзімі", "Срок", "Due"},
    {"state", "Жағдайы", "Состояние", "State"},
    {"outcome", "Нәтижесі", "Результат", "Outcome"},
    {"recipients", "Деректерді алушылар", "Получатели данных", "Recipients"},
    {"destroyed", "Жойылған деректер", "Уничтоженные данные", "Data destroyed"},
    {"why", "Негізі", "Основание", "Why"},
    {"why.retention", "сақтау мерзімі өтті", "истёк срок хранения", "the storage period ended"},
    {"why.withdrawal", "келісім кері қайтарылды", "отзыв согласия", "consent withdrawn"},
    {"why.service_off", "қызмет өшірілді", "услуга отключена", "the service was switched off"},
    {"why.contract_end", "шарт аяқталды", "договор прекращён", "the contract ended"},
    {"why.application", "субъектінің өтініші бойынша", "по заявлению субъекта", "on the subject's application"},
    {"why.profiling_objection", "субъект профильдеуге қарсылық білдірді", "субъект возразил против профилирования",
     "the subject objected to profiling"},
    {"enrichment_source", "Дереккөз", "Источник", "Source"},
    {"enrichment_agreement", "шарт", "договор", "agreement"},
    {"enrichment_purpose", "мақсаты үшін", "для цели", "for the purpose"},
    {"enrichment_inputs", "мына деректерден алынған", "выведено из", "derived from"},
    {"why.restore", "сақтық көшірмеден қалпына келтірілгенде қайта жойылды", "повторно при восстановлении из резервной копии",
     "again, when a backup was restored"},
    {"no_recipients", "деректер үшінші тұлғаларға берілмеген", "передач третьим лицам не было",
     "no transfer to a third party recorded"},
    {"recipient", "Алушы", "Получатель", "Recipient"},
    {"purpose", "Мақсаты", "Цель", "Purpose"},
    {"basis", "Құқықтық негізі", "Правовое основание", "Legal basis"},
    {"country", "Елі", "Страна", "Country"},
    {"agreement", "Шарт", "Договор", "Agreement"},
    {"xborder", "Шекара арқылы беру", "Трансграничная передача", "Across the border"},
    {"xborder.domestic", "жоқ, Қазақстан ішінде", "нет, внутри Казахстана", "no, within Kazakhstan"},
    {"xborder.adequate_country", "дербес деректерді қорғауды қамтамасыз ететін елге",
     "в страну, обеспечивающую защиту персональных данных", "to a country that ensures the protection of personal data"},
    {"xborder.consent", "субъектінің келісімімен", "с согласия субъекта", "with the subject's consent"},
    {"none", "жоқ", "нет", "none"},
    // Sources (provenance).
    {"src.subject", "субъектінің өзі", "сам субъект", "the subject"},
    {"src.service", "қызмет көрсету барысында", "при оказании услуг", "while providing the services"},
    {"src.public_source", "жалпыға қолжетімді көздер", "общедоступные источники", "public sources"},
    {"src.third_party", "шарт бойынша үшінші тұлғалар", "третьи лица по договору", "third parties under contract"},
    {"src.derived", "байыту және профильдеу", "обогащение и профилирование", "enrichment and profiling"},
    // Collection methods, by source (R-IV.1, R-X.1).
    {"col.subject", "шарт жасасу кезінде немесе арналар арқылы субъектінің өзі берген",
     "предоставлены самим субъектом при заключении договора или через каналы",
     "given by the subject when joining a contract or through a channel"},
    {"col.service", "қызметтерді көрсету кезінде алынған", "получены при оказании услуг", "received while providing the services"},
    {"col.public_source", "жалпыға қолжетімді әлеуметтік желі аккаунттарынан", "из общедоступных аккаунтов социальных сетей",
     "from public social-network accounts"},
    {"col.third_party", "шарт жасасқан үшінші тұлғалардан", "от третьих лиц по договору с оператором",
     "from third parties under contract with the operator"},
    {"col.derived", "басқа деректерден алынған (байыту, профильдеу)", "получены из других данных (обогащение, профилирование)",
     "derived from other data (enrichment, profiling)"},
    // Legal bases.
    {"basis.consent", "келісім", "согласие", "consent"},
    {"basis.contract", "шарт", "договор", "contract"},
    {"basis.law", "заң", "закон", "law"},
    // Period units.
    {"unit.y", "жыл", "г.", "years"},
    {"unit.m", "ай", "мес.", "months"},
    {"unit.d", "күн", "дн.", "days"},
    // Who applied (LAW.md §5, §12).
    {"req.subject", "субъектінің өзі", "сам субъект", "the subject"},
    {"req.parent", "ата-анасы (заңды өкілі)", "родитель (законный представитель)", "a parent (legal representative)"},
    {"req.guardian", "қамқоршысы (заңды өкілі)", "опекун (законный представитель)", "a guardian (legal representative)"},
    {"req.attorney", "сенімхат бойынша өкілі", "представитель по доверенности", "a holder of a power of attorney"},
    {"requester", "Өтініш берген", "Заявитель", "Filed by"},
    // Applications.
    {"kind.information", "ақпарат алу", "получение сведений", "information"},
    {"kind.rectification", "деректерді өзгерту", "изменение данных", "rectification"},
    {"kind.blocking", "бұғаттау", "блокирование", "blocking"},
    {"kind.unblocking", "бұғаттан шығару", "снятие блокирования", "unblocking"},
    {"kind.withdrawal", "келісімді кері қайтару", "отзыв согласия", "withdrawal of consent"},
    {"kind.reenabling", "қызметті қайта қосу", "повторное подключение услуги", "re-enabling a service"},
    {"kind.destruction", "жою", "уничтожение", "destruction"},
    {"kind.objection", "профильдеуге қарсылық", "возражение против профилирования", "objection to profiling"},
    {"state.received", "қабылданды", "принято", "received"},
    {"state.identity_verified", "тұлғасы расталды", "личность подтверждена", "identity verified"},
    {"state.in_progress", "қаралуда", "на рассмотрении", "in progress"},
    {"state.answered", "жауап берілді", "дан ответ", "answered"},
    {"state.refused", "бас тартылды", "отказано", "refused"},
};

std::string L(std::string_view key, const std::string& lang) {
  static const std::unordered_map<std::string_view, const Label*> index = [] {
    std::unordered_map<std::string_view, const Label*> m;
    for (const Label& l : kLabels) m.emplace(l.key, &l);
    return m;
  }();
  const auto it = index.find(key);
  // Where a period starts, and the records: the act's words too.
  if (it == index.end()) return RetentionText(key, lang);
  return lang == "ru" ? it->second->ru : lang == "en" ? it->second->en : it->second->kk;
}

// A UTC day, where the engine gave no local one.
std::string Day(UnixMillis t) { return FormatUtc(t).substr(0, 10); }

std::string PeriodText(const policy::Period& p, const std::string& lang) {
  return std::to_string(p.amount) + " " + L(std::string("unit.") + p.unit, lang);
}

json::value OrNull(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object Build(const policy::Policy& p, const StatementInput& in) {
  const std::string& lang = in.lang;
  auto text = [&](const policy::Text& t) { return policy::InLanguage(t, lang); };
  json::object labels;
  for (const Label& l : kLabels) {
    const std::string key = l.key;
    if (key.find('.') == std::string::npos) labels[key] = L(key, lang);
  }
  json::object op{{"name", text(p.controller.name)},
                  {"brand", p.controller.brand},
                  {"address", text(p.controller.address)},
                  {"postal_index", p.controller.postal_index},
                  {"country", p.controller.country},
                  {"bin", p.controller.bin.empty() ? json::value(nullptr) : json::value(p.controller.bin)},
                  {"dpo", p.controller.dpo_contact.empty() ? json::value(nullptr)
                                                           : json::value(p.controller.dpo_contact)}};
  json::array data;
  for (const auto& v : in.data) {
    const policy::Category* c = p.FindCategory(v.category);
    json::array purposes;
    if (c) {
      for (const auto& r : c->purposes) {
        const policy::Purpose* pu = p.FindPurpose(r.id);
        if (!pu) continue;
        const std::string basis(policy::LegalBasisName(pu->basis));
        auto holds = in.purpose_holds.find(r.id);
        const bool in_force = holds != in.purpose_holds.end() && holds->second;
        purposes.push_back(json::object{{"id", r.id},
                                        {"name", text(pu->name)},
                                        {"basis", basis},
                                        {"basis_name", L("basis." + basis, lang)},
                                        {"in_force", in_force},
                                        {"status", L(in_force ? "in_force" : "not_in_force", lang)}});
      }
    }
    std::string storage;
    json::object kept{{"status", v.storage.status}};
    if (const policy::RetentionRule* rule = v.storage.rule) {
      storage = PeriodText(rule->period, lang) + " " + L("from." + rule->from, lang);
      const policy::Statute* st = rule->minimum ? p.FindStatute(rule->minimum->id) : nullptr;
      if (st) storage += "; " + L("statutory_minimum", lang) + " " + PeriodText(st->period, lang) + " (" + st->cite + ")";
      if (v.storage.status == "running") {
        storage += "; " + L("until", lang) + " " + v.storage.due_day;
      } else if (v.storage.status == "waiting") {
        storage += "; " + L("not_started", lang);
      } else {
        storage += "; " + L("ended_on", lang) + " " + v.storage.due_day + ": " +
                   L(v.storage.status == "due" ? "to_destroy" : "suspended", lang);
        for (const auto& k : v.storage.kept_by) storage += " (" + L("kept_by." + k, lang) + ")";
      }
      kept["period"] = rule->period.ToString();
      kept["from"] = rule->from;
      kept["ground"] = rule->ground;
      kept["statute"] = st ? json::value(st->id) : json::value(nullptr);
      kept["due_on"] = v.storage.due_day.empty() ? json::value(nullptr) : json::value(v.storage.due_day);
      json::array by;
      for (const auto& k : v.storage.kept_by) by.emplace_back(k);
      kept["kept_by"] = std::move(by);
    } else {
      storage = L("no_rule", lang);
    }
    json::value enrichment = nullptr;
    if (v.enrichment) {
      const auto& e = *v.enrichment;
      const policy::DataSource* src = p.FindSource(e.source);
      const policy::Purpose* pu = p.FindPurpose(e.purpose);
      json::array inputs;
      for (const auto& in : e.inputs) {
        const policy::Category* ic = p.FindCategory(in);
        inputs.push_back(json::object{{"category", in}, {"name", ic ? text(ic->name) : in}});
      }
      enrichment = json::object{{"kind", e.kind},
                                {"source", e.source.empty() ? json::value(nullptr) : json::value(e.source)},
                                {"source_name", src ? json::value(text(src->name)) : json::value(nullptr)},
                                {"agreement", e.agreement.empty() ? json::value(nullptr) : json::value(e.agreement)},
                                {"purpose", e.purpose},
                                {"purpose_name", pu ? text(pu->name) : e.purpose},
                                {"inputs", std::move(inputs)}};
    }
    data.push_back(json::object{{"category", v.category},
                                {"name", c ? text(c->name) : v.category},
                                {"value", v.value},
                                {"recorded_on", v.recorded_day.empty() ? Day(v.recorded_at) : v.recorded_day},
                                {"source", v.provenance},
                                {"source_name", L("src." + v.provenance, lang)},
                                {"collection", L("col." + v.provenance, lang)},
                                {"rectified_on", OrNull(v.rectified_on)},
                                {"purposes", std::move(purposes)},
                                {"processing_period", L("processing_period_text", lang)},
                                {"storage_period", storage},
                                {"storage", std::move(kept)},
                                {"enrichment", std::move(enrichment)}});
  }
  json::array methods;
  for (const auto& m : p.security_measures) methods.emplace_back(text(m.name));
  // A long-standing subscriber has a thousand consent steps: each names
  // its purpose and channel by id, and their names are given once.
  json::array consents;
  json::object purpose_names, channel_names;
  consents.reserve(in.consents.size());
  for (const auto& c : in.consents) {
    if (!purpose_names.contains(c.purpose)) {
      const policy::Purpose* pu = p.FindPurpose(c.purpose);
      purpose_names[c.purpose] = pu ? text(pu->name) : c.purpose;
    }
    if (!channel_names.contains(c.channel)) {
      const policy::Channel* ch = p.FindChannel(c.channel);
      const policy::ContractMethod* cm = p.FindContractMethod(c.channel);
      channel_names[c.channel] = ch ? text(ch->name) : cm ? text(cm->name) : c.channel;
    }
    consents.push_back(json::object{{"at", FormatUtc(c.at)},
                                    {"day", c.day.empty() ? Day(c.at) : c.day},
                                    {"purpose", c.purpose},
                                    {"action", c.granted ? "granted" : "withdrawn"},
                                    {"channel", c.channel},
                                    {"evidence", c.evidence},
                                    {"edition", c.edition},
                                    {"requester", c.requester}});
  }
  json::array contracts, services;
  for (std::size_t k = 0; k < in.contracts.size(); ++k) {
    const auto& c = in.contracts[k];
    const policy::ContractMethod* cm = p.FindContractMethod(c.method);
    contracts.push_back(json::object{{"id", c.id},
                                     {"method", c.method},
                                     {"method_name", cm ? text(cm->name) : c.method},
                                     {"joined_on", k < in.contract_days.size() ? in.contract_days[k] : Day(c.joined_at)}});
  }
  for (const auto& s : in.services) {
    const policy::Service* sv = p.FindService(s.service);
    services.push_back(json::object{{"service", s.service},
                                    {"name", sv ? text(sv->name) : s.service},
                                    {"active", s.active},
                                    {"status", L(s.active ? "service_on" : "service_off", lang)}});
  }
  // What was destroyed (R-VII.2), by day and why; never a value.
  json::array destroyed;
  for (const auto& d : in.destroyed) {
    json::array what;
    for (const auto& w : d.what) {
      const policy::Category* c = p.FindCategory(w);
      what.push_back(json::object{{"what", w}, {"name", c ? json::value(text(c->name)) : json::value(L(w, lang))}});
    }
    destroyed.push_back(json::object{{"at", FormatUtc(d.at)},
                                     {"day", d.day.empty() ? Day(d.at) : d.day},
                                     {"why", d.why},
                                     {"why_name", L("why." + d.why, lang)},
                                     {"what", std::move(what)}});
  }
  // What went to recipients (R-IX.1): who, for what, on which ground.
  json::array transfers;
  for (const auto& t : in.transfers) {
    const store::TransferRecord& r = t.transfer;
    const policy::Recipient* rec = p.FindRecipient(r.recipient);
    const policy::Purpose* pu = p.FindPurpose(r.purpose);
    json::array categories;
    for (const auto& c : r.categories) {
      const policy::Category* cat = p.FindCategory(c);
      categories.push_back(json::object{{"id", c}, {"name", cat ? text(cat->name) : c}});
    }
    transfers.push_back(json::object{{"transfer", r.id},
                                     {"at", FormatUtc(r.at)},
                                     {"day", t.day.empty() ? Day(r.at) : t.day},
                                     {"recipient", r.recipient},
                                     {"recipient_name", rec ? text(rec->name) : r.recipient},
                                     {"country", r.country},
                                     {"agreement", r.agreement},
                                     {"purpose", r.purpose},
                                     {"purpose_name", pu ? text(pu->name) : r.purpose},
                                     {"categories", std::move(categories)},
                                     {"basis", t.basis},
                                     {"basis_name", L("basis." + t.basis, lang)},
                                     {"cross_border", t.cross_border},
                                     {"cross_border_name", L("xborder." + t.cross_border, lang)}});
  }
  json::array applications;
  for (const auto& a : in.applications) {
    const auto& r = a.record;
    const std::string kind = ApplicationKindName(r.kind), state = ApplicationStateName(r.state);
    applications.push_back(json::object{{"id", r.id},
                                        {"kind", kind},
                                        {"kind_name", L("kind." + kind, lang)},
                                        {"received_on", a.received_date.empty() ? Day(r.received_at) : a.received_date},
                                        {"due_date", a.due_date},
                                        {"state", state},
                                        {"state_name", L("state." + state, lang)},
                                        {"requester", r.requester},
                                        {"requester_name", L("req." + r.requester, lang)},
                                        {"outcome", r.outcome}});
  }
  return json::object{{"format", "qorgau-statement/1"},
                      {"lang", lang},
                      {"title", L("title", lang)},
                      {"reference", in.reference},
                      {"date", in.local_date},
                      {"time_zone", in.time_zone},
                      {"produced_at", FormatUtc(in.at)},
                      {"operator", std::move(op)},
                      {"edition", p.edition.number},
                      {"subject", in.subject},
                      {"prepared_by", in.prepared_by},
                      {"application", OrNull(in.application)},
                      {"masked", in.masked},
                      {"blocked", in.blocked},
                      {"data", std::move(data)},
                      {"processing_methods", std::move(methods)},
                      {"consents", std::move(consents)},
                      {"names", json::object{{"purposes", std::move(purpose_names)},
                                             {"channels", std::move(channel_names)},
                                             {"granted", L("granted", lang)},
                                             {"withdrawn", L("withdrawn", lang)}}},
                      {"contracts", std::move(contracts)},
                      {"services", std::move(services)},
                      {"applications", std::move(applications)},
                      {"destroyed", std::move(destroyed)},
                      {"transfers", std::move(transfers)},
                      {"labels", std::move(labels)}};
}

}  // namespace

std::string StatementJson(const policy::Policy& policy, const StatementInput& in) {
  return json::serialize(Build(policy, in)) + "\n";
}

std::string StatementHtml(const policy::Policy& policy, const StatementInput& in) {
  const json::object s = Build(policy, in);
  const json::object& l = s.at("labels").as_object();
  const json::object& op = s.at("operator").as_object();
  auto lab = [&](const char* key) { return Str(l.at(key)); };
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"" + Str(s.at("lang")) + "\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>" + Str(s.at("title")) + " " + Str(s.at("reference")) + "</title>\n";
  h += "<style>\n@page { size: A4; margin: 18mm 16mm; }\n"
       "body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10pt; color: #111; max-width: 178mm; margin: 0 auto; }\n"
       "header { border-bottom: 1.5pt solid #111; padding-bottom: 4mm; margin-bottom: 5mm; }\n"
       "h1 { font-size: 15pt; margin: 3mm 0 1mm; } h2 { font-size: 11.5pt; margin: 6mm 0 2mm; break-after: avoid; }\n"
       "table { width: 100%; border-collapse: collapse; margin-bottom: 3mm; table-layout: fixed; }\n"
       "th, td { border: 0.5pt solid #777; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; "
       "overflow-wrap: anywhere; }\n"
       ".day { white-space: nowrap; }\n"
       "th { background: #eee; } tr { break-inside: avoid; } .meta td { border: none; padding: 0.5mm 0; }\n"
       ".note { font-style: italic; } ul { margin: 0; padding-left: 4mm; }\n</style>\n</head>\n<body>\n";
  h += "<header>\n<div><strong>" + Str(op.at("name")) + "</strong> (" + Str(op.at("brand")) + ")</div>\n";
  h += "<div>" + Str(op.at("address")) + ", " + Str(op.at("postal_index")) + "</div>\n";
  h += "<div>" + lab("bin") + ": " + (op.at("bin").is_null() ? lab("not_stated") : Str(op.at("bin"))) + "</div>\n";
  h += "<div>" + lab("dpo") + ": " + (op.at("dpo").is_null() ? lab("not_stated") : Str(op.at("dpo"))) + "</div>\n";
  h += "<h1>" + Str(s.at("title")) + "</h1>\n<table class=\"meta\">\n";
  h += "<tr><td>" + lab("reference") + ":</td><td>" + Str(s.at("reference")) + "</td></tr>\n";
  h += "<tr><td>" + lab("date") + ":</td><td>" + Str(s.at("date")) + " (" + Str(s.at("time_zone")) + ")</td></tr>\n";
  h += "<tr><td>" + lab("subject") + ":</td><td>" + Str(s.at("subject")) + "</td></tr>\n";
  if (!s.at("application").is_null()) {
    h += "<tr><td>" + lab("application") + ":</td><td>" + Str(s.at("application")) + "</td></tr>\n";
  }
  h += "<tr><td>" + lab("edition") + ":</td><td>" + Str(s.at("edition")) + "</td></tr>\n";
  h += "<tr><td>" + lab("prepared_by") + ":</td><td>" + Str(s.at("prepared_by")) + "</td></tr>\n</table>\n</header>\n";
  if (s.at("blocked").as_bool()) h += "<p class=\"note\">" + lab("blocked") + "</p>\n";
  if (s.at("masked").as_bool()) h += "<p class=\"note\">" + lab("masked") + "</p>\n";

  h += "<h2>" + lab("data_held") + "</h2>\n<table>\n<colgroup><col style=\"width:17%\"><col style=\"width:13%\">"
       "<col style=\"width:17%\"><col style=\"width:33%\"><col style=\"width:20%\"></colgroup>\n<tr><th>" +
       lab("category") + "</th><th>" + lab("value") +
       "</th><th>" + lab("source") + " / " + lab("collection") + "</th><th>" + lab("purposes") + "</th><th>" +
       lab("processing_period") + " / " + lab("storage_period") + "</th></tr>\n";
  for (const auto& item : s.at("data").as_array()) {
    const json::object& d = item.as_object();
    h += "<tr><td>" + Str(d.at("name")) + "<br><small>" + lab("recorded_on") + ": <span class=\"day\">" +
         Str(d.at("recorded_on")) + "</span>";
    if (!d.at("rectified_on").is_null()) h += "; " + lab("rectified_on") + " " + Str(d.at("rectified_on"));
    h += "</small></td><td>" + Str(d.at("value")) + "</td><td>" + Str(d.at("source_name")) + "<br><small>" +
         Str(d.at("collection"));
    if (const json::value& en = d.at("enrichment"); en.is_object()) {
      const json::object& e = en.as_object();
      if (!e.at("source_name").is_null()) h += "<br>" + lab("enrichment_source") + ": " + Str(e.at("source_name"));
      if (!e.at("agreement").is_null()) h += ", " + lab("enrichment_agreement") + " " + Str(e.at("agreement"));
      h += "<br>" + lab("enrichment_purpose") + ": " + Str(e.at("purpose_name"));
      if (!e.at("inputs").as_array().empty()) {
        h += "<br>" + lab("enrichment_inputs") + ":";
        bool first = true;
        for (const auto& in : e.at("inputs").as_array()) {
          h += std::string(first ? " " : ", ") + Str(in.as_object().at("name"));
          first = false;
        }
      }
    }
    h += "</small></td><td><ul>";
    for (const auto& pv : d.at("purposes").as_array()) {
      const json::object& pu = pv.as_object();
      h += "<li>" + Str(pu.at("name")) + " — " + Str(pu.at("basis_name")) + " (" + Str(pu.at("status")) + ")</li>";
    }
    h += "</ul></td><td>" + Str(d.at("processing_period")) + "<br>" + Str(d.at("storage_period")) + "</td></tr>\n";
  }
  if (s.at("data").as_array().empty()) h += "<tr><td colspan=\"5\">" + lab("none") + "</td></tr>\n";
  h += "</table>\n<h2>" + lab("processing_methods") + "</h2>\n<ul>\n";
  for (const auto& m : s.at("processing_methods").as_array()) h += "<li>" + Str(m) + "</li>\n";
  h += "</ul>\n<h2>" + lab("consents") + "</h2>\n<table>\n<tr><th>" + lab("date") + "</th><th>" + lab("purposes") +
       "</th><th>" + lab("state") + "</th><th>" + lab("channel") + "</th><th>" + lab("evidence") + "</th></tr>\n";
  const json::object& names = s.at("names").as_object();
  for (const auto& cv : s.at("consents").as_array()) {
    const json::object& c = cv.as_object();
    h += "<tr><td class=\"day\">" + Str(c.at("day")) + "</td><td>" +
         Str(names.at("purposes").as_object().at(c.at("purpose").as_string())) + "</td><td>" +
         Str(names.at(c.at("action").as_string())) + "</td><td>" +
         Str(names.at("channels").as_object().at(c.at("channel").as_string())) + "</td><td>" + Str(c.at("evidence")) +
         (c.at("requester").as_string() == "subject" ? std::string()
                                                     : "<br>" + Str(json::value(L("req." + std::string(c.at("requester").as_string()), in.lang)))) +
         "</td></tr>\n";
  }
  h += "</table>\n<h2>" + lab("contracts") + "</h2>\n<ul>\n";
  for (const auto& cv : s.at("contracts").as_array()) {
    const json::object& c = cv.as_object();
    h += "<li>" + Str(c.at("id")) + ": " + Str(c.at("method_name")) + ", " + Str(c.at("joined_on")) + "</li>\n";
  }
  for (const auto& sv : s.at("services").as_array()) {
    const json::object& c = sv.as_object();
    h += "<li>" + Str(c.at("name")) + ": " + Str(c.at("status")) + "</li>\n";
  }
  h += "</ul>\n<h2>" + lab("applications") + "</h2>\n<table>\n<tr><th>" + lab("application") + "</th><th>" +
       lab("requester") + "</th><th>" + lab("received") + "</th><th>" + lab("due") + "</th><th>" + lab("state") +
       "</th><th>" + lab("outcome") + "</th></tr>\n";
  for (const auto& av : s.at("applications").as_array()) {
    const json::object& a = av.as_object();
    h += "<tr><td>" + Str(a.at("id")) + ": " + Str(a.at("kind_name")) + "</td><td>" + Str(a.at("requester_name")) +
         "</td><td class=\"day\">" + Str(a.at("received_on")) +
         "</td><td class=\"day\">" + Str(a.at("due_date")) + "</td><td>" + Str(a.at("state_name")) + "</td><td>" +
         Str(a.at("outcome")) + "</td></tr>\n";
  }
  h += "</table>\n<h2>" + lab("destroyed") + "</h2>\n";
  if (s.at("destroyed").as_array().empty()) h += "<p>" + lab("none") + "</p>\n";
  else h += "<table>\n<tr><th>" + lab("date") + "</th><th>" + lab("why") + "</th><th>" + lab("category") + "</th></tr>\n";
  for (const auto& dv : s.at("destroyed").as_array()) {
    const json::object& d = dv.as_object();
    std::string names;
    for (const auto& w : d.at("what").as_array()) names += (names.empty() ? "" : ", ") + Str(w.at("name"));
    h += "<tr><td class=\"day\">" + Str(d.at("day")) + "</td><td>" + Str(d.at("why_name")) + "</td><td>" + names +
         "</td></tr>\n";
  }
  if (!s.at("destroyed").as_array().empty()) h += "</table>\n";
  h += "<h2>" + lab("recipients") + "</h2>\n";
  const json::array& sent = s.at("transfers").as_array();
  if (sent.empty()) {
    h += "<p>" + lab("no_recipients") + "</p>\n";
  } else {
    h += "<table>\n<tr><th>" + lab("date") + "</th><th>" + lab("recipient") + "</th><th>" + lab("country") +
         "</th><th>" + lab("agreement") + "</th><th>" + lab("purpose") + "</th><th>" + lab("category") + "</th><th>" +
         lab("basis") + "</th><th>" + lab("xborder") + "</th></tr>\n";
    for (const auto& tv : sent) {
      const json::object& t = tv.as_object();
      std::string names;
      for (const auto& c : t.at("categories").as_array()) names += (names.empty() ? "" : ", ") + Str(c.at("name"));
      h += "<tr><td class=\"day\">" + Str(t.at("day")) + "</td><td>" + Str(t.at("recipient_name")) + "</td><td>" +
           Str(t.at("country")) + "</td><td>" + Str(t.at("agreement")) + "</td><td>" + Str(t.at("purpose_name")) +
           "</td><td>" + names + "</td><td>" + Str(t.at("basis_name")) + "</td><td>" + Str(t.at("cross_border_name")) +
           "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace qorgau::report
