# The two commands a newcomer needs: `make run` and `make test`.
BUILD ?= build
JOBS  ?= 2
CMAKE_FLAGS ?=
# A new build dir uses Ninja when it is installed (scripts/install-deps does): it schedules the
# compiles of all targets together, so both cores stay busy where Make waits for each library
# in turn. A build dir that already exists keeps the generator it was made with
# (`cmake --build` picks it up); `make clean` then `make` moves build/ to Ninja.
GENERATOR ?= $(if $(shell command -v ninja 2>/dev/null),Ninja)
# -G for a build dir that does not exist yet ($(1)); nothing for one that does, which cmake
# would refuse to switch.
generator_flag = $(if $(wildcard $(1)/CMakeCache.txt),,$(if $(GENERATOR),-G "$(GENERATOR)"))

.PHONY: deps deps-run build run test test-asan test-tsan bench clean

# Debian packages and the pinned npm test clients (everything the test suite needs).
deps:
	@bash scripts/install-deps

# Debian packages only: what building and running the collector needs (`make run` on a fresh
# clone skips ~9 s of npm installs).
deps-run:
	@bash scripts/install-deps --no-npm

$(BUILD)/CMakeCache.txt: | deps-run
	cmake -S . -B $(BUILD) $(call generator_flag,$(BUILD)) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# Starts the collector on the embedded defaults: events.db, log sink, 127.0.0.1:8080.
# Builds only the collector (not the test suite): a fresh clone reaches its first event sooner.
run: deps-run $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS) --target cistern
	./$(BUILD)/cistern $(ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 300

# The whole suite under sanitizers, each in a build dir of its own (build-asan/, build-tsan/).
# The cistern children the tests spawn inherit the *SAN_OPTIONS, so a report in a child makes
# it exit non-zero and the test that stops it fails. Suppressions: scripts/sanitizers/.
# Reports exit 23 (TSan 66), never a code cistern uses itself (0, 1, 2).
# $(call sanitize,<dir>,<-fsanitize= list and extra flags>,<runtime options for ctest>,<ctest args>)
# -O1 -g1, as the sanitizer docs advise: an ASan+UBSan TU compiled 2.5x faster than at -O2 -g
# (four of the heaviest: 112 s against 282 s), with file:line in every report still.
sanitize = cmake -S . -B $(1) $(call generator_flag,$(1)) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
	  -DCMAKE_CXX_FLAGS="$(2) -fno-omit-frame-pointer" \
	  -DCMAKE_EXE_LINKER_FLAGS="$(2)" -DCMAKE_SHARED_LINKER_FLAGS="$(2)" \
	&& cmake --build $(1) -j$(JOBS) \
	&& cd $(1) && env $(3) ctest --output-on-failure -j$(JOBS) --timeout 300 $(4)

# fuzz_smoke is left out: its targets are always built with ASan+UBSan (fuzz/CMakeLists.txt),
# so `make test` has already run exactly that (saves 2-4 min of CI).
test-asan: deps
	$(call sanitize,build-asan,-fsanitize=address -fsanitize=undefined -fno-sanitize-recover=undefined,\
	  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=23 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/sanitizers/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=23,\
	  -E '^fuzz_smoke$$')

test-tsan: deps
	$(call sanitize,build-tsan,-fsanitize=thread,\
	  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:exitcode=66:suppressions=$(CURDIR)/scripts/sanitizers/tsan.supp)

# Every benchmark; writes bench/RESULTS.md (several minutes; run on a quiet machine).
bench: build
	bash bench/run-all

clean:
	rm -rf $(BUILD)

# libFuzzer targets (needs clang; without it prints "skipped" and exits 77): each target for 60 s / 20 s.
.PHONY: fuzz fuzz-smoke
fuzz:
	bash fuzz/run 60

fuzz-smoke:
	bash fuzz/run 20

# Issue 14 (docs/packaging.md): an arm64 cross build tested under qemu-user, Debian packages.
# `make arm64`: the three binaries for arm64 in build-arm64/ (Debian's cross toolchain, multiarch
# -dev libraries, cmake/aarch64-linux-gnu.cmake). `make test-arm64`: the in-process unit tests
# and an end-to-end smoke test under qemu. `make deb`: cistern_<version>_amd64.deb in build/ and
# cistern_<version>_arm64.deb in build-arm64/, each checked by lintian (errors fail).
# `make test-deb`: installs, runs, reinstalls, removes and purges the amd64 package on this
# machine (root only; meant for a throwaway box or CI).
ARM64 ?= build-arm64
ARM64_TESTS = common_test event_test otlp_test mqtt_codec_test ingest_test store_test uploader_test
.PHONY: deps-arm64 deps-deb arm64 test-arm64 deb deb-amd64 deb-arm64 test-deb

deps-arm64:
	@bash scripts/install-deps --arm64

deps-deb:
	@bash scripts/install-deps --deb

$(ARM64)/CMakeCache.txt: | deps-arm64
	cmake -S . -B $(ARM64) $(call generator_flag,$(ARM64)) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake $(CMAKE_FLAGS)

arm64: deps-arm64 $(ARM64)/CMakeCache.txt
	cmake --build $(ARM64) -j$(JOBS) --target cistern cistern-mcp cistern-loadgen
	@file $(ARM64)/cistern $(ARM64)/cistern-mcp $(ARM64)/cistern-loadgen | sed 's/, BuildID[^,]*//'

test-arm64: arm64
	cmake --build $(ARM64) -j$(JOBS) --target $(ARM64_TESTS)
	ARM64_TESTS="$(ARM64_TESTS)" bash scripts/test-arm64 $(ARM64)

deb-amd64: build deps-deb
	cd $(BUILD) && cpack -G DEB
	lintian --fail-on error $(BUILD)/cistern_*_amd64.deb

deb-arm64: arm64 deps-deb
	cd $(ARM64) && cpack -G DEB
	lintian --fail-on error $(ARM64)/cistern_*_arm64.deb

deb: deb-amd64 deb-arm64

test-deb: deb-amd64
	bash scripts/test-deb $(BUILD)/cistern_*_amd64.deb
