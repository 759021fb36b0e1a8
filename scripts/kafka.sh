#!/usr/bin/env bash
# A single-node KRaft Kafka broker on loopback for Switchyard's tests.
#
#   bash scripts/kafka.sh start|stop|status|restart
#
# Needs only Java 17+, Maven and access to Maven Central: the broker's jars are resolved from
# scripts/kafka/pom.xml into a cache directory outside the repository (never committed).
#
# Environment (all optional):
#   KAFKA_VERSION          broker version (default 4.4.0)
#   KAFKA_PORT             client listener on 127.0.0.1 (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 (default 19093)
#   KAFKA_DATA_DIR         logs, data, pid file and config of this instance
#                          (default $SWITCHYARD_CACHE/kafka-data-$KAFKA_PORT)
#   KAFKA_HEAP             JVM heap (default 512m)
#   KAFKA_START_TIMEOUT    seconds to wait for the port to answer (default 120)
#   SWITCHYARD_CACHE       cache root (default $HOME/.cache/switchyard)
#
# A second instance for restart tests: give it other ports and its own data directory, e.g.
#   KAFKA_PORT=19192 KAFKA_CONTROLLER_PORT=19193 KAFKA_DATA_DIR=/tmp/k2 bash scripts/kafka.sh restart
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
CACHE="${SWITCHYARD_CACHE:-${HOME:-/tmp}/.cache/switchyard}"
JARS="$CACHE/kafka-$KAFKA_VERSION/libs"
DATA="${KAFKA_DATA_DIR:-$CACHE/kafka-data-$KAFKA_PORT}"
HEAP="${KAFKA_HEAP:-512m}"
TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
HOST=127.0.0.1
PIDFILE="$DATA/kafka.pid"
LOG="$DATA/server.log"

say() { echo "[kafka.sh] $*"; }
die() { echo "[kafka.sh] error: $*" >&2; exit 1; }

# True when something accepts TCP connections on $HOST:$1.
answers() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

resolve_jars() {
  if [[ -f "$JARS/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (install Maven)"
  say "resolving Kafka $KAFKA_VERSION jars into $JARS (once)"
  mkdir -p "$CACHE"
  local tmp
  tmp="$(mktemp -d "$CACHE/kafka-jars.XXXXXX")"
  (cd "$HERE/kafka" && mvn -q -B -Dstyle.color=never -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp") \
    || { rm -rf "$tmp"; die "could not resolve the Kafka jars with Maven"; }
  touch "$tmp/.complete"
  mkdir -p "$(dirname "$JARS")"
  rm -rf "$JARS"
  mv "$tmp" "$JARS"
}

write_config() {
  mkdir -p "$DATA/kraft"
  cat >"$DATA/server.properties" <<EOF
# Written by scripts/kafka.sh: a single-node KRaft broker for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA/kraft
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=5000
num.network.threads=2
num.io.threads=4
EOF
  cat >"$DATA/log4j2.properties" <<EOF
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
logger.org.name = org.apache.kafka
logger.org.level = warn
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
EOF
}

format_storage() {
  if [[ -f "$DATA/kraft/meta.properties" ]]; then return 0; fi
  local id
  # A cluster id is 16 random bytes in URL-safe base64 without padding (22 characters);
  # passed as --cluster-id=ID since an id may start with "-".
  id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  say "formatting storage in $DATA/kraft (cluster id $id)"
  java -cp "$JARS/*" -Dlog4j2.configurationFile="$DATA/log4j2.properties" \
    kafka.tools.StorageTool format --cluster-id="$id" --config="$DATA/server.properties" >>"$LOG" 2>&1 \
    || { tail -n 30 "$LOG" >&2; die "storage format failed (log: $LOG)"; }
}

start() {
  if answers "$KAFKA_PORT"; then
    say "already answering on $HOST:$KAFKA_PORT (logs: $LOG)"
    return 0
  fi
  command -v java >/dev/null || die "java not found (Java 17+ needed)"
  resolve_jars
  mkdir -p "$DATA"
  write_config
  format_storage
  say "starting Kafka $KAFKA_VERSION on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  # setsid + nohup: the broker outlives this shell and the terminal that started it.
  setsid nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$DATA/log4j2.properties" \
    -cp "$JARS/*" kafka.Kafka "$DATA/server.properties" >>"$LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDFILE"
  local pid deadline
  pid="$(cat "$PIDFILE")"
  deadline=$((SECONDS + TIMEOUT))
  until answers "$KAFKA_PORT"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$LOG" >&2
      die "the broker exited during start (log: $LOG)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$LOG" >&2
      die "no answer on $HOST:$KAFKA_PORT after ${TIMEOUT}s (log: $LOG)"
    fi
    sleep 0.5
  done
  say "ready on $HOST:$KAFKA_PORT, pid $pid, logs: $LOG"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    if answers "$KAFKA_PORT"; then
      die "something answers on $HOST:$KAFKA_PORT but was not started by this script (no pid in $PIDFILE)"
    fi
    say "not running on $HOST:$KAFKA_PORT"
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      say "still alive after 60s, killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  while answers "$KAFKA_PORT"; do sleep 0.2; done
  rm -f "$PIDFILE"
  say "stopped"
}

status() {
  local pid
  if answers "$KAFKA_PORT"; then
    pid="$(running_pid || echo '?')"
    say "running on $HOST:$KAFKA_PORT, pid $pid, logs: $LOG"
    return 0
  fi
  say "not running on $HOST:$KAFKA_PORT (logs: $LOG)"
  return 3
}

# One start/stop at a time per instance: CI and several engineers may call this together.
with_lock() {
  mkdir -p "$DATA"
  if command -v flock >/dev/null; then
    exec 9>"$DATA/.lock"
    flock 9
  fi
  "$@"
}

case "${1:-}" in
  start) with_lock start ;;
  stop) with_lock stop ;;
  restart) with_lock stop && start ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
