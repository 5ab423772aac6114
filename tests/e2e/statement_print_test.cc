// The information statement prints on A4 (issue 9): printed by a real
// browser (Debian's chromium, headless, installed by scripts/install-deps),
// every page is A4 and no text runs past the printable width, in kk, ru
// and en.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "report/statement.h"

namespace qorgau {
namespace {

// Runs a shell command; its standard output.
std::string Shell(const std::string& cmd, int* status) {
  testing::TempDir io;
  const std::string out = (io.path() / "out").string();
  *status = std::system((cmd + " >" + testing::ShellQuote(out) + " 2>/dev/null </dev/null").c_str());
  return testing::ReadFile(out);
}

TEST(StatementPrint, R_IV_4_the_statement_prints_on_A4_in_kk_ru_and_en) {
  testing::TempDir dir;
  FixedClock clock(ParseUtc("2026-03-19T06:00:00Z", "t").value());
  ASSERT_TRUE(app::Instance::Init(dir.path() / "data", testing::KemPolicy(), clock));
  auto inst = app::Instance::Open(dir.path() / "data", clock).value();
  const auto world = testing::MakeAccessWorld(inst->engine(), /*with_keys=*/false);
  for (const std::string lang : {"kk", "ru", "en"}) {
    auto st = inst->engine().Statement({rules::SubjectKey::Id(1), lang, false, std::nullopt}, world["olga"]);
    ASSERT_TRUE(st) << st.error().ToString();
    const auto html = dir.path() / ("statement-" + lang + ".html");
    const auto pdf = dir.path() / ("statement-" + lang + ".pdf");
    testing::WriteFile(html, report::StatementHtml(inst->engine().policy(), *st));
    int status = 0;
    Shell("chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --user-data-dir=" +
              testing::ShellQuote((dir.path() / "chromium").string()) + " --print-to-pdf=" +
            testing::ShellQuote(pdf.string()) + " " + testing::ShellQuote("file://" + html.string()),
        &status);
    ASSERT_EQ(status, 0) << "chromium could not print the statement (scripts/install-deps installs it)";
    const std::string info = Shell("pdfinfo " + testing::ShellQuote(pdf.string()), &status);
    ASSERT_EQ(status, 0) << info;
    EXPECT_NE(info.find("Page size:       594.96 x 841.92 pts (A4)"), std::string::npos) << lang << ": " << info;
    // The page is 595 pt wide with 16 mm margins: text ends by 549.6 pt.
    const std::string boxes = Shell("pdftotext -bbox " + testing::ShellQuote(pdf.string()) + " -", &status);
    ASSERT_EQ(status, 0);
    double right = 0;
    std::size_t words = 0;
    for (std::size_t at = boxes.find("xMax=\""); at != std::string::npos; at = boxes.find("xMax=\"", at + 1)) {
      right = std::max(right, std::strtod(boxes.c_str() + at + 6, nullptr));
      ++words;
    }
    EXPECT_GT(words, 200u) << lang;
    EXPECT_LE(right, 549.7) << lang << ": text runs past the printable width";
    // The text is the language asked for, not boxes.
    const std::string text = Shell("pdftotext " + testing::ShellQuote(pdf.string()) + " -", &status);
    const char* title = lang == "kk" ? "Дербес деректер туралы мәліметтер"
                        : lang == "ru" ? "Сведения о персональных данных"
                                       : "Statement of personal data held";
    EXPECT_NE(text.find(title), std::string::npos) << lang;
  }
}

}  // namespace
}  // namespace qorgau
