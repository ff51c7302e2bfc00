#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only.
#   bin/pg-test-cluster.sh start [DIR]  -> initdb + start; prints the connection URL (last line)
#   bin/pg-test-cluster.sh pause DIR    -> stop the server, keep its data (tests: "database down")
#   bin/pg-test-cluster.sh resume DIR   -> start it again on the same port
#   bin/pg-test-cluster.sh stop DIR     -> stop it and delete DIR
# Needs Debian's postgresql package (apt-get install -y postgresql). As root it runs the server as
# the postgres user, since PostgreSQL refuses to run as root.
set -euo pipefail
cmd=${1:-start}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
  echo "pg-test-cluster: PostgreSQL server not installed (apt-get install -y postgresql)" >&2
  exit 2
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
start_server() {
  local dir=$1
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $(cat "$dir/port") -k $dir -c max_connections=200" start >/dev/null
}
case $cmd in
  start)
    dir=${2:-$(mktemp -d /tmp/sl-pg-XXXXXX)}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})" >"$dir/port"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log"
    start_server "$dir"
    echo "$dir"
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
    ;;
  pause) as_pg "$bindir/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null ;;
  resume) start_server "$2" ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$2"
    ;;
  *) echo "usage: $0 start [DIR] | pause DIR | resume DIR | stop DIR" >&2; exit 64 ;;
esac
