#!/usr/bin/env bash
# Runs the benchmark executable (release) with a throwaway PostgreSQL cluster for the provision
# figures: starts the cluster on a free loopback port as a non-root user, with PostgreSQL's default
# durability (fsync=on, synchronous_commit=on, full_page_writes=on: every commit waits for its WAL
# flush), builds `ClientSuiteBenchmarks` and `dock` into .build-release, runs the benchmark with
# the cluster's URL, and removes the cluster on exit.
# Extra arguments go to the benchmark (e.g. --quick, --only provision, --postgres-seconds 60,
# --only http --http-seconds 10). The HTTP figures run wrk, installed here with the other needs.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

. scripts/lib/postgres.sh

need_package libsqlite3-dev
need_package postgresql   # the server, psql and pgbench
need_package wrk          # the HTTP figures' load generator (--only http)
find_postgres
[ -x "$pg_bin/pgbench" ] || { echo "error: pgbench not found in $pg_bin" >&2; exit 1; }
export PATH="$pg_bin:$PATH"   # the benchmark runs pgbench and psql of the same version as the server

log "building the release benchmark and dock into .build-release"
swift build -c release --scratch-path .build-release --product dock
swift build -c release --scratch-path .build-release --product ClientSuiteBenchmarks

# On a disk, not tmpfs: with fsync on, the commit latency of the disk is part of what is measured.
# Durability is stated, not left to a postgresql.conf: these are PostgreSQL's defaults.
# max_connections: pgbench's 8 clients plus the suite's pool (pool= in the URL, up to 256) plus psql.
start_cluster "${CLIENTSUITE_BENCH_CLUSTER_DIR:-/var/tmp}" clientsuite-bench-pg \
    "-c max_connections=300 -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
if [ "$(stat -f -c %T "$cluster")" = tmpfs ]; then
    log "warning: $cluster is on tmpfs, so fsync costs nothing; set CLIENTSUITE_BENCH_CLUSTER_DIR to a disk folder"
fi

export CLIENTSUITE_BENCH_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable&pool=8"
log "load average before the run: $(cut -d ' ' -f 1-3 /proc/loadavg)"
.build-release/release/ClientSuiteBenchmarks "$@"
