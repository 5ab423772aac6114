// What the fuzz targets of tests/fuzz share. Each target defines
// LLVMFuzzerTestOneInput: under clang it links with libFuzzer (`make fuzz`);
// under gcc it links with replay_main.cc, which runs it over the target's
// checked-in corpus (the ctest tests fuzz_replay.<target>).
//
// A target checks properties of the code under test, not only that it does
// not crash: FUZZ_CHECK aborts, and libFuzzer keeps the input that did it.
// Messages name the property, never the input (it may look like personal
// data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                                    \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__, what, #cond); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace qorgau::fuzz {

inline std::string_view Bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace qorgau::fuzz
