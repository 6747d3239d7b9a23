# SPDX-License-Identifier: BSD-3-Clause
# The two commands of the quick start:
#   make run    install missing Debian packages, build, analyze the sample capture
#   make test   same setup, then the whole test suite (unit, fuzz replay, integration)
BUILD ?= build
SAMPLE ?= tests/captures/close_wait_leak.pcap
TCPA = $(BUILD)/app/tcpa/tcpa

.PHONY: all deps build run test unit bench clean

all: build

deps:
	@deploy/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	$(TCPA) --pcap $(SAMPLE)

ASAN ?= build-asan

test: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2; rc=$$?; \
	python3 tests/summary.py $(BUILD)/meson-logs/testlog.json; exit $$rc
	@# lib/ again under AddressSanitizer and UBSan, asserts on, warnings as errors
	[ -f $(ASAN)/build.ninja ] || meson setup $(ASAN) -Ddpdk=disabled -Ddebug_asserts=true \
		-Db_sanitize=address,undefined -Dwerror=true --buildtype=debugoptimized
	ninja -C $(ASAN)
	meson test -C $(ASAN) --suite unit --suite fuzz --print-errorlogs; rc=$$?; \
	python3 tests/summary.py $(ASAN)/meson-logs/testlog.json; exit $$rc

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN)
