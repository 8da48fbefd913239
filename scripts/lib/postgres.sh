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
# `cluster`, `port`, `pg_start` and `pg_stop` (the command lines that start it again and stop it as
# a crash would), and stops and removes every cluster started so on exit. A role
# `clientsuite_pw` with the password `right-password` logs in with scram-sha-256 only (every other
# role is trusted), so a test can try a wrong password.
clusters=()
start_cluster() {
    cluster=$(mktemp -d "$1/$2.XXXXXX")
    chmod 755 "$cluster"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$cluster"; fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    clusters+=("$cluster")
    trap stop_clusters EXIT
    log "starting a throwaway PostgreSQL ($pg_bin) on 127.0.0.1:$port in $cluster"
    run_pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >"$cluster/initdb.log" 2>&1 \
        || { cat "$cluster/initdb.log" >&2; exit 1; }
    run_pg sh -c "{ echo 'host all clientsuite_pw 127.0.0.1/32 scram-sha-256'; cat '$cluster/data/pg_hba.conf'; } > '$cluster/data/pg_hba.new' && mv '$cluster/data/pg_hba.new' '$cluster/data/pg_hba.conf'"
    local as=""
    if [ "$(id -u)" -eq 0 ]; then as="runuser -u postgres -- "; fi
    pg_start="$as$pg_bin/pg_ctl -D $cluster/data -l $cluster/server.log -w -t 60 -o '-p $port -k $cluster -c listen_addresses=127.0.0.1 $3' start"
    pg_stop="$as$pg_bin/pg_ctl -D $cluster/data -m immediate -w stop"
    sh -c "$pg_start" >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
    "$pg_bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE clientsuite_pw LOGIN PASSWORD 'right-password'" >/dev/null
}

stop_clusters() {
    for each in "${clusters[@]}"; do
        run_pg "$pg_bin/pg_ctl" -D "$each/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$each"
    done
}
