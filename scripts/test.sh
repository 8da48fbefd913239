#!/usr/bin/env bash
# Runs every test on both engines on a fresh machine: installs what is missing (PostgreSQL,
# SQLite headers), starts two throwaway PostgreSQL clusters on free loopback ports as a non-root
# user (one for the tests, one that the fault tests crash and restart), runs `swift test` against
# them, and removes the clusters afterwards. The SQLite fault tests mount small tmpfs filesystems,
# so the script runs as root (or a user with passwordless sudo). Last, scripts/http-checks.py runs
# `dock serve` from outside: a purchase paid on the checkout page in headless Chromium (Debian's
# chromium and chromium-driver, selenium from PyPI) and schemathesis (PyPI) over /openapi.yaml on
# SQLite and PostgreSQL.
# Extra arguments go to `swift test` (e.g. --filter ClientLifecycle).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }

. scripts/lib/postgres.sh

need_package libsqlite3-dev
need_package postgresql
need_package python3
need_package python3-pip
need_package chromium
need_package chromium-driver
python3 -c 'import selenium, schemathesis' 2>/dev/null || {
    log "installing selenium and schemathesis from PyPI"
    # Debian's own python3 refuses system-wide installs (PEP 668) unless told; a pyenv one does not need telling.
    python3 -m pip install -q --root-user-action=ignore "selenium==4.51.0" "schemathesis==4.32.5" 2>/dev/null \
        || python3 -m pip install -q --root-user-action=ignore --break-system-packages "selenium==4.51.0" "schemathesis==4.32.5"
}
find_postgres
# Swift Testing runs the suites in parallel, each PostgreSQL test with its own pool (4 connections
# and an admin one): hundreds at once, so the test cluster allows 1,000.
settings="-c max_connections=1000 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
# A second cluster that the fault tests stop (as a crash would) and start again mid-run. It keeps
# synchronous_commit=on, PostgreSQL's default: with it off, a crash loses commits the server has
# already acknowledged (the restart test caught exactly that). fsync=off is safe for a crash of the
# server process, which is all the test does; the operating system keeps what was written.
start_cluster /tmp clientsuite-fault-pg "-c max_connections=400 -c fsync=off -c full_page_writes=off"
export CLIENTSUITE_TEST_FAULT_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export CLIENTSUITE_TEST_FAULT_POSTGRES_STOP="$pg_stop"
export CLIENTSUITE_TEST_FAULT_POSTGRES_START="$pg_start"
start_cluster /tmp clientsuite-pg "$settings"
export CLIENTSUITE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export CLIENTSUITE_TEST_POSTGRES_PASSWORD_URL="postgres://clientsuite_pw:right-password@127.0.0.1:$port/postgres?sslmode=disable"

log "an app on SQLite alone compiles no PostgreSQL driver"
scripts/check-sqlite-only.sh
log "every public symbol of the library modules has a /// line"
python3 scripts/check-doc-comments.py
log "building"
swift build --build-tests
if [ "$#" -gt 0 ]; then
    log "testing on SQLite and PostgreSQL: $*"
    swift test --skip-build "$@"
else
    # Suites named …FaultTests time failures (fail within 10 s) and crash a server: they run on
    # their own, after the rest, so that a machine busy with every other test does not blur them.
    log "testing on SQLite and PostgreSQL"
    swift test --skip-build --skip FaultTests
    log "fault tests: timed failures, full disks, read-only files, a server crash"
    swift test --skip-build --filter FaultTests
    log "dock serve from outside: the checkout page in headless Chromium, schemathesis over the contract"
    python3 scripts/http-checks.py "$(swift build --show-bin-path)/dock"
fi
