#!/usr/bin/env bash
# Real engines for Fabric's integration tests, on loopback, without Docker:
#   PostgreSQL (Debian package), Apache Kafka in KRaft mode (jars from Maven Central),
#   one etcd and several kube-apiservers + kube-controller-managers (built from Go modules).
# Usage: infra.sh up | down | env | status | cluster-up NAME | cluster-down NAME | build
#        | kafka-kill | kafka-up | postgres-restart [MODE]   (fault commands; a profile's engines only)
# FABRIC_INFRA_PROFILE=NAME selects a second, independent set of engines (own run dir, ports
# shifted by FABRIC_INFRA_PORT_OFFSET), sharing the cached binaries. See deploy/infra/README.md.
set -euo pipefail
# runuser (and the Postgres tools some distributions keep there) live in sbin, which a minimal PATH leaves out.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${FABRIC_INFRA_CACHE:-$HOME/.cache/fabric-infra}"
TIMEOUT="${FABRIC_INFRA_TIMEOUT:-120}"

KUBE_VERSION="${FABRIC_KUBE_VERSION:-v1.37.2}"
KAFKA_VERSION="${FABRIC_KAFKA_VERSION:-4.4.0}"
KUBE_BIN="$CACHE/bin/$KUBE_VERSION"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
OTELCOL_VERSION="${FABRIC_OTELCOL_VERSION:-v0.161.0}"
OTELCOL_BIN="$CACHE/bin/otelcol-$OTELCOL_VERSION/otelcol"

# Every port sits below Linux's ephemeral range (32768-60999): a port in it can be taken by a
# client's source port at any moment (an apiserver started mid-run failed to bind that way).
PG_PORT=14432
PG_USER=fabric
PG_PASSWORD=fabric
KAFKA_PORT=19092
KAFKA_CONTROLLER_PORT=19093
# The credentials suite's broker (SASL_SSL).
KAFKA_SECURE_PORT=29192
KAFKA_SECURE_CONTROLLER_PORT=29193
KAFKA_SECURE_MTLS_PORT=29194          # the same broker, a client certificate required
ETCD_PORT=12379
ETCD_PEER_PORT=12380
APISERVER_BASE_PORT=16443   # a=16443, b=16444, ... z=16468; longer names from 16470
APISERVER_EXTRA_BASE_PORT=16470
DEFAULT_CLUSTERS=(a b c)

NODE="${FABRIC_NODE:-$REPO/node_modules/.bin/node}"
export FABRIC_NODE_MODULES="${FABRIC_NODE_MODULES:-$REPO/node_modules}"

# ---------------------------------------------------------------------------------------------
# helpers

log() { printf '[infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[infra %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# Print the last lines of a log file to stderr (for failure reports).
tail_log() {
  local f="$1" n="${2:-40}"
  if [[ -f "$f" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf -- '----- end of %s -----\n' "$f" >&2
  else
    printf -- '(no log at %s)\n' "$f" >&2
  fi
}

fail_with_log() { local msg="$1" f="$2"; tail_log "$f" 60; die "$msg (log: $f)"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_port_free() {
  local port="$1" what="$2"
  if port_open "$port"; then
    local who=""
    command -v ss >/dev/null && who="$(ss -ltnpH "sport = :$port" 2>/dev/null | head -3 || true)"
    die "port $port (for $what) is already in use by a process that this run dir ($RUN) does not track${who:+: $who}. Stop it, or run 'infra.sh down' with the FABRIC_INFRA_RUN that started it."
  fi
}

# pid_alive PIDFILE EXPECTED-SUBSTRING-OF-CMDLINE
pid_alive() {
  local f="$1" expect="$2" pid cmd i
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  for ((i = 0; i < 20; i++)); do
    cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ -n "$cmd" ]] && break
    # Empty while the process is inside an exec (setsid becoming the command; seen as a
    # controller-manager called dead at its start), and for a zombie: ask again shortly.
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  grep -qF -- "$expect" <<< "$cmd"
}

# Start a long-running process in its own session, record its pid.
# spawn PIDFILE LOGFILE CMD...
spawn() {
  local pidfile="$1" logfile="$2"; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  printf '\n===== %s start: %s\n' "$(date -Is)" "$*" >> "$logfile"
  setsid "$@" >> "$logfile" 2>&1 < /dev/null &
  local pid=$! i
  # Until the forked shell has exec'd, /proc/PID/cmdline is this script's, and pid_alive (which
  # matches the command line) would call a process that is still starting dead.
  for ((i = 0; i < 100; i++)); do
    [[ -r "/proc/$pid/cmdline" ]] || break
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$1" && break
    sleep 0.05
  done
  echo "$pid" > "$pidfile"
}

# stop_pid PIDFILE EXPECTED NAME: SIGTERM, wait up to 30 s, then SIGKILL. Removes the pid file.
stop_pid() {
  local f="$1" expect="$2" name="$3" pid i
  if pid_alive "$f" "$expect"; then
    pid="$(cat "$f")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      # a zombie of ours counts as gone
      [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
      log "$name (pid $pid) did not exit in 30s; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

# wait_until SECONDS DESCRIPTION PIDFILE EXPECTED LOGFILE COMMAND...
# Polls COMMAND until it succeeds; fails early if the process died.
wait_until() {
  local secs="$1" what="$2" pidfile="$3" expect="$4" logfile="$5"; shift 5
  local deadline=$(( $(date +%s) + secs ))
  while true; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n "$pidfile" ]] && ! pid_alive "$pidfile" "$expect"; then
      fail_with_log "$what: the process exited before it became ready" "$logfile"
    fi
    if (( $(date +%s) >= deadline )); then
      fail_with_log "$what: not ready after ${secs}s" "$logfile"
    fi
    sleep 0.5
  done
}

check_node() {
  [[ -x "$NODE" ]] || die "Node 24 not found at $NODE (run 'npm ci' in $REPO first, or set FABRIC_NODE)"
  [[ -d "$FABRIC_NODE_MODULES/kafkajs" ]] || die "kafkajs is not installed in $FABRIC_NODE_MODULES (run 'npm ci' in $REPO first)"
}

# ---------------------------------------------------------------------------------------------
# profiles: the default set of engines (the one every suite shares), or another, independent set
# that a suite may kill and restart (tests/e2e/real/faults.real.test.ts uses "faults"). A profile
# has its own run dir, so its own data, pid files, certificates and tokens, and every port above
# (each NAME_PORT=number assigned at the top of this script) shifted by its offset.

PROFILE="${FABRIC_INFRA_PROFILE:-default}"

select_profile() {
  [[ "$PROFILE" =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "invalid FABRIC_INFRA_PROFILE '$PROFILE' (use lower-case letters, digits, '-')"
  local offset
  if [[ "$PROFILE" == default ]]; then
    RUN="${FABRIC_INFRA_RUN:-$CACHE/run}"
    offset="${FABRIC_INFRA_PORT_OFFSET:-0}"
  else
    # A profile owns its run dir: a FABRIC_INFRA_RUN exported for the default engines (by
    # eval "$(infra.sh env)") must never make a profile's 'down' or fault commands act on them.
    RUN="$CACHE/run-$PROFILE"
    offset="${FABRIC_INFRA_PORT_OFFSET:-1000}"
  fi
  [[ "$offset" =~ ^[0-9]{1,4}$ ]] && (( 10#$offset <= 3000 )) || die "FABRIC_INFRA_PORT_OFFSET=$offset is not a whole number from 0 to 3000 (every port stays below the ephemeral range)"
  offset=$(( 10#$offset ))
  [[ "$PROFILE" == default || "$offset" -ne 0 ]] || die "profile $PROFILE needs a FABRIC_INFRA_PORT_OFFSET other than 0 (the default engines use those ports)"
  # every port this script assigns at the top level (NAME_PORT=number), whoever added it
  local v
  for v in $(grep -oE '^[A-Z][A-Z0-9_]*_PORT=[0-9]+' "${BASH_SOURCE[0]}" | cut -d= -f1 | sort -u); do
    printf -v "$v" '%d' $(( ${!v} + offset ))
  done
  PORT_OFFSET="$offset"
}
select_profile

# The fault commands kill engines: never the default ones, which other suites use at that moment.
require_profile() {
  [[ "$PROFILE" != default ]] || die "'$1' kills or restarts an engine; the default engines are shared by every suite. Use a profile of your own: FABRIC_INFRA_PROFILE=faults infra.sh up, then FABRIC_INFRA_PROFILE=faults infra.sh $1"
}

# ---------------------------------------------------------------------------------------------
# artifacts (cached under $CACHE)

pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]] && echo "$d"
}

# apt-get install PACKAGE (as root), its output kept in the cache dir for a failure report.
apt_install() {
  local pkg="$1" l="$CACHE/apt-$1.log"
  log "installing Debian's $pkg package (apt-get)"
  mkdir -p "$CACHE"
  { DEBIAN_FRONTEND=noninteractive apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg"; } > "$l" 2>&1 \
    || fail_with_log "apt-get install $pkg failed" "$l"
}

ensure_postgres_pkg() {
  if [[ -n "$(pg_bindir)" ]]; then return 0; fi
  [[ $EUID -eq 0 ]] || die "PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin) and I am not root: run 'apt-get install -y postgresql'"
  apt_install postgresql
  [[ -n "$(pg_bindir)" ]] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
}

# Headless Chromium for the browser suite (tests/e2e/debug-ui.browser.real.test.ts drives /usr/bin/chromium).
ensure_chromium_pkg() {
  if [[ -x /usr/bin/chromium ]]; then return 0; fi
  [[ $EUID -eq 0 ]] || die "/usr/bin/chromium is missing and I am not root: run 'apt-get install -y chromium'"
  apt_install chromium
  [[ -x /usr/bin/chromium ]] || die "chromium installed but /usr/bin/chromium not found"
}

ensure_kafka_jars() {
  local lib="$KAFKA_HOME/lib"
  [[ -f "$KAFKA_HOME/.complete" ]] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka jars from Maven Central"
  command -v java >/dev/null || die "Java (17+) is needed to run Kafka"
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $lib"
  local t0; t0="$(now)"
  local l="$CACHE/kafka-$KAFKA_VERSION-mvn.log"
  rm -rf "$lib.tmp"; mkdir -p "$lib.tmp"
  (cd "$CACHE" && mvn -B -ntp -f "$HERE/kafka-pom.xml" -Dkafka.version="$KAFKA_VERSION" \
     dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib.tmp") > "$l" 2>&1 \
    || fail_with_log "mvn could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION" "$l"
  ls "$lib.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || fail_with_log "no kafka_2.13 jar after mvn" "$l"
  rm -rf "$lib"; mv "$lib.tmp" "$lib"
  touch "$KAFKA_HOME/.complete"
  log "kafka jars ready in $(since "$t0")s"
}

# build_from_go WHAT SCRIPT VERSION LOGNAME COLD-ESTIMATE: one cached build from Go modules, logged.
build_from_go() {
  local what="$1" script="$2" version="$3" l="$CACHE/build/$4.log" t0
  command -v go >/dev/null || die "Go is needed to build $what (not on PATH)"
  mkdir -p "$CACHE/build"
  t0="$(now)"
  log "building $what from Go modules (cold: $5 on 2 cores); log: $l"
  nice -n 5 bash "$HERE/$script" "$version" > "$l" 2>&1 || fail_with_log "building $what failed" "$l"
  log "built $what in $(since "$t0")s"
}

ensure_kube_bins() {
  [[ -x "$KUBE_BIN/kube-apiserver" && -x "$KUBE_BIN/kube-controller-manager" && -x "$KUBE_BIN/etcd" ]] && return 0
  build_from_go "kube-apiserver, kube-controller-manager $KUBE_VERSION and etcd" build-kube.sh "$KUBE_VERSION" "kube-$KUBE_VERSION" "10-20 min"
}

# The OpenTelemetry Collector the traces test starts itself (tests/support/otel-collector.ts).
ensure_otelcol_bin() {
  [[ -x "$OTELCOL_BIN" ]] && return 0
  build_from_go "the OpenTelemetry Collector $OTELCOL_VERSION (otlp receiver, file exporter)" build-otelcol.sh "$OTELCOL_VERSION" "otelcol-$OTELCOL_VERSION" "about 10 min"
}

etcd_version() { cat "$KUBE_BIN/etcd.version" 2>/dev/null || echo unknown; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL

PG_LINK="$RUN/postgres"

# The data directory must be reachable by the postgres user; $HOME (/root) usually is not,
# so as root the data lives under /var/lib/postgresql and $RUN/postgres links to it.
pg_dir() {
  if [[ -L "$PG_LINK" || -d "$PG_LINK" ]]; then readlink -f "$PG_LINK"; return; fi
  if [[ $EUID -ne 0 ]]; then echo "$PG_LINK"; return; fi
  echo "/var/lib/postgresql/fabric-infra-$(printf '%s' "$RUN" | md5sum | cut -c1-12)"
}

as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_ready() {
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=3 "$(pg_bindir)/psql" -X -q -At \
    "host=127.0.0.1 port=$PG_PORT user=$PG_USER dbname=postgres" -c 'select 1' 2>/dev/null | grep -qx 1
}

pg_running() {
  local d; d="$(pg_dir)"
  [[ -f "$d/data/postmaster.pid" ]] || return 1
  local pid; pid="$(head -1 "$d/data/postmaster.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF -- "$d/data"
}

start_postgres() {
  local bin d t0; bin="$(pg_bindir)"; d="$(pg_dir)"; t0="$(now)"
  if pg_running && pg_ready; then log "postgres already running on 127.0.0.1:$PG_PORT"; return 0; fi
  if pg_running; then
    die "postgres in $d is running but does not answer 'select 1' as $PG_USER on 127.0.0.1:$PG_PORT; run 'infra.sh down'"
  fi
  require_port_free "$PG_PORT" postgres
  mkdir -p "$RUN"
  if [[ ! -f "$d/data/PG_VERSION" ]]; then
    log "initdb postgres data in $d"
    rm -rf "$d"; mkdir -p "$d/data" "$d/sock"
    [[ "$d" == "$PG_LINK" ]] || ln -sfn "$d" "$PG_LINK"
    [[ $EUID -eq 0 ]] && chown -R postgres:postgres "$d"
    chmod 700 "$d/data"
    local pw="$d/pwfile"; printf '%s\n' "$PG_PASSWORD" > "$pw"; [[ $EUID -eq 0 ]] && chown postgres "$pw"
    as_pg "$bin/initdb" -D "$d/data" -U "$PG_USER" --pwfile="$pw" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 > "$d/initdb.log" 2>&1 \
      || fail_with_log "initdb failed" "$d/initdb.log"
    rm -f "$pw"
    cat >> "$d/data/postgresql.conf" <<EOF
# fabric-infra: a throw-away test server on loopback
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$d/sock'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    cat > "$d/data/pg_hba.conf" <<EOF
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
EOF
  fi
  as_pg "$bin/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t "$TIMEOUT" start > "$d/pg_ctl.log" 2>&1 \
    || { tail_log "$d/pg_ctl.log" 20; fail_with_log "postgres did not start" "$d/postgres.log"; }
  wait_until "$TIMEOUT" "postgres (select 1 on 127.0.0.1:$PG_PORT)" "" "" "$d/postgres.log" pg_ready
  log "postgres ready on 127.0.0.1:$PG_PORT in $(since "$t0")s"
  echo "postgres $(since "$t0")" >> "$RUN/timings"
}

stop_postgres() {
  local d; d="$(pg_dir)"
  if pg_running; then
    as_pg "$(pg_bindir)/pg_ctl" -D "$d/data" -m fast -w -t 60 stop > /dev/null 2>&1 \
      || log "pg_ctl stop failed; see $d/postgres.log"
    log "stopped postgres"
  fi
}

# ---------------------------------------------------------------------------------------------
# Kafka: the plain broker every suite shares, and the secure one (further below) of the
# credentials suite. Both are one KRaft node (broker + controller) with the same tuning.

KAFKA_DIR="$RUN/kafka"

kafka_probe() { "$NODE" --no-warnings "$HERE/kafka-ready.ts" "$@"; }
kafka_ready() { kafka_probe "127.0.0.1:$KAFKA_PORT" "${1:-5}"; }

# The settings both brokers share: one small, quick node. Printed after each one's listeners.
kafka_common_properties() {
  local dir="$1"
  cat <<EOF
process.roles=broker,controller
node.id=1
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.enable=true
log.cleaner.threads=1
log.cleaner.backoff.ms=1000
log.cleaner.dedupe.buffer.size=8388608
log.segment.bytes=16777216
EOF
}

# kafka_launch DIR NAME [FORMAT-ARG...]: with DIR/server.properties written, format the data dir
# (once; FORMAT-ARGs go to the storage tool) and start the broker in the background.
kafka_launch() {
  local dir="$1" name="$2" t0; shift 2; t0="$(now)"
  mkdir -p "$dir/data"
  cat > "$dir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
EOF
  local cp="$KAFKA_HOME/lib/*"
  local java=(java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData
              -Djava.awt.headless=true "-Dlog4j2.configurationFile=$dir/log4j2.properties"
              -Dkafka.logs.dir="$dir" -cp "$cp")
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local id; id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-22)"
    "${java[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" "$@" \
      > "$dir/format.log" 2>&1 || fail_with_log "$name storage format failed" "$dir/format.log"
  fi
  spawn "$dir/pid" "$dir/kafka.log" "${java[@]}" kafka.Kafka "$dir/server.properties"
  echo "$t0" > "$dir/started-at"
  log "$name $KAFKA_VERSION starting (pid $(cat "$dir/pid")), log: $dir/kafka.log"
}

# kafka_wait DIR NAME PROBE...: after kafka_launch, wait until `PROBE SECONDS` succeeds, then warm
# the broker up (`PROBE SECONDS --warm`: the group coordinator and a producer id exist before the
# first test needs them).
kafka_wait() {
  local dir="$1" name="$2"; shift 2
  [[ -f "$dir/started-at" ]] || return 0
  local t0; t0="$(cat "$dir/started-at")"
  wait_until "$TIMEOUT" "$name (kafkajs describeCluster)" "$dir/pid" "$dir/server.properties" "$dir/kafka.log" "$@" 5
  "$@" "$TIMEOUT" --warm > "$dir/warm.log" 2>&1 \
    || { tail_log "$dir/warm.log" 10; fail_with_log "$name warm-up (group coordinator, idempotent producer id) failed" "$dir/kafka.log"; }
  rm -f "$dir/started-at"
  log "$name ready in $(since "$t0")s"
  echo "$name $(since "$t0")" >> "$RUN/timings"
}

start_kafka() {
  if pid_alive "$KAFKA_DIR/pid" kafka.Kafka && kafka_ready 5 >/dev/null 2>&1; then
    rm -f "$KAFKA_DIR/started-at"
    log "kafka already running on 127.0.0.1:$KAFKA_PORT"; return 0
  fi
  stop_pid "$KAFKA_DIR/pid" kafka.Kafka kafka
  require_port_free "$KAFKA_PORT" kafka; require_port_free "$KAFKA_CONTROLLER_PORT" "kafka controller"
  mkdir -p "$KAFKA_DIR"
  { cat <<EOF
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
EOF
    kafka_common_properties "$KAFKA_DIR"; } > "$KAFKA_DIR/server.properties"
  kafka_launch "$KAFKA_DIR" kafka
}

wait_kafka() { kafka_wait "$KAFKA_DIR" kafka kafka_probe "127.0.0.1:$KAFKA_PORT"; }

# ---------------------------------------------------------------------------------------------
# Credentials on the engines (tests/e2e/real/credentials.real.test.ts): a CA and certificates; a
# second Kafka broker, its own KRaft node, with a SASL_SSL listener, SCRAM users and the KRaft ACL
# authorizer; TLS on the PostgreSQL server, turned on by a reload (plaintext keeps working).

TLS_DIR="$RUN/tls"
KAFKA_SECURE_DIR="$RUN/kafka-secure"

# The secure broker's SCRAM users (each with SCRAM-SHA-256 and -512): the super user the tests
# create their run's ACLs with, the management side's user, one user per daemon. No user has an
# ACL until a test grants one (tests/support/secure-engines.ts, on the run's topic prefix).
secure_kafka_users() {
  local n
  printf '%s\n' admin fabric-rpc
  for n in "${DEFAULT_CLUSTERS[@]}"; do printf 'fabric-daemon-%s\n' "$n"; done
}

password_var() { printf 'FABRIC_SECURE_KAFKA_PASSWORD_%s' "$(tr 'a-z-' 'A-Z_' <<< "$1")"; }

# tls_ca NAME CN: a self-signed CA (EC P-256: generated in milliseconds).
tls_ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$TLS_DIR/$1.key" -out "$TLS_DIR/$1.crt" 2>/dev/null || die "openssl could not create the CA $1"
}

# tls_cert NAME CA CN EXTENDED-KEY-USAGE [SUBJECT-ALT-NAMES]: a key and a certificate signed by CA.
tls_cert() {
  local name="$1" ca="$2" cn="$3" usage="$4" san="${5:-}" ext="$TLS_DIR/$1.ext"
  { echo "basicConstraints=critical,CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"; [[ -z "$san" ]] || echo "subjectAltName=$san"; } > "$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
    -keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.csr" 2>/dev/null \
    && openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/$ca.crt" -CAkey "$TLS_DIR/$ca.key" -CAcreateserial \
         -days 825 -sha256 -extfile "$ext" -out "$TLS_DIR/$name.crt" 2>/dev/null \
    || die "openssl could not issue the certificate $name"
  rm -f "$TLS_DIR/$name.csr" "$ext"
}

# Created once per run dir. The Kafka certificate names 127.0.0.1 (the address the broker
# advertises) and localhost; the Postgres one names only localhost, so verify-full to 127.0.0.1
# is the tests' wrong host name. other-ca signs nothing a server uses: the tests' wrong CA.
ensure_tls() {
  [[ -f "$TLS_DIR/.complete" ]] && return 0
  command -v openssl >/dev/null || die "openssl is needed to create the test engines' certificates"
  rm -rf "$TLS_DIR"; mkdir -p "$TLS_DIR"; chmod 700 "$TLS_DIR"
  tls_ca ca "fabric-infra test CA"
  tls_ca other-ca "fabric-infra unrelated CA"
  # clientAuth too: the broker is its own inter-broker client on that listener
  tls_cert kafka ca localhost serverAuth,clientAuth "IP:127.0.0.1,DNS:localhost"
  tls_cert postgres ca localhost serverAuth "DNS:localhost"
  tls_cert client ca fabric-client clientAuth
  tls_cert other-client other-ca fabric-client clientAuth
  chmod 600 "$TLS_DIR"/*.key
  touch "$TLS_DIR/.complete"
}

# The probe as the secure broker's super user, with Fabric's own settings.
kafka_secure_probe() {
  env FABRIC_KAFKA_SASL_MECHANISM=scram-sha-512 FABRIC_KAFKA_SASL_USERNAME=admin \
    FABRIC_KAFKA_SASL_PASSWORD_FILE="$KAFKA_SECURE_DIR/users/admin" FABRIC_KAFKA_TLS=1 FABRIC_KAFKA_TLS_CA_FILE="$TLS_DIR/ca.crt" \
    "$NODE" --no-warnings "$HERE/kafka-ready.ts" "127.0.0.1:$KAFKA_SECURE_PORT" "$@"
}

# The secure broker's settings (its users' passwords and the keystore's are created once).
secure_kafka_properties() {
  local d="$KAFKA_SECURE_DIR" admin controller scram_login="org.apache.kafka.common.security.scram.ScramLoginModule required"
  admin="$(cat "$d/users/admin")"; controller="$(cat "$d/users/controller")"
  cat <<EOF
controller.quorum.voters=1@127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT
listeners=SECURE://127.0.0.1:$KAFKA_SECURE_PORT,MTLS://127.0.0.1:$KAFKA_SECURE_MTLS_PORT,CONTROLLER://127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT
advertised.listeners=SECURE://127.0.0.1:$KAFKA_SECURE_PORT,MTLS://127.0.0.1:$KAFKA_SECURE_MTLS_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SECURE
listener.security.protocol.map=SECURE:SASL_SSL,MTLS:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
# clients: SCRAM over TLS on SECURE; on MTLS the same, and a client certificate from the CA is required
listener.name.secure.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.secure.scram-sha-256.sasl.jaas.config=$scram_login;
listener.name.secure.scram-sha-512.sasl.jaas.config=$scram_login username="admin" password="$admin";
listener.name.mtls.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.mtls.scram-sha-256.sasl.jaas.config=$scram_login;
listener.name.mtls.scram-sha-512.sasl.jaas.config=$scram_login;
listener.name.mtls.ssl.client.auth=required
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
ssl.keystore.type=PKCS12
ssl.keystore.location=$d/keystore.p12
ssl.keystore.password=$(cat "$d/keystore.password")
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
# the controller listener (this node talking to itself): PLAIN with a static user, as SCRAM
# credentials live in the metadata the controller serves
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller" user_controller="$controller";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:controller
allow.everyone.if.no.acl.found=false
EOF
  kafka_common_properties "$d"
}

# Idempotent: a running broker is left alone unless its settings changed (then it restarts on its data).
start_kafka_secure() {
  local d="$KAFKA_SECURE_DIR" u m scram=()
  mkdir -p "$d/users"; chmod 700 "$d"
  for u in $(secure_kafka_users) controller; do [[ -f "$d/users/$u" ]] || openssl rand -hex 24 > "$d/users/$u"; done
  [[ -f "$d/keystore.password" ]] || openssl rand -hex 16 > "$d/keystore.password"
  ( umask 077; secure_kafka_properties > "$d/server.properties.next" )
  if pid_alive "$d/pid" "$d/server.properties" && cmp -s "$d/server.properties.next" "$d/server.properties" && kafka_secure_probe 5 >/dev/null 2>&1; then
    rm -f "$d/started-at" "$d/server.properties.next"
    log "secure kafka already running on 127.0.0.1:$KAFKA_SECURE_PORT"; return 0
  fi
  stop_pid "$d/pid" "$d/server.properties" "secure kafka"
  require_port_free "$KAFKA_SECURE_PORT" "secure kafka"; require_port_free "$KAFKA_SECURE_MTLS_PORT" "secure kafka (mutual TLS)"
  require_port_free "$KAFKA_SECURE_CONTROLLER_PORT" "secure kafka controller"
  # SCRAM users exist from the format on (KIP-900); a formatted node keeps the ones it had.
  if [[ -f "$d/data/meta.properties" && "$(cat "$d/scram-users" 2>/dev/null)" != "$(secure_kafka_users)" ]]; then
    die "the secure broker in $d was formatted with other SCRAM users; remove $d (or run 'infra.sh down') to format it again"
  fi
  openssl pkcs12 -export -in "$TLS_DIR/kafka.crt" -inkey "$TLS_DIR/kafka.key" -certfile "$TLS_DIR/ca.crt" -name kafka \
    -passout "file:$d/keystore.password" -out "$d/keystore.p12" || die "openssl could not write the secure broker's keystore"
  mv -f "$d/server.properties.next" "$d/server.properties"
  for u in $(secure_kafka_users); do
    for m in SCRAM-SHA-256 SCRAM-SHA-512; do scram+=(--add-scram "$m=[name=$u,password=$(cat "$d/users/$u")]"); done
  done
  [[ -f "$d/data/meta.properties" ]] || secure_kafka_users > "$d/scram-users"
  kafka_launch "$d" "secure kafka" "${scram[@]}"
}

wait_kafka_secure() { kafka_wait "$KAFKA_SECURE_DIR" "secure kafka" kafka_secure_probe; }

pg_tls_ready() {
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=3 "$(pg_bindir)/psql" -X -q -At \
    "host=localhost port=$PG_PORT user=$PG_USER dbname=postgres sslmode=verify-full sslrootcert=$TLS_DIR/ca.crt" \
    -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' 2>/dev/null | grep -qx t
}

# TLS on the running server, whoever started it: the certificate in the data dir, ssl = on in a
# file of its own, and a reload (the ssl settings are reloadable). pg_hba's `host` lines match
# TLS and plaintext connections alike, so every other client goes on as before.
pg_enable_tls() {
  local d t0; d="$(pg_dir)"; t0="$(now)"
  if [[ -f "$d/data/fabric-tls.conf" ]] && pg_tls_ready; then log "postgres TLS already on (verify-full for localhost)"; return 0; fi
  cp "$TLS_DIR/postgres.crt" "$d/data/fabric-tls.crt"; cp "$TLS_DIR/postgres.key" "$d/data/fabric-tls.key"
  chmod 600 "$d/data/fabric-tls.key"
  [[ $EUID -ne 0 ]] || chown postgres:postgres "$d/data/fabric-tls.crt" "$d/data/fabric-tls.key"
  printf "ssl = on\nssl_cert_file = 'fabric-tls.crt'\nssl_key_file = 'fabric-tls.key'\n" > "$d/data/fabric-tls.conf"
  [[ $EUID -ne 0 ]] || chown postgres:postgres "$d/data/fabric-tls.conf"
  grep -qxF "include_if_exists = 'fabric-tls.conf'" "$d/data/postgresql.conf" \
    || echo "include_if_exists = 'fabric-tls.conf'" >> "$d/data/postgresql.conf"
  PGPASSWORD="$PG_PASSWORD" "$(pg_bindir)/psql" -X -q -At "host=127.0.0.1 port=$PG_PORT user=$PG_USER dbname=postgres" \
    -c 'select pg_reload_conf()' > /dev/null || die "postgres: pg_reload_conf() failed"
  wait_until 30 "postgres TLS (verify-full for localhost:$PG_PORT after the reload)" "" "" "$d/postgres.log" pg_tls_ready
  log "postgres TLS on in $(since "$t0")s"
  echo "postgres-tls $(since "$t0")" >> "$RUN/timings"
}

# ---------------------------------------------------------------------------------------------
# etcd

ETCD_DIR="$RUN/etcd"

etcd_ready() { curl -fsS -m 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }

start_etcd() {
  local t0; t0="$(now)"
  if pid_alive "$ETCD_DIR/pid" "$KUBE_BIN/etcd" && etcd_ready; then
    log "etcd already running on 127.0.0.1:$ETCD_PORT"; return 0
  fi
  stop_pid "$ETCD_DIR/pid" "$KUBE_BIN/etcd" etcd
  require_port_free "$ETCD_PORT" etcd; require_port_free "$ETCD_PEER_PORT" "etcd peer"
  mkdir -p "$ETCD_DIR/data"; chmod 700 "$ETCD_DIR/data"
  spawn "$ETCD_DIR/pid" "$ETCD_DIR/etcd.log" "$KUBE_BIN/etcd" \
    --name fabric --data-dir "$ETCD_DIR/data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "fabric=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
  wait_until "$TIMEOUT" "etcd (/health on 127.0.0.1:$ETCD_PORT)" "$ETCD_DIR/pid" "$KUBE_BIN/etcd" "$ETCD_DIR/etcd.log" etcd_ready
  log "etcd $(etcd_version) ready on 127.0.0.1:$ETCD_PORT in $(since "$t0")s"
  echo "etcd $(since "$t0")" >> "$RUN/timings"
}

# ---------------------------------------------------------------------------------------------
# kube-apiserver + kube-controller-manager per cluster

valid_name() { [[ "$1" =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "invalid cluster name '$1' (use lower-case letters, digits, '-')"; }

cluster_dir() { echo "$RUN/kube/$1"; }

cluster_port() {
  local name="$1" d; d="$(cluster_dir "$name")"
  if [[ -f "$d/port" ]]; then cat "$d/port"; return; fi
  if [[ "$name" =~ ^[a-z]$ ]]; then
    echo $(( APISERVER_BASE_PORT + $(printf '%d' "'$name") - 97 )); return
  fi
  local p=$APISERVER_EXTRA_BASE_PORT used
  used="$(cat "$RUN"/kube/*/port 2>/dev/null || true)"
  while grep -qx "$p" <<< "$used"; do p=$((p + 1)); done
  echo "$p"
}

token_var() { printf 'FABRIC_DAEMON_TOKEN_%s' "$(tr 'a-z-' 'A-Z_' <<< "$1")"; }

# Certificates, service-account keys, tokens: created once, kept across cluster-down/up.
prepare_cluster() {
  local name="$1" d port; d="$(cluster_dir "$name")"; port="$(cluster_port "$name")"
  mkdir -p "$d/certs"; chmod 700 "$d"
  [[ -f "$d/port" ]] || echo "$port" > "$d/port"
  if [[ ! -f "$d/sa.key" ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/sa.key" 2>/dev/null \
      || die "openssl could not create the service-account key for cluster $name"
    openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  fi
  if [[ ! -f "$d/tokens.csv" ]]; then
    openssl rand -hex 24 > "$d/admin.token"
    openssl rand -hex 24 > "$d/daemon.token"
    # token,user,uid,"groups"
    {
      printf '%s,fabric-admin,fabric-admin,"system:masters"\n' "$(cat "$d/admin.token")"
      printf '%s,fabric-daemon,fabric-daemon\n' "$(cat "$d/daemon.token")"
    } > "$d/tokens.csv"
    chmod 600 "$d/tokens.csv" "$d/admin.token" "$d/daemon.token"
  fi
}

apiserver_ready() {
  local d="$1" port="$2"
  [[ -f "$d/certs/apiserver.crt" ]] || return 1
  [[ "$(curl -sS -m 3 -o /dev/null -w '%{http_code}' --cacert "$d/certs/apiserver.crt" \
        -H "Authorization: Bearer $(cat "$d/admin.token")" "https://127.0.0.1:$port/readyz")" == 200 ]]
}

write_kubeconfig() {
  local name="$1" user="$2" token="$3" out="$4" port ca
  port="$(cluster_port "$name")"
  ca="$(base64 -w0 < "$(cluster_dir "$name")/certs/apiserver.crt")"
  cat > "$out.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: "$name"
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $ca
users:
- name: "$name-$user"
  user:
    token: $token
contexts:
- name: "$name"
  context:
    cluster: "$name"
    user: "$name-$user"
current-context: "$name"
EOF
  chmod 600 "$out.tmp"; mv -f "$out.tmp" "$out"
}

# Server-side apply of one JSON object with the admin token.
kube_apply() {
  local d="$1" port="$2" path="$3" file="$4" code
  code="$(curl -sS -m 10 -o "$d/apply.out" -w '%{http_code}' --cacert "$d/certs/apiserver.crt" \
    -H "Authorization: Bearer $(cat "$d/admin.token")" -H 'Content-Type: application/apply-patch+yaml' \
    -X PATCH --data-binary @"$file" "https://127.0.0.1:$port$path?fieldManager=fabric-infra&force=true")" || code=000
  [[ "$code" == 200 || "$code" == 201 ]] || { cat "$d/apply.out" >&2 || true; die "applying $file to cluster at :$port failed (HTTP $code)"; }
}

apply_rbac() {
  local name="$1" d port; d="$(cluster_dir "$name")"; port="$(cluster_port "$name")"
  # The daemon's role is the one the Kubernetes manifests install (one file, no copy to drift).
  kube_apply "$d" "$port" /apis/rbac.authorization.k8s.io/v1/clusterroles/fabric-daemon "$REPO/deploy/kubernetes/member/daemon-clusterrole.yaml"
  kube_apply "$d" "$port" /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fabric-daemon "$HERE/daemon-clusterrolebinding.json"
}

start_apiserver() {
  local name="$1" d port; d="$(cluster_dir "$name")"
  prepare_cluster "$name"; port="$(cluster_port "$name")"
  if pid_alive "$d/apiserver.pid" "--etcd-prefix=/clusters/$name " && apiserver_ready "$d" "$port"; then
    rm -f "$d/started-at"
    log "kube-apiserver $name already running on https://127.0.0.1:$port"; return 0
  fi
  stop_pid "$d/apiserver.pid" "--etcd-prefix=/clusters/$name " "kube-apiserver $name"
  require_port_free "$port" "kube-apiserver $name"
  now > "$d/started-at"
  spawn "$d/apiserver.pid" "$d/apiserver.log" "$KUBE_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" --etcd-prefix="/clusters/$name" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" \
    --cert-dir="$d/certs" \
    --service-account-issuer="https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file="$d/sa.pub" --service-account-signing-key-file="$d/sa.key" \
    --token-auth-file="$d/tokens.csv" \
    --authorization-mode=RBAC \
    --service-cluster-ip-range=10.0.0.0/24 \
    --disable-admission-plugins=ServiceAccount \
    --endpoint-reconciler-type=none \
    --profiling=false
  log "kube-apiserver $name starting on https://127.0.0.1:$port (pid $(cat "$d/apiserver.pid")), log: $d/apiserver.log"
}

wait_apiserver() {
  local name="$1" d port t0; d="$(cluster_dir "$name")"; port="$(cluster_port "$name")"
  wait_until "$TIMEOUT" "kube-apiserver $name (/readyz on https://127.0.0.1:$port)" \
    "$d/apiserver.pid" "--etcd-prefix=/clusters/$name " "$d/apiserver.log" apiserver_ready "$d" "$port"
  write_kubeconfig "$name" admin "$(cat "$d/admin.token")" "$d/admin.kubeconfig"
  write_kubeconfig "$name" daemon "$(cat "$d/daemon.token")" "$d/daemon.kubeconfig"
  apply_rbac "$name"
  if [[ -f "$d/started-at" ]]; then
    t0="$(cat "$d/started-at")"; rm -f "$d/started-at"
    log "kube-apiserver $name ready on https://127.0.0.1:$port in $(since "$t0")s"
    echo "apiserver-$name $(since "$t0")" >> "$RUN/timings"
  fi
}

start_controller_manager() {
  local name="$1" d; d="$(cluster_dir "$name")"
  if pid_alive "$d/controller-manager.pid" "$d/admin.kubeconfig"; then return 0; fi
  local lines=0
  [[ -f "$d/controller-manager.log" ]] && lines="$(wc -l < "$d/controller-manager.log")"
  spawn "$d/controller-manager.pid" "$d/controller-manager.log" "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$d/admin.kubeconfig" --controllers=namespace --leader-elect=false \
    --secure-port=0 --profiling=false
  # ready once this start's log shows the namespace controller's informer caches synced
  kcm_started() { tail -n "+$((lines + 1))" "$d/controller-manager.log" | grep -q 'Caches are synced'; }
  wait_until "$TIMEOUT" "kube-controller-manager $name (namespace controller)" \
    "$d/controller-manager.pid" "$d/admin.kubeconfig" "$d/controller-manager.log" kcm_started
  log "kube-controller-manager $name (namespace controller) running (pid $(cat "$d/controller-manager.pid"))"
}

stop_cluster() {
  local name="$1" d; d="$(cluster_dir "$name")"
  stop_pid "$d/controller-manager.pid" "$d/admin.kubeconfig" "kube-controller-manager $name"
  stop_pid "$d/apiserver.pid" "--etcd-prefix=/clusters/$name " "kube-apiserver $name"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_build() {
  ensure_postgres_pkg
  ensure_kafka_jars
  ensure_kube_bins
  ensure_otelcol_bin
}

on_up_exit() {
  local rc="$1"
  [[ "$rc" -eq 0 ]] || log "failed (exit $rc); processes already started keep running and are tracked in $RUN: 'infra.sh down' stops them"
}

cmd_up() {
  local t0 n; t0="$(now)"
  trap 'on_up_exit $?' EXIT
  check_node
  cmd_build
  ensure_chromium_pkg
  mkdir -p "$RUN"
  : > "$RUN/timings"
  start_etcd
  start_kafka
  ensure_tls
  start_kafka_secure
  for n in "${DEFAULT_CLUSTERS[@]}"; do start_apiserver "$n"; done
  start_postgres
  pg_enable_tls
  wait_kafka
  wait_kafka_secure
  for n in "${DEFAULT_CLUSTERS[@]}"; do wait_apiserver "$n"; start_controller_manager "$n"; done
  echo "up-total $(since "$t0")" >> "$RUN/timings"
  log "all engines ready in $(since "$t0")s (kubernetes $KUBE_VERSION, etcd $(etcd_version), kafka $KAFKA_VERSION, postgres $(basename "$(dirname "$(pg_bindir)")")). Use: eval \"\$(bash $HERE/infra.sh env)\""
}

cmd_cluster_up() {
  local name="${1:?usage: infra.sh cluster-up NAME}"; valid_name "$name"
  local t0; t0="$(now)"
  trap 'on_up_exit $?' EXIT
  ensure_kube_bins
  mkdir -p "$RUN"; touch "$RUN/timings"
  start_etcd
  start_apiserver "$name"
  wait_apiserver "$name"
  start_controller_manager "$name"
  local d; d="$(cluster_dir "$name")"
  log "cluster $name ready in $(since "$t0")s: $d/daemon.kubeconfig, $d/admin.kubeconfig"
}

cmd_cluster_down() {
  local name="${1:?usage: infra.sh cluster-down NAME}"; valid_name "$name"
  [[ -d "$(cluster_dir "$name")" ]] || die "no cluster '$name' in $RUN/kube"
  stop_cluster "$name"
  log "cluster $name stopped (its etcd data, certs and tokens are kept; 'cluster-up $name' brings it back)"
}

cmd_down() {
  local d
  for d in "$RUN"/kube/*/; do
    [[ -d "$d" ]] && stop_cluster "$(basename "$d")"
  done
  stop_pid "$ETCD_DIR/pid" "$KUBE_BIN/etcd" etcd
  stop_pid "$KAFKA_DIR/pid" kafka.Kafka kafka
  stop_pid "$KAFKA_SECURE_DIR/pid" "$KAFKA_SECURE_DIR/server.properties" "secure kafka"
  if [[ -n "$(pg_bindir)" ]]; then stop_postgres; fi
  # remove all runtime state so the next 'up' starts fresh
  local pgd; pgd="$(pg_dir)"
  case "$RUN" in ""|/|"$HOME"|"$HOME/") die "refusing to remove run dir '$RUN'";; esac
  if [[ -d "$pgd" && "$pgd" == /var/lib/postgresql/fabric-infra-* ]]; then rm -rf "$pgd"; fi
  rm -rf "$RUN"
  log "down: all stopped, $RUN removed"
}

# ---------------------------------------------------------------------------------------------
# fault commands (a profile's engines only; the fault suite calls them)

# SIGKILL the broker (no shutdown, no flush) and wait until it is gone; its data dir is kept.
cmd_kafka_kill() {
  require_profile kafka-kill
  local pid i
  pid_alive "$KAFKA_DIR/pid" kafka.Kafka || die "kafka of profile $PROFILE is not running"
  pid="$(cat "$KAFKA_DIR/pid")"
  kill -KILL "$pid"
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && break
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null || [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] || die "kafka (pid $pid) still alive after SIGKILL"
  # The JVM's main thread shows as a zombie while its other threads still exit, and the sockets
  # close with the last of them: gone means the ports are free too.
  for ((i = 0; i < 300; i++)); do
    port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT" || break
    sleep 0.1
  done
  ! port_open "$KAFKA_PORT" && ! port_open "$KAFKA_CONTROLLER_PORT" || die "kafka (pid $pid) killed, but its ports are still open after 30s"
  rm -f "$KAFKA_DIR/pid"
  log "kafka (pid $pid) killed with SIGKILL"
}

# Start the broker again on its kept data and wait until a client is served.
cmd_kafka_up() {
  require_profile kafka-up
  check_node
  start_kafka
  wait_kafka
}

# pg_ctl restart with MODE (immediate: no checkpoint, crash recovery at start; fast; smart).
cmd_postgres_restart() {
  require_profile postgres-restart
  local mode="${1:-immediate}" d t0; d="$(pg_dir)"; t0="$(now)"
  [[ "$mode" =~ ^(immediate|fast|smart)$ ]] || die "postgres-restart MODE is immediate, fast or smart, not '$mode'"
  pg_running || die "postgres of profile $PROFILE is not running"
  as_pg "$(pg_bindir)/pg_ctl" -D "$d/data" -l "$d/postgres.log" -m "$mode" -w -t "$TIMEOUT" restart > "$d/pg_ctl.log" 2>&1 \
    || { tail_log "$d/pg_ctl.log" 20; fail_with_log "postgres did not restart" "$d/postgres.log"; }
  wait_until "$TIMEOUT" "postgres (select 1 on 127.0.0.1:$PG_PORT)" "" "" "$d/postgres.log" pg_ready
  log "postgres restarted ($mode) on 127.0.0.1:$PG_PORT in $(since "$t0")s"
}

cmd_env() {
  local n d admins=() daemons=()
  [[ -d "$RUN/kube" ]] || die "nothing in $RUN; run 'infra.sh up' first"
  for n in "${DEFAULT_CLUSTERS[@]}"; do
    d="$(cluster_dir "$n")"
    [[ -f "$d/daemon.kubeconfig" ]] || die "no kubeconfig for cluster $n in $d; run 'infra.sh up' first"
    daemons+=("$d/daemon.kubeconfig"); admins+=("$d/admin.kubeconfig")
  done
  local IFS=,
  [[ "$PROFILE" == default ]] || echo "export FABRIC_INFRA_PROFILE='$PROFILE'"
  echo "export FABRIC_INFRA_RUN='$RUN'"
  echo "export DATABASE_URL='postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres'"
  echo "export KAFKA_BROKERS='127.0.0.1:$KAFKA_PORT'"
  echo "export FABRIC_KUBECONFIGS='${daemons[*]}'"
  echo "export FABRIC_ADMIN_KUBECONFIGS='${admins[*]}'"
  unset IFS
  for d in "$RUN"/kube/*/; do
    n="$(basename "$d")"
    [[ -f "$d/daemon.token" ]] && echo "export $(token_var "$n")='$(cat "$d/daemon.token")'"
  done
  env_secure
  return 0
}

# The credentials suite's engines: the secure broker, its users' passwords, the CA files.
env_secure() {
  local u
  [[ -f "$TLS_DIR/.complete" ]] || return 0
  echo "export FABRIC_INFRA_CA_FILE='$TLS_DIR/ca.crt'"
  echo "export FABRIC_INFRA_OTHER_CA_FILE='$TLS_DIR/other-ca.crt'"
  echo "export FABRIC_INFRA_CLIENT_CERT_FILE='$TLS_DIR/client.crt'"
  echo "export FABRIC_INFRA_CLIENT_KEY_FILE='$TLS_DIR/client.key'"
  echo "export FABRIC_INFRA_OTHER_CLIENT_CERT_FILE='$TLS_DIR/other-client.crt'"
  echo "export FABRIC_INFRA_OTHER_CLIENT_KEY_FILE='$TLS_DIR/other-client.key'"
  echo "export FABRIC_TLS_DATABASE_URL='postgres://$PG_USER:$PG_PASSWORD@localhost:$PG_PORT/postgres?sslmode=verify-full&sslrootcert=$TLS_DIR/ca.crt'"
  [[ -f "$KAFKA_SECURE_DIR/users/admin" ]] || return 0
  echo "export FABRIC_SECURE_KAFKA_BROKERS='127.0.0.1:$KAFKA_SECURE_PORT'"
  echo "export FABRIC_SECURE_KAFKA_MTLS_BROKERS='127.0.0.1:$KAFKA_SECURE_MTLS_PORT'"
  for u in $(secure_kafka_users); do echo "export $(password_var "$u")='$(cat "$KAFKA_SECURE_DIR/users/$u")'"; done
}

cmd_status() {
  local rc=0 d n port
  printf 'profile: %s (ports +%s)\n' "$PROFILE" "$PORT_OFFSET"
  printf 'run dir: %s\n' "$RUN"
  printf 'versions: kubernetes %s, etcd %s, kafka %s\n' "$KUBE_VERSION" "$(etcd_version)" "$KAFKA_VERSION"
  st() { if "$@" >/dev/null 2>&1; then echo up; else echo DOWN; rc=1; fi; }
  printf '%-28s %-6s %s\n' postgres "$( [[ -n "$(pg_bindir)" ]] && st pg_ready || echo DOWN)" "127.0.0.1:$PG_PORT"
  printf '%-28s %-6s %s\n' kafka "$(st pid_alive "$KAFKA_DIR/pid" kafka.Kafka)" "127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  printf '%-28s %-6s %s\n' "kafka secure" "$(st pid_alive "$KAFKA_SECURE_DIR/pid" "$KAFKA_SECURE_DIR/server.properties")" "127.0.0.1:$KAFKA_SECURE_PORT SASL_SSL, $KAFKA_SECURE_MTLS_PORT + client cert (controller $KAFKA_SECURE_CONTROLLER_PORT)"
  printf '%-28s %-6s %s\n' "postgres TLS" "$( [[ -n "$(pg_bindir)" && -f "$TLS_DIR/ca.crt" ]] && st pg_tls_ready || echo DOWN)" "localhost:$PG_PORT verify-full"
  printf '%-28s %-6s %s\n' etcd "$(st etcd_ready)" "127.0.0.1:$ETCD_PORT"
  for d in "$RUN"/kube/*/; do
    [[ -d "$d" ]] || continue
    n="$(basename "$d")"; port="$(cluster_port "$n")"; d="${d%/}"
    printf '%-28s %-6s %s\n' "kube-apiserver $n" "$(st apiserver_ready "$d" "$port")" "https://127.0.0.1:$port"
    printf '%-28s %-6s %s\n' "kube-controller-manager $n" "$(st pid_alive "$d/controller-manager.pid" "$d/admin.kubeconfig")" "pid $(cat "$d/controller-manager.pid" 2>/dev/null || echo -)"
  done
  return 0
}

usage() {
  cat >&2 <<EOF
usage: infra.sh up | down | env | status | cluster-up NAME | cluster-down NAME | build | kafka-kill | kafka-up | postgres-restart [MODE]
  up                 build/fetch what is missing into $CACHE, start everything (idempotent)
  down               stop what up started and remove the run dir ($RUN)
  env                print shell exports (eval "\$(infra.sh env)")
  status             show what runs
  cluster-up NAME    start (or restart) one extra kube-apiserver + controller-manager
  cluster-down NAME  stop one cluster, keeping its etcd data, certs and tokens
  build              only fetch/build the artifacts
  kafka-kill         SIGKILL the broker (data kept)            } a profile's engines only,
  kafka-up           start the broker again and wait for it    } never the default ones
  postgres-restart [immediate|fast|smart]  pg_ctl restart (default immediate)
With FABRIC_INFRA_PROFILE=NAME every command acts on another, independent set of engines: run dir
$CACHE/run-NAME, every port shifted by FABRIC_INFRA_PORT_OFFSET (default 1000).
EOF
}

main() {
  local cmd="${1:-}"; shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    status) cmd_status ;;
    cluster-up) cmd_cluster_up "$@" ;;
    cluster-down) cmd_cluster_down "$@" ;;
    build) cmd_build ;;
    kafka-kill) cmd_kafka_kill ;;
    kafka-up) cmd_kafka_up ;;
    postgres-restart) cmd_postgres_restart "$@" ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
