#!/bin/sh
# Load test (make load): wrk against a fresh demo server on a free loopback
# port: an invitation's landing page (/i/TOKEN, a pending invitation made
# through the staff profile's "Invite" button and read from /dev/outbox), the
# patient sign-in page (/login) and a staff list (/staff/patients, with a staff
# session signed in through the real form). Passes when no response is a 5xx
# (nor any other non-2xx/3xx), the server is alive and answers /healthz after
# the run, its resident memory after the run is within LOAD_RSS_MB (default 6)
# of what it was after the warm-up, and SIGTERM then stops it with exit 0.
#
# Settings: B (build folder, default build) or INVITO_BIN; LOAD_SECONDS per
# page (default 10); LOAD_WARMUP seconds per page (default 2); LOAD_CONNS
# (default 16); LOAD_THREADS (wrk threads, default 2). Only 127.0.0.1 is used.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${INVITO_BIN:-$top/${B:-build}/invito}
SECS=${LOAD_SECONDS:-10}
WARM=${LOAD_WARMUP:-2}
CONNS=${LOAD_CONNS:-16}
THREADS=${LOAD_THREADS:-2}
RSS_MB=${LOAD_RSS_MB:-6}

command -v wrk >/dev/null || { echo "load: wrk not found (make deps installs it)"; exit 1; }
[ -x "$bin" ] || { echo "load: no $bin (build it first)"; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "load: FAIL: $*"
	[ -f "$tmp/server.log" ] && { echo "--- server log (last lines)"; tail -30 "$tmp/server.log"; }
	exit 1
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + $$ % 20000)))
base="http://127.0.0.1:$port"
export INVITO_DATABASE="$tmp/invito.db" INVITO_PORT="$port" INVITO_BASE_URL="$base" \
	INVITO_LISTEN=127.0.0.1 INVITO_TRANSPORT=log INVITO_LOG_LEVEL=warn \
	INVITO_LOCALE_DIR="$top/build/locale"
"$bin" --config /dev/null demo >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; fail "demo"; }
"$bin" --config /dev/null serve >"$tmp/server.log" 2>&1 &
pid=$!
i=0
until curl -fs -o /dev/null "$base/healthz"; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the server did not start"
	kill -0 "$pid" 2>/dev/null || fail "the server exited at start"
	sleep 0.1
done

# --- a staff session, through the real sign-in form
jar="$tmp/jar"
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$1" | head -1; }
curl -fs -c "$jar" -b "$jar" -o "$tmp/login.html" "$base/staff/login" || fail "GET /staff/login"
csrf=$(csrf_of "$tmp/login.html")
[ -n "$csrf" ] || fail "no CSRF token on /staff/login"
code=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
	--data-urlencode "csrf=$csrf" --data-urlencode "email=admin@sanluca.example" \
	--data-urlencode "password=invito-demo" "$base/staff/login")
[ "$code" = 303 ] || fail "staff sign-in answered $code"
sid=$(awk '$6 == "sid" { print $7 }' "$jar" | tail -1)
[ -n "$sid" ] || fail "no sid cookie after the staff sign-in"

# --- a pending invitation: invite the first patient that can be invited, read the link
curl -fs -b "$jar" -o "$tmp/patients.html" "$base/staff/patients" || fail "GET /staff/patients"
token=""
for id in $(grep -o 'href="/staff/patients/[0-9]*"' "$tmp/patients.html" | grep -o '[0-9]*' | head -20); do
	curl -fs -b "$jar" -o "$tmp/profile.html" "$base/staff/patients/$id" || continue
	grep -q "action=\"/staff/patients/$id/invite\"" "$tmp/profile.html" || continue
	pcsrf=$(csrf_of "$tmp/profile.html")
	curl -s -b "$jar" -o /dev/null --data-urlencode "csrf=$pcsrf" \
		"$base/staff/patients/$id/invite" || continue
	curl -fs -o "$tmp/outbox.html" "$base/dev/outbox" || fail "GET /dev/outbox"
	token=$(grep -o "$base/i/[A-Za-z0-9_-]*" "$tmp/outbox.html" | head -1 | sed 's|.*/i/||')
	[ -n "$token" ] && break
done
[ -n "$token" ] || fail "no invitation link in /dev/outbox after inviting"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/i/$token")
[ "$code" = 200 ] || fail "the invitation page answered $code"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }

# run NAME PATH SECONDS [COOKIE]: wrk; the output goes to $tmp/NAME.wrk
run() {
	name=$1 path=$2 secs=$3 cookie=${4:-}
	if [ -n "$cookie" ]; then
		wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 10s --latency \
			-H "Cookie: sid=$cookie" "$base$path" >"$tmp/$name.wrk" 2>&1
	else
		wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 10s --latency \
			"$base$path" >"$tmp/$name.wrk" 2>&1
	fi || fail "wrk on $path: $(cat "$tmp/$name.wrk")"
}

# Warm-up: caches, pools, the allocator's arenas settle before memory is measured.
run warm-i "/i/$token" "$WARM"
run warm-login /login "$WARM"
run warm-staff /staff/patients "$WARM" "$sid"
rss0=$(rss)

run landing "/i/$token" "$SECS"
run login /login "$SECS"
run staff /staff/patients "$SECS" "$sid"
sleep 1
kill -0 "$pid" 2>/dev/null || fail "the server died under load"
rss1=$(rss)
curl -fs -o /dev/null "$base/healthz" || fail "/healthz after the load"

status=0
printf '%-16s %9s %9s %9s %9s %9s %9s  %s\n' page requests req/s avg p50 p99 max errors
for name in landing login staff; do
	f="$tmp/$name.wrk"
	reqs=$(awk '/requests in/ { print $1 }' "$f")
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
	avg=$(awk '$1 == "Latency" { print $2; exit }' "$f")
	max=$(awk '$1 == "Latency" { print $4; exit }' "$f")
	p50=$(awk '$1 == "50%" { print $2 }' "$f")
	p99=$(awk '$1 == "99%" { print $2 }' "$f")
	bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
	sock=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$f")
	printf '%-16s %9s %9s %9s %9s %9s %9s  %s\n' "$name" "$reqs" "$rps" "$avg" "$p50" "$p99" \
		"$max" "${bad:-0} non-2xx/3xx${sock:+; socket errors: $sock}"
	if [ -n "$bad" ] && [ "$bad" != 0 ]; then
		status=1
	fi
	if [ -z "$reqs" ] || [ "$reqs" = 0 ]; then
		status=1
	fi
done
grows=$(((rss1 - rss0) / 1024))
echo "server RSS: ${rss0} kB after the warm-up, ${rss1} kB after the run (${grows} MB more; limit ${RSS_MB} MB)"
[ "$grows" -le "$RSS_MB" ] || { echo "load: FAIL: the server's memory grew by ${grows} MB"; status=1; }
if grep -q ' 5[0-9][0-9] ' "$tmp/server.log"; then
	echo "load: FAIL: 5xx in the server log"; grep ' 5[0-9][0-9] ' "$tmp/server.log" | head -5; status=1
fi

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || { echo "load: FAIL: the server exited $rc after SIGTERM"; status=1; }
[ "$status" = 0 ] && echo "load: ok" || { echo "--- server log (last lines)"; tail -20 "$tmp/server.log"; }
exit $status
