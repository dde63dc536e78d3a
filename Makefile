# The two commands of the README. Both install what is missing first.
#   make demo   build, start the sandbox (fake Bob + fake JumpCloud on loopback), print the plan
#   make test   build and run every test with ctest
BUILD ?= build
JOBS ?= 2

.PHONY: deps build demo test format check-format clean bench

deps:
	@bash tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@bash tools/demo.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: deps
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	@cmake --build build-release -j$(JOBS) --target bench_plan bench_read bench_apply
	@build-release/bench/bench_plan
	@build-release/bench/bench_read
	@echo "longer runs: build-release/bench/bench_apply creates 10000 50 | noop 100000"

format:
	@bash tools/format.sh

check-format:
	@bash tools/format.sh --check

clean:
	rm -rf $(BUILD) build-asan build-release
