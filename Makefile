# SPDX-License-Identifier: BSD-3-Clause
# The two commands of the quick start:
#   make run    install missing Debian packages, build, analyze the sample capture
#   make test   same setup, then the whole test suite (unit, fuzz replay, integration),
#               again under the sanitizers, and a short run of each fuzz target
BUILD ?= build
SAMPLE ?= tests/captures/close_wait_leak.pcap
TCPA = $(BUILD)/app/tcpa/tcpa

.PHONY: all deps build run test unit bench fuzz clean

all: build

deps:
	@deploy/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	$(TCPA) --pcap $(SAMPLE)

# The second build of `make test`: the whole project (lib/, tcpa, tcpactl,
# tools) under AddressSanitizer, LeakSanitizer and UBSan, asserts on,
# warnings as errors. An existing $(ASAN) is brought to these options.
ASAN ?= build-asan
ASAN_SETUP = -Ddpdk=enabled -Ddebug_asserts=true -Db_sanitize=address,undefined \
	-Dwerror=true -Dbuildtype=debugoptimized
# Stop at the first error, with its stack; leaks checked at every exit.
# tests/asan/run.sh adds log_path for the integration tests.
FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 20
SAN_ENV = ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:print_stacktrace=1 \
	UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1

test: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2; rc=$$?; \
	python3 tests/summary.py $(BUILD)/meson-logs/testlog.json; exit $$rc
	@# unit, fuzz replay and integration again, under the sanitizers (2-3x slower)
	if [ -f $(ASAN)/build.ninja ]; then meson configure $(ASAN) $(ASAN_SETUP); \
	else meson setup $(ASAN) $(ASAN_SETUP); fi
	ninja -C $(ASAN)
	$(SAN_ENV) meson test -C $(ASAN) --suite unit --suite fuzz --suite integration \
		--num-processes 2 --timeout-multiplier 3 --print-errorlogs; rc=$$?; \
	python3 tests/summary.py $(ASAN)/meson-logs/testlog.json; exit $$rc
	@# each libFuzzer target $(FUZZ_SECONDS) s (docs/RELIABILITY.md, Fuzzing)
	BUILD_FUZZ=$(FUZZ) tests/fuzz/run.sh -t $(FUZZ_SECONDS)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

bench: build
	bench/run.sh

# ten minutes per fuzz target, as docs/RELIABILITY.md's figures were made
fuzz: deps
	BUILD_FUZZ=$(FUZZ) tests/fuzz/run.sh -t 600

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
