# The two commands (README): `make run` and `make test`. `make build` builds
# the release binary into build/ for scripts and benchmarks.
.PHONY: all build run test deps bench clean format fuzz

JOBS ?= $(shell nproc)
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B build $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)

# The main job on the embedded store: a fresh demo data directory with the
# operator's policy, synthetic subscribers, staff and keys; then the HTTP API
# on 127.0.0.1:8080 until Ctrl-C (QORGAU_LISTEN to change it).
QORGAU_LISTEN ?= 127.0.0.1:8080
run: build
	@rm -rf var/demo var/demo.master.key
	@build/qorgau --data var/demo demo --policy policies/kem/policy.yaml --subjects 3000 \
		--serve $(QORGAU_LISTEN)

# Every test, built with AddressSanitizer and UBSan.
test: deps
	@cmake -S . -B build-test $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DQORGAU_SANITIZE=ON >/dev/null
	@cmake --build build-test -j $(JOBS)
	@cd build-test && ctest --output-on-failure -j $(JOBS)

# The libFuzzer targets of tests/fuzz (clang, ASan, UBSan), each for
# FUZZ_SECONDS on a scratch copy of its corpus under build-fuzz; fails if any
# finds a crash. `make test` replays the same corpora under gcc.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= iin phone csv canonical_json receipt_verify policy_loader api
fuzz:
	@scripts/install-deps fuzz
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DQORGAU_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@scripts/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: build
	@build/bench/qorgau_bench

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf build build-test build-fuzz var
