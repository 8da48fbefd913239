#!/usr/bin/env bash
# Runs every test on both engines on a fresh machine: installs what is missing (PostgreSQL,
# SQLite headers), starts a throwaway PostgreSQL cluster on a free loopback port as a non-root
# user, runs `swift test` against it, and removes the cluster afterwards.
# Extra arguments go to `swift test` (e.g. --filter ClientLifecycle).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }

. scripts/lib/postgres.sh

need_package libsqlite3-dev
need_package postgresql
find_postgres
start_cluster /tmp clientsuite-pg "-c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
export CLIENTSUITE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

log "building"
swift build --build-tests
log "testing on SQLite and PostgreSQL"
swift test --skip-build "$@"
