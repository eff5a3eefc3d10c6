# Shihui — two commands do all set-up on a fresh Debian machine:
#   make run    install missing system packages, build release, start shihui-server
#   make test   the same set-up plus test tools, then every test
# Installs are idempotent: packages already present and an up-to-date venv are left alone.

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# Libraries the server links (module maps in Sources/C*).
BUILD_PACKAGES := pkg-config libopus-dev libvpx-dev libssl-dev libsqlite3-dev libturbojpeg0-dev
# Real peers and validators the tests drive (see README "Tests").
TEST_PACKAGES := python3-venv iproute2 util-linux ffmpeg chromium wrk janus \
                 gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
                 gstreamer1.0-plugins-ugly firefox-esr
VENV := .venv
VENV_STAMP := $(VENV)/.installed
SYSTEM_PYTHON := /usr/bin/python3

.PHONY: run test build release deps test-deps unit interop bench-wire bench-build bench bench-quick bench-smoke fuzz clean

run: deps release
	mkdir -p data
	.build/release/shihui-server

test: deps test-deps unit interop bench-smoke
	./tools/check-no-leftovers.sh

# Installs only what dpkg says is missing; apt-get update runs only then.
deps:
	@./tools/ensure-packages.sh $(BUILD_PACKAGES)

test-deps: deps $(VENV_STAMP)
	@./tools/ensure-packages.sh $(TEST_PACKAGES)

$(VENV_STAMP): tools/requirements-test.txt
	@./tools/ensure-packages.sh python3-venv
	test -x $(VENV)/bin/python || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-test.txt
	touch $@

build:
	swift build

release:
	swift build -c release --product shihui-server

unit:
	swift build --build-tests
	swift test --skip-build --disable-xctest

interop: build
	$(VENV)/bin/python -m pytest -q Tests/Interop

# Micro-benchmark of the wire formats (docs/PERFORMANCE.md).
bench-wire: deps
	swift build -c release --product wire-bench
	.build/release/wire-bench

# The benchmark harness (docs/PERFORMANCE.md): Shihui, the C floor and Janus under shihui-bench,
# in a network namespace of its own (needs root, as CI has).
bench-build: deps
	swift build -c release --product shihui-server
	swift build -c release --product shihui-bench
	mkdir -p .build/floor
	cc -O2 -Wall -Wextra -o .build/floor/reflector tools/floor/reflector.c -lcrypto

bench: test-deps bench-build
	$(VENV)/bin/python tools/bench/run.py full

bench-quick: test-deps bench-build
	$(VENV)/bin/python tools/bench/run.py quick

# ~30 s at toy size, part of `make test` so the harness cannot rot.
bench-smoke: test-deps bench-build
	$(VENV)/bin/python tools/bench/run.py smoke

# libFuzzer targets, 60 s each by default (FUZZ_SECONDS=N to change); see tools/fuzz/README.md.
fuzz: deps
	./tools/fuzz/run.sh $${FUZZ_SECONDS:-60}

clean:
	rm -rf .build tools/fuzz/out
