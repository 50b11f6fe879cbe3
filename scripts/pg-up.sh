#!/usr/bin/env bash
# Make sure a PostgreSQL server is reachable at the URL evcrm uses, and that
# its role and databases exist. Idempotent; safe to run on every `make run`
# and `make test`.
#
#   EVCRM_DATABASE_URL  if set and reachable, it is used as is (nothing is started)
#   EVCRM_PG_USER/EVCRM_PG_PASSWORD/EVCRM_PG_DB/EVCRM_PG_TEST_DB  names for the local set-up
set -euo pipefail

user=${EVCRM_PG_USER:-evcrm}
password=${EVCRM_PG_PASSWORD:-evcrm}
dbs=("${EVCRM_PG_DB:-evcrm}" "${EVCRM_PG_TEST_DB:-evcrm_test}")

log() { echo "pg-up: $*" >&2; }

# A URL that already works (server up, role and database there) is used as
# is: nothing is started or created. Otherwise set up the local server.
can_connect() { [ -n "${1:-}" ] && command -v psql >/dev/null && PGCONNECT_TIMEOUT=3 psql "$1" -X -Atqc 'SELECT 1' >/dev/null 2>&1; }
if can_connect "${EVCRM_DATABASE_URL:-}" && { [ -z "${TEST_DATABASE_URL:-}" ] || can_connect "$TEST_DATABASE_URL"; }; then
  log "using the server at EVCRM_DATABASE_URL"
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! command -v pg_lsclusters >/dev/null; then
  log "no PostgreSQL server found: installing it from Debian packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# Start the first cluster if it is down (creating one if there is none).
cluster=$(pg_lsclusters -h | head -n1 || true)
if [ -z "$cluster" ]; then
  ver=$(ls /usr/lib/postgresql | sort -n | tail -n1)
  log "creating cluster $ver/main"
  as_root pg_createcluster "$ver" main >/dev/null
  cluster=$(pg_lsclusters -h | head -n1)
fi
read -r ver name port status _ <<<"$cluster"
if [ "$status" != "online" ]; then
  log "starting PostgreSQL $ver/$name on port $port"
  as_root pg_ctlcluster "$ver" "$name" start
fi
for _ in $(seq 1 60); do
  pg_isready -q -p "$port" && break
  sleep 0.5
done
pg_isready -q -p "$port" || { log "PostgreSQL did not become ready"; exit 1; }

psql_su() { as_postgres psql -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_su -d postgres -c "DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN
    CREATE ROLE $user LOGIN PASSWORD '$password';
  END IF;
END\$\$;"
for db in "${dbs[@]}"; do
  if [ -z "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    psql_su -d postgres -c "CREATE DATABASE $db OWNER $user"
  fi
done
log "ready: postgres://$user:***@localhost:$port/${dbs[0]} (tests: ${dbs[1]})"
