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
	@bash bench/table.sh build-release
	@echo "the plain script: build-release/bench/bench_apply script 1000 20 4 (and 8)"

format:
	@bash tools/format.sh

check-format:
	@bash tools/format.sh --check

clean:
	rm -rf $(BUILD) build-asan build-release
