#!/bin/sh
# Browser tests: builds nothing; starts build/invito (or $INVITO_BIN) on a free
# loopback port with fresh demo data, runs the Playwright tests in tests/browser with Debian's
# Chromium, stops the server. Exit code is the tests'.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${INVITO_BIN:-build/invito}
case $bin in /*) ;; *) bin="$top/$bin" ;; esac
export INVITO_BIN="$bin"
cd "$top/tests/browser"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + $$ % 20000)))
export INVITO_DATABASE="$tmp/invito.db" INVITO_PORT="$port" INVITO_BASE_URL="http://127.0.0.1:$port"
"$bin" demo >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; exit 1; }
"$bin" serve >"$tmp/server.log" 2>&1 &
pid=$!
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "browser-tests: server did not start"; cat "$tmp/server.log"; exit 1
	fi
	sleep 0.1
done
INVITO_URL="http://127.0.0.1:$port" node --test --test-concurrency=1 ./*.test.mjs || {
	rc=$?; echo "--- server log"; tail -50 "$tmp/server.log"; exit $rc; }
