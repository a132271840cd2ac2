#!/bin/sh
# bench/import: is `invito import patients` fast enough for a clinic's whole
# archive? Generates a CSV of N rows (default 100,000; fixed content), imports
# it into a fresh demo database, imports it again (every row "already
# present"), and times both against a baseline measured in the same run on
# the same file: sqlite3's own `.import --csv` into a bare table without
# indexes, checks or a transaction per batch. Ratios, not seconds, are what
# to compare between machines.
#   bench/import.sh [N]          (after make; INVITO_BIN overrides build/invito)
# It works in a new temporary directory and never touches another database.
set -eu

cd "$(dirname "$0")/.."
N=${1:-100000}
BIN=${INVITO_BIN:-build/invito}
[ -x "$BIN" ] || { echo "bench/import: $BIN is missing; run make first" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/import: needs the sqlite3 shell" >&2; exit 1; }

DIR=$(mktemp -d /tmp/invito-bench-import.XXXXXX)
trap 'rm -rf "$DIR"' EXIT INT TERM
CSV=$DIR/patients.csv

# Deterministic rows: names with accents and apostrophes, a quoted field with a
# comma, mobiles in several spellings, e-mail for two rows in three.
awk -v n="$N" 'BEGIN {
	split("Maria,Giulia,Luca,Francesca,Marco,Chiara,Nicolò,Zoë,Maria Grazia,Andrea", g, ",")
	split("Rossi|D'\''Amico|De Luca|Esposito|Dell'\''Acqua|Lo Russo|Rossi Bianchi|Müller|Ferri|Conti", f, "|")
	print "external_ref,given_name,family_name,birth_date,mobile,email,lang"
	for (i = 1; i <= n; i++) {
		gi = g[(i * 7) % 10 + 1]; fi = f[(i * 13) % 10 + 1]
		y = 1930 + i % 90; m = 1 + i % 12; d = 1 + i % 28
		mob = (i % 3 == 0) ? sprintf("+39 3%02d %07d", i % 100, i) : \
		      (i % 3 == 1) ? sprintf("3%02d%07d", i % 100, i) : ""
		em = (i % 3 != 2) ? sprintf("p%d@example.it", i) : ""
		fam = (i % 50 == 0) ? "\"" fi ", jr\"" : fi
		printf "R%07d,%s,%s,%04d-%02d-%02d,%s,%s,%s\n", i, gi, fam, y, m, d, mob, em, (i % 10 ? "it" : "en")
	}
}' > "$CSV"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l | sed 's/^\./0./; s/\(\.[0-9][0-9][0-9]\).*/\1/'; }

export INVITO_DATABASE="$DIR/invito.db"
"$BIN" demo >/dev/null

t0=$(now)
"$BIN" import patients "$CSV" 2>"$DIR/err1" >"$DIR/out1" || true
t1=$(now)
"$BIN" import patients "$CSV" 2>"$DIR/err2" >"$DIR/out2" || true
t2=$(now)
sqlite3 "$DIR/bare.db" "CREATE TABLE p (external_ref TEXT, given_name TEXT, family_name TEXT, birth_date TEXT, mobile TEXT, email TEXT, lang TEXT);"
t3=$(now)
sqlite3 "$DIR/bare.db" ".import --csv --skip 1 $CSV p"
t4=$(now)

first=$(elapsed "$t0" "$t1"); again=$(elapsed "$t1" "$t2"); base=$(elapsed "$t3" "$t4")
echo "rows:                      $N ($(du -h "$CSV" | cut -f1) CSV)"
echo "invito import (new rows):  ${first} s   $(cat "$DIR/out1")"
echo "invito import (re-run):    ${again} s   $(cat "$DIR/out2")"
echo "baseline sqlite3 .import:  ${base} s   $(sqlite3 "$DIR/bare.db" 'SELECT count(*) FROM p') rows, bare table"
echo "ratio new/baseline:        $(echo "$first / $base" | bc -l | cut -c1-5)"
echo "ratio re-run/baseline:     $(echo "$again / $base" | bc -l | cut -c1-5)"
if [ -s "$DIR/err1" ] && grep -q ':[0-9]*: ' "$DIR/err1"; then
	echo "rejected rows (first 5):"; grep ':[0-9]*: ' "$DIR/err1" | head -5
fi
