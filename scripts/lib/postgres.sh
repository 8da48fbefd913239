# Shared by scripts/test.sh and scripts/benchmark.sh (sourced; the caller defines `log` and sets
# `set -euo pipefail`): install what is missing, then run a throwaway PostgreSQL cluster on a free
# loopback port as a non-root user, removed when the calling script exits.

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

# After the packages are installed: sets pg_bin to the newest installed PostgreSQL's binaries, and
# makes run_pg run them as the package's `postgres` account when we are root (PostgreSQL refuses
# to run as root).
find_postgres() {
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$pg_bin/initdb" ] || { echo "error: PostgreSQL binaries not found after install" >&2; exit 1; }
    if [ "$(id -u)" -eq 0 ]; then
        id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        run_pg() { runuser -u postgres -- "$@"; }
    fi
}

run_pg() { "$@"; }

# start_cluster PARENT_DIR NAME "SERVER SETTINGS": initialises and starts a cluster in a new
# folder under PARENT_DIR, listening on 127.0.0.1:$port with its socket in $cluster; sets
# `cluster` and `port`, and stops and removes the cluster on exit.
start_cluster() {
    cluster=$(mktemp -d "$1/$2.XXXXXX")
    chmod 755 "$cluster"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$cluster"; fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    trap stop_cluster EXIT
    log "starting a throwaway PostgreSQL ($pg_bin) on 127.0.0.1:$port in $cluster"
    run_pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >"$cluster/initdb.log" 2>&1 \
        || { cat "$cluster/initdb.log" >&2; exit 1; }
    run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
        -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 $3" \
        start >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
}

stop_cluster() {
    run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$cluster"
}
