# A thin layer over CMake. The two commands of the README:
#   make run    installs what is missing, builds, serves on 127.0.0.1:8080
#   make test   installs what is missing, builds, runs every test
BUILD ?= build
BUILD_ASAN ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
RUN_FLAGS ?= --listen 127.0.0.1:8080 --state-file ./var/state.json

FUZZ_SECONDS ?= 600
FUZZ_TEST_SECONDS ?= 15

.PHONY: all deps build run test test-plain test-asan test-fuzz fuzz format \
	format-check clean image-test verify-systemd bench

all: build

deps:
	@scripts/deps build

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

run: build
	mkdir -p var
	$(BUILD)/netnsd $(RUN_FLAGS)

test:
	@scripts/deps test
	$(MAKE) format-check
	$(MAKE) test-plain
	$(MAKE) test-asan
	$(MAKE) test-fuzz

test-plain:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DNETNSD_SANITIZE=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# Proves docker/Dockerfile without a Docker engine: lint, debootstrap a base,
# buildah bud, run `netnsd --version` inside (root; slow; not in `make test`).
image-test:
	docker/image-test

# systemd-analyze verify of docker/netnsd.service; fails on any warning (also
# run by ctest).
verify-systemd: build
	docker/verify-systemd

# Every libFuzzer target for a short bounded time on its seed corpus.
test-fuzz:
	fuzz/run $(FUZZ_TEST_SECONDS)

# As long as asked, per target: make fuzz FUZZ_SECONDS=3600
fuzz:
	fuzz/run $(FUZZ_SECONDS)

# netnsd against iproute2, raw netlink and nginx; writes bench/RESULTS.md.
bench:
	bench/run

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
