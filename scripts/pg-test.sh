#!/bin/bash
# pg-test.sh: runs a command against a throwaway PostgreSQL server.
#
#   scripts/pg-test.sh build/unit-tests --filter 'store*/*'
#
# Starts a private server from Debian's binaries (/usr/lib/postgresql/*/bin)
# in a fresh temporary directory, listening on 127.0.0.1 on a free port (and
# on a unix socket inside that directory only), with fsync off for speed;
# creates the database invito_test, exports
# INVITO_TEST_PG=postgresql://invito@127.0.0.1:PORT/invito_test, runs the
# command, then stops the server and deletes the directory, whatever happens.
# The command's exit status is this script's.
#
# PostgreSQL refuses to run as root: as root (CI) the server runs as the
# `postgres` user that Debian's package creates (or `invito-test`, created
# here when that is missing); the command itself runs as the caller.
# When INVITO_TEST_PG is already set, no server is started: the command runs
# against that one.
set -eu

if [ $# -eq 0 ]; then
	echo "usage: $0 command [args...]" >&2
	exit 2
fi

if [ -n "${INVITO_TEST_PG:-}" ]; then
	exec "$@"
fi

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
	if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		bindir=$d
		break
	fi
done
if [ -z "$bindir" ]; then
	echo "pg-test: no PostgreSQL server found in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
	exit 1
fi

as_server() {
	"$@"
}
if [ "$(id -u)" = 0 ]; then
	runas=postgres
	if ! id "$runas" >/dev/null 2>&1; then
		runas=invito-test
		if ! id "$runas" >/dev/null 2>&1; then
			useradd --system --no-create-home --shell /usr/sbin/nologin "$runas"
		fi
	fi
	as_server() {
		runuser -u "$runas" -- "$@"
	}
fi

dir=$(mktemp -d /tmp/invito-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown "$runas" "$dir"
data="$dir/data"
started=0

cleanup() {
	if [ "$started" = 1 ]; then
		as_server "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A locale whose collation is not byte order, when there is one: it keeps the
# schema honest about COLLATE "C" on the columns matched by prefix ranges.
loc=C.UTF-8
for l in en_GB it_IT en_US; do
	if locale -a 2>/dev/null | grep -qix "$l\.utf-\?8"; then
		loc=$l.UTF-8
		break
	fi
done

as_server "$bindir/initdb" -D "$data" -U invito -A trust -E UTF8 --locale="$loc" \
	--no-sync >"$dir/initdb.log" 2>&1 || {
	cat "$dir/initdb.log" >&2
	exit 1
}

# A free port: probe from a random start; retry the start if another process wins the race.
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
tries=0
while :; do
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000))
	port_free "$port" 2>/dev/null || continue
	if as_server "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
-c shared_buffers=64MB" start >/dev/null 2>&1; then
		started=1
		break
	fi
	tries=$((tries + 1))
	if [ $tries -ge 5 ]; then
		echo "pg-test: the server did not start:" >&2
		cat "$dir/server.log" >&2
		exit 1
	fi
done

"$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U invito -d postgres \
	-c "CREATE DATABASE invito_test" >/dev/null

export INVITO_TEST_PG="postgresql://invito@127.0.0.1:$port/invito_test"
echo "pg-test: PostgreSQL $("$bindir/postgres" -V | awk '{print $3}') on 127.0.0.1:$port ($loc)" >&2
set +e
"$@"
rc=$?
set -e
exit $rc
