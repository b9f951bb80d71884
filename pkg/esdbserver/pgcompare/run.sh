#!/usr/bin/env bash
# Runs the embedded store and PostgreSQL side by side (see doc.go).
# Installs Debian's postgresql if missing, starts a throwaway cluster in a
# temp dir (fsync on, synchronous_commit on, unix socket only), runs the
# benchmarks, stops the cluster. Usage: ./run.sh [go test -bench args...]
set -euo pipefail
cd "$(dirname "$0")"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	apt-get install -y --no-install-recommends postgresql
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=$(mktemp -d /tmp/pgcompare.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U bench >/dev/null
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
	-o "-k $DIR -p 55432 -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
trap 'as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; rm -rf "$DIR"' EXIT
echo "postgres: $("$BIN/postgres" --version)"
export PG_URL="host=$DIR port=55432 user=bench dbname=postgres sslmode=disable"
GOWORK=off go test -run '^$' -bench "${@:-.}" -benchtime "${BENCHTIME:-2s}" .
