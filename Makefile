# A thin wrapper over CMake and ctest. Every target installs what it needs first.
#   make demo    train Fashion-MNIST and the seed example into runs/, then serve TensorBoard
#   make test    build and run every test (unit + interop with stock TensorBoard)
#   make bench   gradboard against PyTorch, TensorFlow, TensorBoard and tensorboardX (not a test)
#   make fuzz    libFuzzer on every reader, FUZZ_SECONDS each (CI: 30)
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
JOBS ?= $(shell nproc)
PYTHON := $(CURDIR)/.venv/bin/python
CMAKE_ARGS ?=

.PHONY: all deps venv configure build test demo bench sanitize fuzz check-no-cuda clean

all: build

deps:
	@bash tools/deps.sh

venv: deps
	@bash tools/venv.sh

configure: deps
	cmake -S . -B $(BUILD) -DGB_PYTHON=$(PYTHON) $(CMAKE_ARGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: venv build
	@set -o pipefail; ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) | tee $(BUILD)/ctest.log; \
	  status=$$?; echo; grep -E "tests passed|tests failed" $(BUILD)/ctest.log | tail -1; exit $$status

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer, built with clang, and
# the CUDA backend's host side on the emulator (ctest cuda_emulated) where the toolkit is installed.
sanitize:
	@bash tools/deps.sh clang libclang-rt-dev
	CC=clang cmake -S . -B $(ASAN_BUILD) -DGB_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	@set -o pipefail; ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) -L 'unit|cuda' --output-on-failure -j $(JOBS) | tee $(ASAN_BUILD)/ctest.log; \
	  status=$$?; echo; grep -E "tests passed|tests failed" $(ASAN_BUILD)/ctest.log | tail -1; exit $$status

# libFuzzer on every reader (tests/fuzz), FUZZ_SECONDS per target, FUZZ_JOBS targets at a time.
fuzz:
	@bash tools/deps.sh clang libclang-rt-dev
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DGB_FUZZ=ON -DGB_SANITIZE=address,undefined $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@bash tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS)

# A build without the CUDA backend (a machine without the toolkit): it compiles, the engine's
# tests pass, and asking for GB_CUDA says the build has none. CI runs it.
check-no-cuda: deps
	cmake -S . -B build-nocuda -DGB_CUDA=OFF -DGB_PYTHON=$(PYTHON) $(CMAKE_ARGS) > /dev/null
	cmake --build build-nocuda -j $(JOBS) --target test_cuda_device test_cuda_ops test_gradcheck test_seeds seed_optimize
	build-nocuda/tests/engine/test_cuda_device && build-nocuda/tests/engine/test_gradcheck && \
	  build-nocuda/tests/engine/test_seeds && build-nocuda/tests/engine/test_cuda_ops

# DEMO_SERVE=0: train and summarise without serving TensorBoard (the demo test uses it).
demo: venv build
	@bash tools/demo.sh $(BUILD) $(PYTHON)

bench: venv build
	@bash tools/bench/run.sh $(BUILD) $(PYTHON)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-nocuda
