#!/bin/sh
# bench/run.sh: builds every benchmark in bench/ against build/libinvito.a and
# runs each once, on SQLite and (where the benchmark takes a URL) on a
# throwaway PostgreSQL server. Every benchmark prints its own baseline from
# the same run and the ratio: compare ratios between machines, not seconds.
#   make bench                 (BENCH_N scales the row counts; default 100000;
#                               B=build/x uses that build directory)
set -eu
cd "$(dirname "$0")/.."
N=${BENCH_N:-100000}
B=${B:-build}
CFL="$(pkg-config --cflags libmicrohttpd sqlite3 libsodium libutf8proc libcurl jansson libpq)"
LIBS="$(pkg-config --libs libmicrohttpd sqlite3 libsodium libutf8proc libcurl jansson libpq) -lcsv -lzxcvbn -lpthread -lm"
mkdir -p $B/bench
for b in bulk_invite booking_take patients_list render smtp; do
	cc -std=c17 -D_GNU_SOURCE -O2 -Isrc -I$B $CFL "bench/$b.c" $B/libinvito.a $LIBS -o "$B/bench/$b"
done

echo "== bulk invite (issue 3: <= 2 s and <= 3x a bare insert), SQLite"
$B/bench/bulk_invite "$N"
echo "== bulk invite, PostgreSQL"
scripts/pg-test.sh sh -c "$B/bench/bulk_invite $N \"\$INVITO_TEST_PG\""
echo "== booking a slot, SQLite and PostgreSQL"
$B/bench/booking_take 10000
scripts/pg-test.sh sh -c "$B/bench/booking_take 10000 \"\$INVITO_TEST_PG\""
echo "== manage patients at $N patients"
$B/bench/patients_list "$N"
echo "== message rendering"
$B/bench/render
echo "== SMTP delivery"
$B/bench/smtp 2000
echo "== CSV import of $N rows"
bench/import.sh "$N"
echo "== landing page under password hashing"
bench/landing_hashing.sh 10
