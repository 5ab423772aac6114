// `qorgau serve` on a free loopback port, as a child process, for the tests
// that kill it (crash_test.cc, webhook_test.cc).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "../test_util.h"

extern char** environ;

namespace qorgau::testing {

class ServerProcess {
 public:
  ServerProcess(const std::string& data, const std::filesystem::path& log, const std::vector<std::string>& extra = {})
      : log_(log) {
    std::filesystem::remove(log_);
    std::vector<std::string> args = {QORGAU_BIN, "--data", data, "serve", "--listen", "127.0.0.1:0",
                                     "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, QORGAU_BIN, &files, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&files);
  }
  ~ServerProcess() { Kill(SIGKILL); }

  // The port, once the server says it listens (0 if it never does).
  std::uint16_t WaitListening() {
    const std::regex listening(R"re("event":"listening".*"port":([0-9]+))re");
    for (int i = 0; i < 600 && pid_ > 0; ++i) {
      std::smatch m;
      const std::string text = ReadFile(log_);
      if (std::regex_search(text, m, listening)) return static_cast<std::uint16_t>(std::stoi(m[1]));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }
  std::string Log() const { return ReadFile(log_); }
  // The largest file the server may write (RLIMIT_FSIZE): a disk that is
  // full, as the server sees it.
  // Only the soft limit: the hard one stays, so the limit can be lifted.
  bool LimitFileSize(rlim_t bytes) {
    rlimit limit{};
    if (pid_ <= 0 || ::prlimit(pid_, RLIMIT_FSIZE, nullptr, &limit) != 0) return false;
    limit.rlim_cur = std::min(bytes, limit.rlim_max);
    return ::prlimit(pid_, RLIMIT_FSIZE, &limit, nullptr) == 0;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = 0;
};

}  // namespace qorgau::testing
