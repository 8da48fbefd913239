#!/usr/bin/env bash
# Runs the benchmark executable (release) with a throwaway PostgreSQL cluster for the provision
# figures: starts the cluster on a free loopback port as a non-root user, with PostgreSQL's default
# durability (fsync=on, synchronous_commit=on, full_page_writes=on: every commit waits for its WAL
# flush), builds `ClientSuiteBenchmarks` and `dock` into .build-release, runs the benchmark with
# the cluster's URL, and removes the cluster on exit.
# Extra arguments go to the benchmark (e.g. --quick, --only provision, --postgres-seconds 60).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
need_package() {
    if ! dpkg -s "$1" >/dev/null 2>&1; then
        if [ "$apt_updated" -eq 0 ]; then
            log "apt-get update"
            as_root apt-get update -qq
            apt_updated=1
        fi
        log "installing $1"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
    fi
}

need_package libsqlite3-dev
need_package postgresql   # the server, psql and pgbench

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/initdb" ] && [ -x "$pg_bin/pgbench" ] || { echo "error: PostgreSQL binaries not found" >&2; exit 1; }
export PATH="$pg_bin:$PATH"   # the benchmark runs pgbench and psql of the same version as the server

# PostgreSQL refuses to run as root: use the package's `postgres` account when we are root.
run_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    run_pg() { runuser -u postgres -- "$@"; }
fi

log "building the release benchmark and dock into .build-release"
swift build -c release --scratch-path .build-release --product dock
swift build -c release --scratch-path .build-release --product ClientSuiteBenchmarks

# On a disk, not tmpfs: with fsync on, the commit latency of the disk is part of what is measured.
cluster=$(mktemp -d "${CLIENTSUITE_BENCH_CLUSTER_DIR:-/var/tmp}/clientsuite-bench-pg.XXXXXX")
chmod 755 "$cluster"
[ "$(id -u)" -eq 0 ] && chown postgres "$cluster"
if [ "$(stat -f -c %T "$cluster")" = tmpfs ]; then
    log "warning: $cluster is on tmpfs, so fsync costs nothing; set CLIENTSUITE_BENCH_CLUSTER_DIR to a disk folder"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

stop_cluster() {
    run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$cluster"
}
trap stop_cluster EXIT

log "starting a throwaway PostgreSQL ($pg_bin) on 127.0.0.1:$port in $cluster (default durability)"
run_pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >"$cluster/initdb.log" 2>&1 \
    || { cat "$cluster/initdb.log" >&2; exit 1; }
# Durability is stated, not left to a postgresql.conf: these are PostgreSQL's defaults.
# max_connections: pgbench's 8 clients plus the suite's pool (pool= in the URL, up to 256) plus psql.
run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
    -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on -c synchronous_commit=on -c full_page_writes=on" \
    start >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }

export CLIENTSUITE_BENCH_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable&pool=8"
log "load average before the run: $(cut -d ' ' -f 1-3 /proc/loadavg)"
.build-release/release/ClientSuiteBenchmarks "$@"
