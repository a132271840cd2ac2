#!/bin/bash
# bench/landing_hashing: does the invitation landing page stay fast while the
# server hashes passwords? (issue 3: p99 of GET /i/{token} under 20 ms while
# 50 Argon2id hashes a second run.) In one run, on one fresh demo server:
#   alone    GET /i/{token} at a fixed rate (GET_RATE, default 100/s)
#   hashing  the same GETs while 50 staff sign-ins a second are offered
#            (unknown e-mails: each is one Argon2id check of a real 19 MiB
#            hash on the production worker pool, or a 503 when it is full)
# Prints p50/p99 of both, their ratio, the sign-ins actually hashed per second
# (answered 200) and refused (503), the CPU the hashing threads used, the
# loader's own CPU and the load average. The loader is bench/loadgen.c: open
# loop (latency from each request's scheduled time), keep-alive, one thread;
# set LOADGEN_CPU=N to pin it to CPU N (default: not pinned, says so), and
# LOADGEN_TRACE=FILE to get every answer's scheduled time and latency (to see
# when a stall happened). GET_RATE and HASH_RATE change the two rates.
# Found with it (2 cores, other work running): most of the p99 while hashing is
# not CPU but SQLite's write lock. Every GET /i/{token} runs invite_open's
# "UPDATE invitations SET opened_at = ? ... AND opened_at IS NULL", which takes
# the write lock even when it changes nothing, and waits behind the sign-ins'
# audit commits in SQLite's busy handler (sleeps of 1, 2, 5 ... 25 ms, seen with
# strace) on an HTTP thread, stalling every connection of that thread. Same
# runs without that UPDATE: p99 13-29 ms instead of 15-306 ms.
#   bench/landing_hashing.sh [seconds]   (after make; INVITO_BIN overrides build/invito)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${INVITO_BIN:-$top/build/invito}
SECS=${1:-10}
GET_RATE=${GET_RATE:-100}
HASH_RATE=${HASH_RATE:-50}
[ -x "$bin" ] || { echo "bench: no $bin (run make first)"; exit 1; }
bdir=$(dirname "$bin")/bench
mkdir -p "$bdir"
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror "$top/bench/loadgen.c" -o "$bdir/loadgen"
. "$top/tests/load/demo-server.sh"

pin=""
where="not pinned (any of $(nproc) CPUs, shared with the server)"
if [ -n "${LOADGEN_CPU:-}" ]; then
	pin="taskset -c $LOADGEN_CPU"
	where="pinned to CPU $LOADGEN_CPU"
fi
lg() { $pin "$bdir/loadgen" "$port" "$@"; }

# CPU seconds (user + sys) of the server's hashing threads ("invito-hash"; every thread
# when the binary does not name them).
hash_cpu() {
	local tck sum=0 named=0 t
	tck=$(getconf CLK_TCK)
	for t in /proc/"$pid"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = invito-hash ] && named=1
	done
	for t in /proc/"$pid"/task/*; do
		[ $named = 0 ] || [ "$(cat "$t/comm" 2>/dev/null)" = invito-hash ] || continue
		# fields after the ")" of comm: utime is the 12th, stime the 13th
		sum=$((sum + $(sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }')))
	done
	awk -v s="$sum" -v t="$tck" 'BEGIN { printf "%.2f", s / t }'
}

# staff sign-ins need the CSRF cookie and token of the sign-in form
hjar="$tmp/hash.jar"
curl -fs -c "$hjar" -b "$hjar" -o "$tmp/l.html" "$base/staff/login"
hcsrf=$(csrf_of "$tmp/l.html")
hcookie=$(sed 's/^#HttpOnly_//' "$hjar" | awk 'NF >= 7 && $1 !~ /^#/ { printf "%s%s=%s", sep, $6, $7; sep = "; " }')

path="/i/$token"
lg 2 "$path" "$GET_RATE" >/dev/null # warm-up
lg "$SECS" "$path" "$GET_RATE" >"$tmp/alone.out"
c0=$(hash_cpu)
lg "$SECS" "$path" "$GET_RATE" /staff/login "$HASH_RATE" "$hcookie" "$hcsrf" >"$tmp/hashing.out"
c1=$(hash_cpu)
load=$(uptime | sed 's/.*load average: //')

field() { sed -n "s/^$1 \(.* \)\{0,1\}$2=\([^ ]*\).*/\2/p" "$3" | tr -d '/s'; }
a50=$(field get p50 "$tmp/alone.out")
a99=$(field get p99 "$tmp/alone.out")
h50=$(field get p50 "$tmp/hashing.out")
h99=$(field get p99 "$tmp/hashing.out")
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2fx", (y > 0 ? x / y : 0) }'; }
bad_get=$(awk '$1 == "get" { for (i = 2; i <= NF; i++) { split($i, kv, "=");
	if (kv[1] == "503" || kv[1] == "other" || kv[1] == "err") n += kv[2] } } END { print n + 0 }' \
	"$tmp/alone.out" "$tmp/hashing.out")
p_sent=$(field post sent "$tmp/hashing.out")
p_ok=$(field post 2xx "$tmp/hashing.out")
p_503=$(field post 503 "$tmp/hashing.out")
p_other=$(field post other "$tmp/hashing.out")
p_err=$(field post err "$tmp/hashing.out")

echo "landing GET at $GET_RATE/s for ${SECS}s; loader $where"
echo "landing p50/p99 alone:                $a50 / $a99 ms"
echo "landing p50/p99 while hashing:        $h50 / $h99 ms (target p99 < 20 ms)"
echo "ratio hashing/alone:                  p50 $(ratio "$h50" "$a50"), p99 $(ratio "$h99" "$a99")"
echo "landing GETs not answered 2xx/3xx:    $bad_get"
echo "sign-ins offered:                     $p_sent ($(awk -v n="$p_sent" -v s="$SECS" 'BEGIN { printf "%.1f", n / s }')/s)"
echo "hashed and answered 200:              $p_ok ($(awk -v n="$p_ok" -v s="$SECS" 'BEGIN { printf "%.1f", n / s }')/s; target $HASH_RATE/s)"
echo "refused 503 (pool full), other, err:  $p_503, $p_other, $p_err"
echo "sign-in p50/p99 (200 and 503 alike):  $(field post p50 "$tmp/hashing.out") / $(field post p99 "$tmp/hashing.out") ms"
echo "hashing threads CPU in the window:    $(awk -v a="$c0" -v b="$c1" -v s="$SECS" 'BEGIN { printf "%.2f s (%.0f%% of one core)", b - a, 100 * (b - a) / s }')"
echo "$(sed -n 's/^loader //p' "$tmp/hashing.out" | sed 's/^/loader /')"
echo "load average after:                   $load"
