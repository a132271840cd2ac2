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

. "$top/tests/load/demo-server.sh"

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
