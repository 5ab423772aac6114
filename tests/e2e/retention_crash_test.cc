// A destruction run killed in the middle (SIGKILL to the real `qorgau
// retention run`) and carried on ends in exactly the state of an
// uninterrupted run on a copy of the same data (issue 10, part 8;
// docs/architecture.md, "Retention and destruction").
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"

extern char** environ;

namespace qorgau {
namespace {

constexpr int kSubjects = 300;

// Subscribers who joined in 2018 and left in 2019: by now every period of
// theirs has ended, and each is destroyed entirely.
void Seed(const std::filesystem::path& data) {
  FixedClock clock(1514764800000);  // 2018-01-01
  ASSERT_TRUE(app::Instance::Init(data, testing::KemPolicy(), clock));
  auto inst = app::Instance::Open(data, clock).value();
  rules::Engine& e = inst->engine();
  const auto world = testing::MakeAccessWorld(e, /*with_keys=*/false);
  rules::Caller ops = world["onboarding"];
  for (auto& d : ops.duties) d.actions |= static_cast<DutyActions>(DutyAction::kWithdraw);
  for (int i = 0; i < kSubjects; ++i) {
    const auto s = demo::SyntheticSubjects().At(static_cast<std::uint64_t>(100 + i));
    auto id = e.AddSubject({s.iin, s.phone, {{"user.identity.name", s.name}, {"user.contact.email", s.email}}, "subject"},
                           ops);
    ASSERT_TRUE(id) << id.error().ToString();
    auto joined = e.JoinContract({rules::SubjectKey::Id(*id), "form", {"mobile_base"}, "FORM-" + std::to_string(i)}, ops);
    ASSERT_TRUE(joined) << joined.error().ToString();
    clock.Advance(3600000);
    ASSERT_TRUE(e.EndContract({rules::SubjectKey::Id(*id), joined->contract_id, "TERM-" + std::to_string(i)}, ops));
  }
}

// The data directory and its master key beside it, copied.
void CopyData(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  std::filesystem::copy_file(from.string() + ".master.key", to.string() + ".master.key");
}

// What a run leaves: each subject destroyed or not, the destruction events
// per subject, and the act's counts.
struct Outcome {
  std::set<store::SubjectId> destroyed;
  std::map<store::SubjectId, int> events;
  std::string lines;  // the act's lines, canonical
  std::int64_t subjects = 0, subjects_destroyed = 0;
  int runs = 0;
};

Outcome Read(const std::filesystem::path& data) {
  Outcome o;
  SystemClock clock;
  auto inst = app::Instance::Open(data, clock).value();
  auto txn = inst->store().Begin(store::Store::Mode::kRead).value();
  EXPECT_TRUE(txn->ScanSubjectIds([&](store::SubjectId id, bool destroyed) {
    if (destroyed) o.destroyed.insert(id);
  }));
  EXPECT_TRUE(txn->ScanEvents(1, [&](const store::EventRecord& e) {
    if (e.body.find("\"type\":\"retention.destroyed\"") != std::string::npos && e.subject) ++o.events[*e.subject];
    return true;
  }));
  EXPECT_TRUE(txn->ScanRetentionRuns([&](const store::RetentionRunRecord& r) {
    ++o.runs;
    EXPECT_TRUE(r.finished_at) << "run " << r.run << " not finished";
    if (r.act.empty()) return;
    const auto act = boost::json::parse(r.act).as_object();
    o.lines = boost::json::serialize(act.at("lines"));
    o.subjects = act.at("subjects").as_int64();
    o.subjects_destroyed = act.at("subjects_destroyed").as_int64();
  }));
  txn.reset();
  const auto console = inst->engine().CallerFor("dpo").value();
  auto verified = inst->engine().VerifyLedger(*console);
  EXPECT_TRUE(verified && verified->ok) << (verified ? verified->reason : verified.error().ToString());
  return o;
}

// The binary as a child process, stderr to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  if (posix_spawn(&pid, QORGAU_BIN, &files, nullptr, argv.data(), environ) != 0) pid = 0;
  posix_spawn_file_actions_destroy(&files);
  return pid;
}

int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(RetentionCrash, R_VII_2_a_run_killed_in_the_middle_ends_as_an_uninterrupted_run) {
  testing::TempDir dir;
  const auto killed = dir.path() / "killed";
  const auto whole = dir.path() / "whole";
  Seed(killed);
  CopyData(killed, whole);

  // The run, one subject a transaction, killed once ten are destroyed.
  const auto log = dir.path() / "run.log";
  const pid_t pid = Spawn({QORGAU_BIN, "--data", killed.string(), "--as", "dpo", "retention", "run", "--batch", "1"}, log);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CountLines(testing::ReadFile(log), "with data destroyed") < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it was killed:\n" << testing::ReadFile(log);
  auto list = testing::RunQorgau({"--data", killed.string(), "--as", "dpo", "retention", "acts"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  ASSERT_NE(list.out.find("NOT FINISHED"), std::string::npos) << list.out;

  // Carried on, and the same run on the copy without a kill.
  auto resumed = testing::RunQorgau({"--data", killed.string(), "--as", "dpo", "retention", "run", "--quiet"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("carried on run"), std::string::npos) << resumed.out;
  auto uninterrupted = testing::RunQorgau({"--data", whole.string(), "--as", "dpo", "retention", "run", "--quiet"});
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.err;

  const Outcome a = Read(killed);
  const Outcome b = Read(whole);
  EXPECT_EQ(a.destroyed.size(), static_cast<std::size_t>(kSubjects));
  EXPECT_EQ(a.destroyed, b.destroyed);
  EXPECT_EQ(a.events, b.events);
  for (const auto& [subject, n] : a.events) EXPECT_EQ(n, 1) << "subject " << subject << " destroyed more than once";
  EXPECT_EQ(a.lines, b.lines);
  EXPECT_EQ(a.subjects, kSubjects);
  EXPECT_EQ(a.subjects, b.subjects);
  EXPECT_EQ(a.subjects_destroyed, b.subjects_destroyed);
  EXPECT_EQ(a.runs, 1);
  EXPECT_EQ(b.runs, 1);
}

// `serve --retention-as` runs the destruction daily as a data protection
// officer; anybody else is refused when the server starts, not at night.
TEST(RetentionServe, R_VII_2_serve_schedules_the_daily_run_as_a_dpo_only) {
  testing::TempDir dir;
  const auto data = dir.path() / "data";
  {
    FixedClock clock(1764150000000);
    ASSERT_TRUE(app::Instance::Init(data, testing::KemPolicy(), clock));
    auto inst = app::Instance::Open(data, clock).value();
    testing::MakeAccessWorld(inst->engine(), /*with_keys=*/false);
  }
  auto refused = testing::RunQorgau({"--data", data.string(), "serve", "--listen", "127.0.0.1:0", "--retention-as", "olga"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("dpo_only"), std::string::npos) << refused.err;
  auto bad_time = testing::RunQorgau(
      {"--data", data.string(), "serve", "--listen", "127.0.0.1:0", "--retention-as", "dpo", "--retention-at", "25:00"});
  EXPECT_EQ(bad_time.exit_code, 1);
  EXPECT_NE(bad_time.err.find("retention-at"), std::string::npos) << bad_time.err;

  const auto log = dir.path() / "serve.log";
  const pid_t pid = Spawn({QORGAU_BIN, "--data", data.string(), "serve", "--listen", "127.0.0.1:0", "--retention-as",
                           "dpo", "--retention-at", "03:15"},
                          log);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (testing::ReadFile(log).find("retention_scheduled") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string text = testing::ReadFile(log);
  EXPECT_NE(text.find("\"event\":\"retention_scheduled\""), std::string::npos) << text;
  // 03:15 in Almaty is 22:15 UTC.
  EXPECT_NE(text.find("T22:15:00.000Z"), std::string::npos) << text;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
}

}  // namespace
}  // namespace qorgau
