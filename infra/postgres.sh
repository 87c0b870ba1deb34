#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for development and integration tests, run from
# the Debian packages (installed with apt if missing). Loopback only, trust auth, no
# password anywhere: never expose it.
#
#   infra/postgres.sh start    install if needed, initdb once, start, wait, ensure role+db
#   infra/postgres.sh stop     pg_ctl stop -m fast
#   infra/postgres.sh kill     pg_ctl stop -m immediate: a crash, recovered on the next start
#   infra/postgres.sh status   exit 0 if running, 3 if not
#   infra/postgres.sh url      print the SQLAlchemy URL (CAPITAL_DATABASE_URL)
#
# Environment:
#   CAPITAL_INFRA_HOME       state dir (default <repo>/.infra): pg-data/, pg-run/ (socket),
#                            pg-logs/postgres.log
#   CAPITAL_PG_PORT          TCP port on 127.0.0.1 (default 15432)
#   CAPITAL_PG_BIN           directory of initdb/pg_ctl (default: newest
#                            /usr/lib/postgresql/*/bin)
#   CAPITAL_PG_START_TIMEOUT seconds to wait for the server (default 60)
#
# Run as root, the server runs as the `postgres` OS user (it refuses to run as root);
# run as anyone else, it runs as that user.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)

STATE_DIR=${CAPITAL_INFRA_HOME:-$REPO_ROOT/.infra}
PG_PORT=${CAPITAL_PG_PORT:-15432}
START_TIMEOUT=${CAPITAL_PG_START_TIMEOUT:-60}
DB_NAME=capital
DB_ROLE=capital
SUPERUSER=postgres

die() {
    echo "postgres.sh: error: $*" >&2
    exit 1
}

info() {
    echo "postgres.sh: $*"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

check_settings() {
    if ! [[ $PG_PORT =~ ^[0-9]+$ ]] || ((PG_PORT < 1 || PG_PORT > 65535)); then
        die "CAPITAL_PG_PORT must be a port number, got '$PG_PORT'"
    fi
    [[ $START_TIMEOUT =~ ^[0-9]+$ ]] ||
        die "CAPITAL_PG_START_TIMEOUT must be a whole number, got '$START_TIMEOUT'"
}

init_paths() {
    mkdir -p -- "$STATE_DIR" || die "cannot create state dir $STATE_DIR"
    STATE_DIR=$(cd -- "$STATE_DIR" && pwd -P)
    DATA_DIR=$STATE_DIR/pg-data
    SOCKET_DIR=$STATE_DIR/pg-run
    LOG_DIR=$STATE_DIR/pg-logs
    SERVER_LOG=$LOG_DIR/postgres.log
    # Unix socket paths are limited to 107 bytes.
    local socket=$SOCKET_DIR/.s.PGSQL.$PG_PORT
    ((${#socket} <= 107)) ||
        die "socket path $socket is longer than 107 bytes; set CAPITAL_INFRA_HOME to a shorter path"
}

# The server runs as `postgres` when we are root, else as ourselves.
init_user() {
    if ((EUID == 0)); then
        PG_OS_USER=postgres
        id -u "$PG_OS_USER" >/dev/null 2>&1 ||
            die "OS user '$PG_OS_USER' does not exist (it comes with the postgresql package)"
    else
        PG_OS_USER=$(id -un)
    fi
}

as_pg() {
    if ((EUID != 0)); then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        su -s /bin/bash "$PG_OS_USER" -c "$(printf '%q ' "$@")"
    fi
}

# Newest /usr/lib/postgresql/<version>/bin holding everything we need.
find_bin_dir() {
    local dir tool ok
    if [[ -n ${CAPITAL_PG_BIN:-} ]]; then
        echo "$CAPITAL_PG_BIN"
        return 0
    fi
    while IFS= read -r dir; do
        ok=1
        for tool in initdb pg_ctl postgres pg_isready psql; do
            [[ -x $dir/$tool ]] || ok=0
        done
        if ((ok)); then
            echo "$dir"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k5,5 -V -r)
    return 1
}

ensure_binaries() {
    if ! PG_BIN=$(find_bin_dir); then
        ((EUID == 0)) ||
            die "no PostgreSQL server found in /usr/lib/postgresql/*/bin; install it (sudo apt-get install -y postgresql) or set CAPITAL_PG_BIN"
        command -v apt-get >/dev/null 2>&1 ||
            die "no PostgreSQL server found and no apt-get to install it; set CAPITAL_PG_BIN"
        info "PostgreSQL not found: installing it with apt-get (postgresql)"
        DEBIAN_FRONTEND=noninteractive apt-get update -q ||
            die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql ||
            die "apt-get install postgresql failed"
        PG_BIN=$(find_bin_dir) ||
            die "postgresql installed but no initdb/pg_ctl found in /usr/lib/postgresql/*/bin"
    fi
    local tool
    for tool in initdb pg_ctl postgres pg_isready psql; do
        [[ -x $PG_BIN/$tool ]] || die "$PG_BIN/$tool not found or not executable"
    done
}

psql_admin() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$SUPERUSER" \
        -d postgres "$@"
}

is_running() {
    [[ -f $DATA_DIR/PG_VERSION ]] || return 1
    as_pg "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

is_ready() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U "$SUPERUSER" -t 2
}

port_open() {
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

show_log_tail() {
    if [[ -s $SERVER_LOG ]]; then
        echo "----- last 40 lines of $SERVER_LOG -----" >&2
        tail -n 40 "$SERVER_LOG" >&2
        echo "-----" >&2
    fi
}

# Single-quoted string literal for postgresql.conf.
conf_quote() {
    local value=${1//\'/\'\'}
    printf "'%s'" "$value"
}

prepare_dirs() {
    mkdir -p -- "$SOCKET_DIR" "$LOG_DIR"
    if [[ ! -d $DATA_DIR ]]; then
        mkdir -p -- "$DATA_DIR"
    fi
    if ((EUID == 0)); then
        chown -- "$PG_OS_USER": "$DATA_DIR" "$SOCKET_DIR" "$LOG_DIR"
        as_pg test -w "$DATA_DIR" ||
            die "user $PG_OS_USER cannot reach $DATA_DIR (a parent directory is not searchable by it?); set CAPITAL_INFRA_HOME to a path it can reach, e.g. /tmp/capital-infra"
    fi
    chmod 700 "$DATA_DIR"
}

init_cluster() {
    [[ -f $DATA_DIR/PG_VERSION ]] && return 0
    if [[ -n $(ls -A -- "$DATA_DIR") ]]; then
        die "$DATA_DIR is not empty but holds no cluster (no PG_VERSION); move it away first"
    fi
    info "creating cluster in $DATA_DIR ($("$PG_BIN/postgres" --version))"
    if ! as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U "$SUPERUSER" -E UTF8 --no-locale \
        --auth-local=trust --auth-host=trust >"$LOG_DIR/initdb.log" 2>&1; then
        cat "$LOG_DIR/initdb.log" >&2
        die "initdb failed"
    fi
    # Only our socket and 127.0.0.1: trust, no password (a local throwaway cluster).
    as_pg tee "$DATA_DIR/pg_hba.conf" >/dev/null <<'EOF'
# Written by infra/postgres.sh: local throwaway cluster, loopback only, no passwords.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
EOF
    printf '\n# infra/postgres.sh rewrites this file on every start (port, socket).\ninclude_if_exists = %s\n' \
        "$(conf_quote capital-local.conf)" | as_pg tee -a "$DATA_DIR/postgresql.conf" >/dev/null
}

write_local_conf() {
    as_pg tee "$DATA_DIR/capital-local.conf.tmp" >/dev/null <<EOF
# Written by infra/postgres.sh on every start: edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = $(conf_quote "$SOCKET_DIR")
EOF
    as_pg mv -f -- "$DATA_DIR/capital-local.conf.tmp" "$DATA_DIR/capital-local.conf"
}

ensure_role_and_db() {
    local exists
    exists=$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")
    if [[ $exists != 1 ]]; then
        psql_admin -c "CREATE ROLE $DB_ROLE LOGIN SUPERUSER"
        info "created role $DB_ROLE"
    fi
    exists=$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
    if [[ $exists != 1 ]]; then
        psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE"
        info "created database $DB_NAME"
    fi
}

# 0 when pg_isready answers; 1 when the server is gone; dies on timeout.
wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    until is_ready; do
        is_running || return 1
        if ((SECONDS >= deadline)); then
            show_log_tail
            die "pg_isready got no answer on 127.0.0.1:$PG_PORT after ${START_TIMEOUT} s"
        fi
        sleep 0.5
    done
}

# pg_ctl start; after a hard kill the old server's children can hold the shared memory
# for a moment ("pre-existing shared memory block is still in use"): retry a few times.
pg_ctl_start() {
    local attempt
    for attempt in 1 2 3 4 5; do
        if as_pg "$PG_BIN/pg_ctl" start -D "$DATA_DIR" -l "$SERVER_LOG" -w -t "$START_TIMEOUT" \
            >/dev/null 2>"$LOG_DIR/pg_ctl.err"; then
            return 0
        fi
        grep -q 'shared memory block is still in use' < <(tail -n 5 "$SERVER_LOG" 2>/dev/null) ||
            return 1
        info "the previous server still holds its shared memory; retrying ($attempt/5)"
        sleep 2
    done
    return 1
}

cmd_start() {
    local started=$SECONDS
    ensure_binaries
    if is_running; then
        if wait_ready; then
            ensure_role_and_db
            info "already running at 127.0.0.1:$PG_PORT (data $DATA_DIR)"
            cmd_url
            return 0
        fi
        info "the previous server went away (killed?); starting a new one on the same data"
    fi
    if port_open "$PG_PORT"; then
        die "port $PG_PORT on 127.0.0.1 is taken by another process; stop it or set CAPITAL_PG_PORT"
    fi
    prepare_dirs
    init_cluster
    write_local_conf
    info "starting PostgreSQL on 127.0.0.1:$PG_PORT (data $DATA_DIR)"
    if ! pg_ctl_start; then
        cat "$LOG_DIR/pg_ctl.err" >&2
        show_log_tail
        die "pg_ctl start failed"
    fi
    if ! wait_ready; then
        show_log_tail
        die "the server stopped during start-up; see the log above"
    fi
    ensure_role_and_db
    info "ready in $((SECONDS - started)) s"
    cmd_url
}

# shut_down MODE DONE: pg_ctl stop in MODE (fast, or immediate: every server process quits
# at once, without a checkpoint, which is what a crash leaves), then say DONE.
shut_down() {
    ensure_binaries
    if ! is_running; then
        info "not running"
        return 0
    fi
    if ! as_pg "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m "$1" -w -t 60 >/dev/null; then
        show_log_tail
        die "pg_ctl stop -m $1 failed"
    fi
    info "$2"
}

cmd_stop() { shut_down fast "stopped"; }

cmd_kill() { shut_down immediate "killed (immediate shutdown); the next start recovers from the WAL"; }

cmd_status() {
    ensure_binaries
    if is_running; then
        local ready=no
        is_ready && ready=yes
        info "running at 127.0.0.1:$PG_PORT (accepting connections: $ready), data $DATA_DIR"
        return 0
    fi
    info "not running (data $DATA_DIR)"
    return 3
}

cmd_url() {
    echo "postgresql+psycopg://$DB_ROLE@127.0.0.1:$PG_PORT/$DB_NAME"
}

main() {
    local cmd=${1:-}
    case $cmd in
    start | stop | kill | status | url) ;;
    -h | --help | help)
        usage
        return 0
        ;;
    '')
        usage >&2
        exit 2
        ;;
    *)
        usage >&2
        die "unknown command '$cmd'"
        ;;
    esac
    check_settings
    if [[ $cmd == url ]]; then
        cmd_url
        return 0
    fi
    init_paths
    init_user
    # The server user may not be allowed into the caller's working directory.
    cd /
    "cmd_$cmd"
}

main "$@"
