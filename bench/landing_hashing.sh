#!/bin/bash
# bench/landing_hashing: does the invitation landing page stay fast while the
# server hashes passwords? (issue 3: p99 of GET /i/{token} under 20 ms while
# 50 Argon2id checks a second run.) In one run, on one fresh demo server:
#   baseline  wrk on GET /i/{token} alone
#   hashing   the same wrk while a second client posts 50 sign-ins a second
#             (unknown e-mails: each costs one Argon2id check on the worker pool)
# Prints both p99s and their ratio. Loopback only; bounded in time.
#   bench/landing_hashing.sh [seconds]     (after make; INVITO_BIN overrides build/invito)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${INVITO_BIN:-$top/build/invito}
SECS=${1:-10}
command -v wrk >/dev/null || { echo "bench: wrk not found (make deps installs it)"; exit 1; }
[ -x "$bin" ] || { echo "bench: no $bin (run make first)"; exit 1; }
. "$top/tests/load/demo-server.sh"

p99() { awk '$1 == "99%" { print $2 }' "$1"; }
wrk -t1 -c8 -d2s "$base/i/$token" >/dev/null 2>&1 # warm-up
wrk -t1 -c8 -d"${SECS}s" --latency "$base/i/$token" >"$tmp/alone.wrk" 2>&1

# 50 sign-ins a second for the whole measured window, each with its own CSRF pair.
hjar="$tmp/hash.jar"
curl -fs -c "$hjar" -b "$hjar" -o "$tmp/l.html" "$base/staff/login"
hcsrf=$(csrf_of "$tmp/l.html")
(
	end=$(($(date +%s) + SECS + 1))
	i=0
	while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -b "$hjar" -o /dev/null -w '%{http_code}\n' --max-time 20 \
			--data-urlencode "csrf=$hcsrf" --data-urlencode "email=nobody$i@bench.example" \
			--data-urlencode "password=not-the-password" "$base/staff/login" >>"$tmp/codes" &
		i=$((i + 1))
		sleep 0.02
	done
	wait
) &
hasher=$!
sleep 1
wrk -t1 -c8 -d"${SECS}s" --latency "$base/i/$token" >"$tmp/hashing.wrk" 2>&1
wait "$hasher"

a=$(p99 "$tmp/alone.wrk")
h=$(p99 "$tmp/hashing.wrk")
posted=$(wc -l <"$tmp/codes")
answered=$(grep -c '^200$' "$tmp/codes" || true)
busy=$(grep -c '^503$' "$tmp/codes" || true)
to_ms() { awk -v v="$1" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); n = v + 0;
	if (u == "us") n /= 1000; else if (u == "s") n *= 1000; printf "%.2f", n }'; }
am=$(to_ms "$a")
hm=$(to_ms "$h")
echo "landing page p99 alone:               $am ms"
echo "landing page p99 with hashing:        $hm ms (target < 20 ms)"
echo "ratio:                                $(awk -v x="$hm" -v y="$am" 'BEGIN { printf "%.2fx", x / y }')"
echo "sign-ins posted: $posted ($((posted / SECS))/s), answered 200: $answered, 503 (pool full): $busy"
