#!/usr/bin/env bash
# MQTT ingest benchmark (docs/mqtt.md): the same cistern-loadgen --mqtt load (3.1.1, QoS 1,
# N connections x W in flight, ~150-byte JSON) against
#   1. cistern --mqtt-listen (PUBACK after the group commit, fsync), every ack verified in
#      the database afterwards;
#   2. a local mosquitto broker with persistence on (acks from memory), for comparison.
#
#   bench/mqtt_ingest.sh [DURATION] [CONNECTIONS] [INFLIGHT]   (defaults: 5s 64 20)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-5s}
CONNS=${2:-64}
INFLIGHT=${3:-20}
BIN=${CISTERN_BIN:-build/cistern}
LOADGEN=${LOADGEN_BIN:-build/cistern-loadgen}
[ -x "$BIN" ] && [ -x "$LOADGEN" ] || { echo "mqtt_ingest: build first (make build)" >&2; exit 1; }

work=$(mktemp -d /tmp/cistern-mqtt-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "mqtt_ingest: no free port" >&2; exit 1
}
wait_port() {
  for _ in $(seq 500); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.01; done
  echo "mqtt_ingest: nothing listens on $1" >&2; exit 1
}

load() {  # load PORT [extra loadgen args...]
  local port=$1; shift
  "$LOADGEN" --mqtt "mqtt://127.0.0.1:$port" --workers "$CONNS" --mqtt-inflight "$INFLIGHT" \
    --duration "$DUR" "$@"
}

echo "## cistern --mqtt-listen (QoS 1, PUBACK after fsync)"
port=$(free_port)
"$BIN" --db "$work/events.db" --addr 127.0.0.1:0 --ready-file "$work/ready" --sink none \
  --max-backlog 0 --mqtt-listen "127.0.0.1:$port" >"$work/cistern.log" 2>&1 &
pids+=($!)
wait_port "$port"
echo "\$ cistern-loadgen --mqtt mqtt://127.0.0.1:PORT --workers $CONNS --mqtt-inflight $INFLIGHT --duration $DUR --verify-db DB"
load "$port" --verify-db "$work/events.db" | tee "$work/cistern.out"

if command -v mosquitto >/dev/null; then
  echo
  echo "## mosquitto $(mosquitto -h 2>/dev/null | awk 'NR==1 {print $3}') (persistence on, acks from memory)"
  mport=$(free_port)
  mkdir -p "$work/mosq"
  cat >"$work/mosquitto.conf" <<CONF
listener $mport 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/mosq/
CONF
  mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
  pids+=($!)
  wait_port "$mport"
  load "$mport" | tee "$work/mosquitto.out"
  c=$(awk '/^msgs\/s/ {print $2}' "$work/cistern.out")
  m=$(awk '/^msgs\/s/ {print $2}' "$work/mosquitto.out")
  echo
  awk -v c="$c" -v m="$m" 'BEGIN {printf "cistern / mosquitto = %.2f\n", (m > 0 ? c / m : 0)}'
fi
