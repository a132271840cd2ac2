#!/bin/sh
# fuzz/run.sh: builds the libFuzzer targets (fuzz/*.c) with clang-14 and
# -fsanitize=fuzzer,address,undefined against the library built in its own
# folder (build/fuzz, through the Makefile with CC=clang-14), then runs each
# target for FUZZ_SECONDS (default 60) on its seed corpus fuzz/corpus/<name>/,
# FUZZ_JOBS (default 2) at a time. New inputs go to build/fuzz/corpus/<name>/,
# never into the repository; a crash is saved as build/fuzz/crashes/<name>-*
# and makes the script exit 1 (turn it into a unit test, then fix the bug).
#
#   fuzz/run.sh               every target, FUZZ_SECONDS each
#   fuzz/run.sh form names    only these
#   fuzz/run.sh --build       build only
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=build/fuzz
SECS=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-2}
CC=${FUZZ_CC:-clang-14}
MAKE=${MAKE:-make}

SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# Other people's files may warn under clang where gcc is silent: not this script's business.
LIBFLAGS="$SAN -Wno-error"

build_only=0
targets=""
for a in "$@"; do
	case "$a" in
	--build) build_only=1 ;;
	*) targets="$targets $a" ;;
	esac
done
if [ -z "$targets" ]; then
	targets=$(ls fuzz/*.c | sed 's|fuzz/||; s|\.c$||' | tr '\n' ' ')
fi

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (make deps installs clang-14)"; exit 1; }

# Objects built with other flags are rebuilt from scratch.
mkdir -p "$B"
if [ "$(cat "$B/.flags" 2>/dev/null)" != "$CC $LIBFLAGS" ]; then
	rm -rf "$B/obj" "$B/libinvito.a"
	echo "$CC $LIBFLAGS" >"$B/.flags"
fi
$MAKE --no-print-directory -s -j"$JOBS" B="$B" CC="$CC" CFLAGS="-O1 -g" \
	EXTRA_CFLAGS="$LIBFLAGS" "$B/libinvito.a" >"$B/build.log" 2>&1 ||
	{ tail -30 "$B/build.log"; echo "fuzz: library build failed"; exit 1; }

PKGS="libmicrohttpd sqlite3 libsodium libutf8proc libcurl jansson libpq"
for t in $targets; do
	[ -f "fuzz/$t.c" ] || { echo "fuzz: no target fuzz/$t.c"; exit 2; }
	if [ ! -x "$B/$t" ] || [ "fuzz/$t.c" -nt "$B/$t" ] || [ fuzz/fuzz.h -nt "$B/$t" ] ||
		[ "$B/libinvito.a" -nt "$B/$t" ]; then
		# shellcheck disable=SC2046
		$CC -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -O1 -g \
			-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
			-fno-omit-frame-pointer -Isrc -Ifuzz $(pkg-config --cflags $PKGS) \
			"fuzz/$t.c" "$B/libinvito.a" -o "$B/$t" \
			$(pkg-config --libs $PKGS) -lcsv -lzxcvbn -lpthread -lm
	fi
done
[ "$build_only" = 1 ] && exit 0

run_one() {
	t=$1
	mkdir -p "$B/corpus/$t" "$B/crashes"
	# -rss_limit_mb: a target that grows without bound is a bug too.
	"$B/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$B/crashes/$t-" "$B/corpus/$t" "fuzz/corpus/$t" \
		>"$B/$t.log" 2>&1
}

status=0
running=0
for t in $targets; do
	( run_one "$t" && echo ok >"$B/$t.rc" || echo fail >"$B/$t.rc" ) &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait
		running=0
	fi
done
wait

printf '%-12s %10s %9s %8s  %s\n' target execs exec/s corpus result
for t in $targets; do
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$t.log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$B/$t.log" | tail -1)
	units=$(ls "$B/corpus/$t" | wc -l)
	res=$(cat "$B/$t.rc" 2>/dev/null || echo fail)
	printf '%-12s %10s %9s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$units" "$res"
	if [ "$res" != ok ]; then
		status=1
		echo "--- $B/$t.log (last lines)"
		tail -40 "$B/$t.log"
	fi
done
[ "$status" = 0 ] || ls "$B"/crashes/ 2>/dev/null
exit $status
