#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 for the store's Postgres test. Best effort, bounded time.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$BIN" ] && command -v apt-get >/dev/null 2>&1; then
  timeout 240 apt-get install -y -q postgresql >/dev/null 2>&1 || true
  BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
[ -n "$BIN" ] || exit 1
DIR=/tmp/cibot-ci-pg
rm -rf "$DIR" && mkdir -p "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUN=""
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd -r -m postgres >/dev/null 2>&1 || true
  chown -R postgres "$DIR"
  RUN="runuser -u postgres --"
fi
$RUN "$BIN/initdb" -D "$DIR/data" -U cibot --auth=trust >/dev/null
$RUN "$BIN/pg_ctl" -D "$DIR/data" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" -l "$DIR/log" -w start >/dev/null
$RUN "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U cibot cibot_test
echo "postgresql+psycopg://cibot@127.0.0.1:$PORT/cibot_test" > "$DIR/url"
echo "ci: PostgreSQL on port $PORT"
