// The replay driver of the gcc build: runs a fuzz target over every file of
// the corpus directories (or files) given as arguments, in name order, as
// libFuzzer would replay them (`fuzz_<target> DIR -runs=0`). A property
// failure or a sanitizer report aborts, which fails the ctest test.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg = argv[i];
    if (fs::is_directory(arg)) {
      for (const auto& entry : fs::directory_iterator(arg)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else if (fs::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else {
      std::cerr << "replay: no such file or directory: " << arg << "\n";
      return 2;
    }
  }
  if (inputs.empty()) {
    std::cerr << "replay: no inputs (an empty corpus replays nothing)\n";
    return 2;
  }
  std::sort(inputs.begin(), inputs.end());
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::cerr << "replay: cannot read " << path << "\n";
      return 2;
    }
    // Its own copy, exactly as long as the input, so that ASan sees a read
    // past the end as libFuzzer's harness would.
    std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
    std::cerr << "replay: " << path.filename().string() << "\n";  // names the input that fails
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
  }
  std::cout << inputs.size() << " inputs replayed\n";
  return 0;
}
