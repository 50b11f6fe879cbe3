#!/usr/bin/env bash
# Make sure the message brokers the bus's integration tests use are running on loopback: a NATS server with
# JetStream and a RabbitMQ broker. Installs them from Debian packages if missing (nats-server, rabbitmq-server).
# Idempotent: a broker that already answers is left alone. Safe to run on every `make test`.
#
# On success it prints the URLs the tests read (stdout, one assignment a line):
#   EVCRM_TEST_NATS_URL=nats://127.0.0.1:4222
#   EVCRM_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/
#
#   EVCRM_BROKERS_DIR  where the NATS configuration, JetStream store, logs and pid file go (/tmp/evcrm-brokers)
#   EVCRM_NATS_PORT    NATS client port (4222); EVCRM_AMQP_PORT  RabbitMQ port (5672)
#
# Everything listens on 127.0.0.1 only. The servers keep running after the script ends; stop them with
#   nats-server --signal quit=$EVCRM_BROKERS_DIR/nats.pid
#   RABBITMQ_NODENAME=rabbit@localhost rabbitmqctl stop
set -euo pipefail

dir=${EVCRM_BROKERS_DIR:-/tmp/evcrm-brokers}
nats_port=${EVCRM_NATS_PORT:-4222}
amqp_port=${EVCRM_AMQP_PORT:-5672}

# RabbitMQ and the Erlang port mapper it starts: loopback only, a node name that resolves locally.
export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$amqp_port
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

log() { echo "brokers-up: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -E "$@"; fi; }

# answers HOST PORT: something accepts TCP connections there.
answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for WHAT SECONDS CMD...: poll CMD every 0.2 s.
wait_for() {
  local what=$1 secs=$2
  shift 2
  for _ in $(seq 1 $((secs * 5))); do
    "$@" && return 0
    sleep 0.2
  done
  log "$what did not become ready within ${secs}s"
  return 1
}

# Install what is missing, with one package-list update for both.
missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
command -v rabbitmq-server >/dev/null || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian packages"
  as_root apt-get update -qq
  # Debian would start RabbitMQ as a service on installation where it can; it is started below instead, on
  # loopback. --no-install-recommends keeps the Erlang runtime to what RabbitMQ needs.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "installed in ${SECONDS}s"
fi
PATH=$PATH:/usr/sbin

mkdir -p "$dir/jetstream"

# NATS: JetStream on, bounded store, loopback only. A server that already answers on the port must have
# JetStream enabled (its INFO line says so).
nats_info() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$nats_port" || return 1
  IFS= read -r -t 2 line <&3 || true
  exec 3>&-
  echo "$line"
}
if answers 127.0.0.1 "$nats_port"; then
  log "a NATS server already answers on 127.0.0.1:$nats_port"
else
  cat >"$dir/nats.conf" <<EOF
# Written by scripts/brokers-up.sh: a single NATS server for evcrm's tests and local runs.
listen: "127.0.0.1:$nats_port"
server_name: "evcrm-local"
pid_file: "$dir/nats.pid"
log_file: "$dir/nats.log"
jetstream {
  store_dir: "$dir/jetstream"
  max_memory_store: 256MB
  max_file_store: 4GB
}
EOF
  log "starting nats-server (JetStream, store $dir/jetstream, log $dir/nats.log)"
  setsid nats-server -c "$dir/nats.conf" </dev/null >>"$dir/nats.out" 2>&1 &
  t0=$SECONDS
  wait_for nats-server 30 answers 127.0.0.1 "$nats_port" || { tail -n 20 "$dir/nats.out" "$dir/nats.log" >&2; exit 1; }
  log "nats-server ready in $((SECONDS - t0))s"
fi
if ! nats_info | grep -q '"jetstream":true'; then
  log "the NATS server on 127.0.0.1:$nats_port does not have JetStream enabled"
  exit 1
fi

# RabbitMQ: detached node on loopback; its default guest/guest user may connect from localhost.
if answers 127.0.0.1 "$amqp_port"; then
  log "a broker already answers on 127.0.0.1:$amqp_port"
else
  log "starting rabbitmq-server (node $RABBITMQ_NODENAME, log /var/log/rabbitmq)"
  t0=$SECONDS
  # No daemon may keep the caller's stdout or stderr open (a CI log would wait for it).
  as_root rabbitmq-server -detached </dev/null >>"$dir/rabbitmq.out" 2>&1 || { cat "$dir/rabbitmq.out" >&2; exit 1; }
  # The AMQP listener is the last thing the node starts.
  wait_for rabbitmq-server 90 answers 127.0.0.1 "$amqp_port" || { tail -n 20 /var/log/rabbitmq/*.log >&2; exit 1; }
  log "rabbitmq-server ready in $((SECONDS - t0))s"
fi

echo "EVCRM_TEST_NATS_URL=nats://127.0.0.1:$nats_port"
echo "EVCRM_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$amqp_port/"
