#!/usr/bin/env bash
# A local single-node Apache Kafka 3.9.1 broker (KRaft, combined broker+controller) run
# from Maven Central jars with the machine's Java. No Docker needed.
#
#   infra/kafka.sh fetch    resolve the broker's jars (Maven) into the state dir
#   infra/kafka.sh start    fetch if needed, format storage once, start, wait until ready
#   infra/kafka.sh stop     SIGTERM (controlled shutdown), SIGKILL after 30 s
#   infra/kafka.sh kill     SIGKILL now (crash tests; `start` then reuses the same data)
#   infra/kafka.sh status   exit 0 if running, 3 if not
#   infra/kafka.sh logs [-f] [N]   last N (100) lines of the broker log, -f to follow
#
# Environment:
#   CAPITAL_INFRA_HOME              state dir (default <repo>/.infra)
#   CAPITAL_KAFKA_PORT              client listener on 127.0.0.1 (default 19092)
#   CAPITAL_KAFKA_CONTROLLER_PORT   KRaft controller listener (default 19093)
#   CAPITAL_KAFKA_START_TIMEOUT     seconds to wait for readiness (default 120)
#   CAPITAL_KAFKA_STOP_TIMEOUT      seconds between SIGTERM and SIGKILL (default 30)
#   CAPITAL_MAVEN_REPO              optional Maven local repository for `fetch`
#   PYTHON                          Python for infra/kafka_ready.py (default python3);
#                                   used only if it can `import kafka`
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
POM=$SCRIPT_DIR/kafka/pom.xml
LOG4J=$SCRIPT_DIR/kafka/log4j.properties
READY_PY=$SCRIPT_DIR/kafka_ready.py

STATE_DIR=${CAPITAL_INFRA_HOME:-$REPO_ROOT/.infra}
KAFKA_PORT=${CAPITAL_KAFKA_PORT:-19092}
CONTROLLER_PORT=${CAPITAL_KAFKA_CONTROLLER_PORT:-19093}
START_TIMEOUT=${CAPITAL_KAFKA_START_TIMEOUT:-120}
STOP_TIMEOUT=${CAPITAL_KAFKA_STOP_TIMEOUT:-30}
PYTHON=${PYTHON:-python3}

die() {
    echo "kafka.sh: error: $*" >&2
    exit 1
}

info() {
    echo "kafka.sh: $*"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

whole_number() {
    [[ $2 =~ ^[0-9]+$ ]] || die "$1 must be a whole number, got '$2'"
}

check_settings() {
    whole_number CAPITAL_KAFKA_PORT "$KAFKA_PORT"
    whole_number CAPITAL_KAFKA_CONTROLLER_PORT "$CONTROLLER_PORT"
    whole_number CAPITAL_KAFKA_START_TIMEOUT "$START_TIMEOUT"
    whole_number CAPITAL_KAFKA_STOP_TIMEOUT "$STOP_TIMEOUT"
    ((KAFKA_PORT > 0 && KAFKA_PORT < 65536)) || die "CAPITAL_KAFKA_PORT out of range: $KAFKA_PORT"
    ((CONTROLLER_PORT > 0 && CONTROLLER_PORT < 65536)) ||
        die "CAPITAL_KAFKA_CONTROLLER_PORT out of range: $CONTROLLER_PORT"
    ((KAFKA_PORT != CONTROLLER_PORT)) ||
        die "CAPITAL_KAFKA_PORT and CAPITAL_KAFKA_CONTROLLER_PORT must differ (both $KAFKA_PORT)"
}

# Absolute paths: Kafka wants an absolute log.dirs.
init_paths() {
    mkdir -p -- "$STATE_DIR" || die "cannot create state dir $STATE_DIR"
    STATE_DIR=$(cd -- "$STATE_DIR" && pwd -P)
    local pom_sha
    pom_sha=$(sha256sum "$POM" | cut -c1-16) || die "cannot hash $POM"
    LIB_DIR=$STATE_DIR/kafka-lib-$pom_sha
    DATA_DIR=$STATE_DIR/kafka-data
    LOG_DIR=$STATE_DIR/kafka-logs
    PID_FILE=$STATE_DIR/kafka.pid
    PROPS=$STATE_DIR/kafka-server.properties
    SERVER_LOG=$LOG_DIR/server.log
    STDOUT_LOG=$LOG_DIR/kafka.out
    OFFSET_FILE=$STATE_DIR/kafka.log-offset
}

# One start/stop/kill at a time per state dir (the broker itself must not inherit fd 9).
take_lock() {
    command -v flock >/dev/null 2>&1 || return 0
    exec 9>"$STATE_DIR/kafka.lock"
    flock -w 300 9 || die "another kafka.sh is busy with $STATE_DIR (lock $STATE_DIR/kafka.lock)"
}

require() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"
}

# ---------------------------------------------------------------------------- fetch

lib_complete() {
    local dir=$1 artifact
    [[ -f $dir/.complete ]] || return 1
    for artifact in kafka_2.13 kafka-server kafka-raft kafka-metadata kafka-clients \
        slf4j-reload4j reload4j; do
        compgen -G "$dir/$artifact-[0-9]*.jar" >/dev/null || return 1
    done
}

cmd_fetch() {
    if lib_complete "$LIB_DIR"; then
        info "jars already in $LIB_DIR ($(find "$LIB_DIR" -name '*.jar' | wc -l) jars)"
        return 0
    fi
    require mvn "install Maven (apt-get install -y maven)"
    local tmp started=$SECONDS artifact
    tmp=$(mktemp -d "$STATE_DIR/.kafka-lib-tmp.XXXXXX")
    chmod 755 "$tmp"
    # shellcheck disable=SC2064 # expand $tmp now
    trap "rm -rf -- '$tmp'" EXIT
    local -a mvn_args=(-q -B -Dstyle.color=never -f "$POM")
    if [[ -n ${CAPITAL_MAVEN_REPO:-} ]]; then
        mvn_args+=("-Dmaven.repo.local=$CAPITAL_MAVEN_REPO")
    fi
    info "resolving org.apache.kafka:kafka_2.13 runtime jars from Maven ($POM)"
    if ! mvn "${mvn_args[@]}" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
        tail -n 40 "$tmp.mvn.log" >&2
        rm -f -- "$tmp.mvn.log"
        die "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"
    fi
    rm -f -- "$tmp.mvn.log"
    for artifact in kafka-server kafka-raft kafka_2.13 kafka-clients slf4j-reload4j reload4j; do
        compgen -G "$tmp/$artifact-[0-9]*.jar" >/dev/null ||
            die "resolved jars lack $artifact-*.jar; check $POM"
    done
    touch "$tmp/.complete"
    rm -rf -- "$LIB_DIR"
    mv -- "$tmp" "$LIB_DIR"
    trap - EXIT
    info "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l) jars into $LIB_DIR in $((SECONDS - started)) s"
}

# ---------------------------------------------------------------------------- process

# Alive and not a zombie.
pid_alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r /proc/$pid/stat ]]; then
        state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
        [[ $state != Z ]] || return 1
    fi
}

# The pid in the pid file is alive and is our broker (not a recycled pid).
broker_pid() {
    local pid cmdline
    [[ -f $PID_FILE ]] || return 1
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    if [[ -r /proc/$pid/cmdline ]]; then
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    else
        cmdline=$(ps -ww -p "$pid" -o args= 2>/dev/null) || return 1
    fi
    [[ $cmdline == *kafka.Kafka* && $cmdline == *"$PROPS"* ]] || return 1
    echo "$pid"
}

port_open() {
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

show_log_tail() {
    local file
    for file in "$SERVER_LOG" "$STDOUT_LOG"; do
        if [[ -s $file ]]; then
            echo "----- last 40 lines of $file -----" >&2
            tail -n 40 "$file" >&2
        fi
    done
    echo "-----" >&2
}

log_size() {
    if [[ -f $SERVER_LOG ]]; then wc -c <"$SERVER_LOG" | tr -d ' '; else echo 0; fi
}

# Has the broker logged "Kafka Server started" since byte offset $1 of server.log?
started_in_log() {
    local offset=$1
    [[ -f $SERVER_LOG ]] || return 1
    # A smaller log means it rolled over since the start: search all of it.
    (($(log_size) >= offset)) || offset=0
    # Not `tail | grep -q`: grep quitting early would SIGPIPE tail and fail the pipeline.
    grep -q 'Kafka Server started' < <(tail -c "+$((offset + 1))" "$SERVER_LOG")
}

# ---------------------------------------------------------------------------- start

write_properties() {
    cat >"$PROPS.tmp" <<EOF
# Generated by infra/kafka.sh on every start: edit the script, not this file.
# Single node, KRaft combined mode, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
# One replica everywhere.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Topics are created on purpose (capital topics create), never by a typo.
auto.create.topics.enable=false
# Consumer groups form at once (tests).
group.initial.rebalance.delay.ms=0
# Small machine: few threads, a small cleaner buffer (the 128 MiB default comes out of
# the heap). The log cleaner stays on for compacted topics.
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.enable=true
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
EOF
    mv -- "$PROPS.tmp" "$PROPS"
}

java_base() {
    JAVA_CMD=(java -Dkafka.logs.dir="$LOG_DIR" -Dlog4j.configuration="file:$LOG4J"
        -cp "$LIB_DIR/*")
}

new_cluster_id() {
    # 16 random bytes, URL-safe base64 without padding (22 characters), like
    # `kafka-storage random-uuid`; never starting with '-' (it would parse as an option).
    local id
    while :; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        [[ $id == -* ]] || break
    done
    echo "$id"
}

format_if_needed() {
    if [[ -f $DATA_DIR/meta.properties ]]; then
        info "reusing formatted data dir $DATA_DIR (cluster $(sed -n 's/^cluster.id=//p' "$DATA_DIR/meta.properties"))"
        return 0
    fi
    local cluster_id
    cluster_id=$(new_cluster_id)
    info "formatting $DATA_DIR (cluster $cluster_id)"
    java_base
    if ! "${JAVA_CMD[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" -g \
        >"$LOG_DIR/format.out" 2>&1 9>&-; then
        cat "$LOG_DIR/format.out" >&2
        die "formatting $DATA_DIR failed"
    fi
    [[ -f $DATA_DIR/meta.properties ]] || {
        cat "$LOG_DIR/format.out" >&2
        die "format did not write $DATA_DIR/meta.properties"
    }
}

# Runs infra/kafka_ready.py with $PYTHON if it can import kafka. Returns its status.
readiness_check() {
    local timeout=$1 status=0
    if ! "$PYTHON" -c 'import kafka' >/dev/null 2>&1; then
        info "note: '$PYTHON' cannot import kafka (kafka-python); checked port and log only"
        return 0
    fi
    "$PYTHON" "$READY_PY" --bootstrap "127.0.0.1:$KAFKA_PORT" --timeout "$timeout" || status=$?
    if ((status == 2)); then
        info "note: readiness check unavailable with '$PYTHON' (needs kafka-python 3.x); checked port and log only"
        return 0
    fi
    return "$status"
}

# Wait until the process is alive, the port answers and the log says started.
wait_until_started() {
    local pid=$1 offset=$2 deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        if ! pid_alive "$pid"; then
            show_log_tail
            rm -f -- "$PID_FILE"
            die "broker (pid $pid) exited during start-up; see the log above"
        fi
        if port_open "$KAFKA_PORT" && started_in_log "$offset"; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail
            die "broker (pid $pid) not started after ${START_TIMEOUT} s (port $KAFKA_PORT answering: $(port_open "$KAFKA_PORT" && echo yes || echo no)); it is left running: 'infra/kafka.sh stop' to end it"
        fi
        sleep 1
    done
}

cmd_start() {
    local pid offset started=$SECONDS remaining
    take_lock
    if pid=$(broker_pid); then
        offset=0
        [[ -f $OFFSET_FILE ]] && offset=$(<"$OFFSET_FILE")
        wait_until_started "$pid" "$offset"
        if ! readiness_check 30; then
            show_log_tail
            die "broker (pid $pid) is running but not healthy"
        fi
        info "already running and healthy (pid $pid) at 127.0.0.1:$KAFKA_PORT"
        return 0
    fi
    rm -f -- "$PID_FILE"

    local port
    for port in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
        if port_open "$port"; then
            die "port $port on 127.0.0.1 is taken by another process (not the broker of $STATE_DIR); stop it or set CAPITAL_KAFKA_PORT / CAPITAL_KAFKA_CONTROLLER_PORT"
        fi
    done

    lib_complete "$LIB_DIR" || cmd_fetch
    require java "install Java 17 (apt-get install -y openjdk-17-jre-headless)"
    mkdir -p -- "$DATA_DIR" "$LOG_DIR"
    write_properties
    format_if_needed

    offset=$(log_size)
    echo "$offset" >"$OFFSET_FILE"
    java_base
    local -a launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    echo "=== $(date '+%Y-%m-%d %H:%M:%S') kafka.sh start" >>"$STDOUT_LOG"
    # Detached from this shell's session; fd 9 (the lock) is not inherited.
    "${launcher[@]}" "${JAVA_CMD[0]}" -Xms256m -Xmx512m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true "${JAVA_CMD[@]:1}" kafka.Kafka "$PROPS" \
        </dev/null >>"$STDOUT_LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
    info "started broker pid $pid on 127.0.0.1:$KAFKA_PORT (controller $CONTROLLER_PORT); waiting up to ${START_TIMEOUT} s"

    wait_until_started "$pid" "$offset"
    info "broker up: port answers and log says started ($((SECONDS - started)) s)"
    remaining=$((START_TIMEOUT - (SECONDS - started)))
    ((remaining >= 30)) || remaining=30
    if ! readiness_check "$remaining"; then
        show_log_tail
        die "broker (pid $pid) started but failed the readiness check; it is left running: 'infra/kafka.sh stop' to end it"
    fi
    info "ready at 127.0.0.1:$KAFKA_PORT in $((SECONDS - started)) s (state in $STATE_DIR)"
}

# ---------------------------------------------------------------------------- stop

wait_gone() {
    local pid=$1 seconds=$2 deadline
    deadline=$((SECONDS + seconds))
    while pid_alive "$pid"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

cmd_stop() {
    local pid
    take_lock
    if ! pid=$(broker_pid); then
        rm -f -- "$PID_FILE"
        info "not running"
        return 0
    fi
    info "stopping broker pid $pid (SIGTERM, controlled shutdown; SIGKILL after ${STOP_TIMEOUT} s)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
        info "still running after ${STOP_TIMEOUT} s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "broker pid $pid survived SIGKILL"
    fi
    rm -f -- "$PID_FILE"
    info "stopped"
}

cmd_kill() {
    local pid
    take_lock
    if ! pid=$(broker_pid); then
        rm -f -- "$PID_FILE"
        info "not running"
        return 0
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "broker pid $pid survived SIGKILL"
    rm -f -- "$PID_FILE"
    info "killed broker pid $pid (SIGKILL); data left as is in $DATA_DIR"
}

cmd_status() {
    local pid answering=no
    if pid=$(broker_pid); then
        port_open "$KAFKA_PORT" && answering=yes
        info "running (pid $pid), bootstrap 127.0.0.1:$KAFKA_PORT (answering: $answering), data $DATA_DIR"
        return 0
    fi
    info "not running (state dir $STATE_DIR)"
    return 3
}

cmd_logs() {
    local follow=() lines=100 arg
    for arg in "$@"; do
        case $arg in
        -f | --follow) follow=(-F) ;;
        *[!0-9]* | '') die "logs takes [-f] [N lines], got '$arg'" ;;
        *) lines=$arg ;;
        esac
    done
    [[ -f $SERVER_LOG ]] || die "no broker log yet ($SERVER_LOG); run 'infra/kafka.sh start'"
    tail -n "$lines" "${follow[@]}" "$SERVER_LOG"
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
    fetch | start | stop | kill | status | logs) ;;
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
    init_paths
    "cmd_$cmd" "$@"
}

main "$@"
