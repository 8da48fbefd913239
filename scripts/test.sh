#!/usr/bin/env bash
# Runs every test on both engines on a fresh machine: installs what is missing (PostgreSQL,
# SQLite headers), starts a throwaway PostgreSQL cluster on a free loopback port as a non-root
# user, runs `swift test` against it, and removes the cluster afterwards.
# Extra arguments go to `swift test` (e.g. --filter ClientLifecycle).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }

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
need_package postgresql

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/initdb" ] || { echo "error: PostgreSQL binaries not found after install" >&2; exit 1; }

# PostgreSQL refuses to run as root: use the package's `postgres` account when we are root.
run_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    run_pg() { runuser -u postgres -- "$@"; }
fi

cluster=$(mktemp -d /tmp/clientsuite-pg.XXXXXX)
chmod 755 "$cluster"
[ "$(id -u)" -eq 0 ] && chown postgres "$cluster"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

stop_cluster() {
    run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$cluster"
}
trap stop_cluster EXIT

log "starting a throwaway PostgreSQL ($pg_bin) on 127.0.0.1:$port"
run_pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >"$cluster/initdb.log" 2>&1 \
    || { cat "$cluster/initdb.log" >&2; exit 1; }
run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
    -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }

export CLIENTSUITE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

log "building"
swift build --build-tests
log "testing on SQLite and PostgreSQL"
swift test --skip-build "$@"
