# The two commands a newcomer needs: `make run` and `make test`.
BUILD ?= build
JOBS  ?= 2
CMAKE_FLAGS ?=

.PHONY: deps build run test bench clean

deps:
	@bash scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# Starts the collector on the embedded defaults: events.db, log sink, 127.0.0.1:8080.
run: build
	./$(BUILD)/cistern $(ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 300

# Every benchmark; writes bench/RESULTS.md (several minutes; run on a quiet machine).
bench: build
	bash bench/run-all

clean:
	rm -rf $(BUILD)
