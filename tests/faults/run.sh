#!/bin/sh
# Fault tests (make faults), against the real binary on a fresh demo database
# and a free loopback port:
#  1. the database's write lock held by another process (the sqlite3 shell in
#     BEGIN EXCLUSIVE) for 3 s, less than the 5 s busy timeout: a write
#     request waits and succeeds, reads are not held up;
#  2. the lock held for 8 s, longer than the busy timeout: the write request
#     fails cleanly (a 503 page with Retry-After) within the
#     timeout, the server stays up, reads still work, and once the lock is
#     gone the same write succeeds;
#  3. SIGTERM while a write waits on the lock: the request completes (303),
#     the server exits 0 and no longer listens;
#  4. SIGTERM during a burst of staff sign-ins (Argon2id on the worker pool):
#     every sign-in gets its answer and the server exits 0;
#  5. SIGKILL in the middle of a bulk invite of 30,000 patients, then restart:
#     the run left all of its invitations and messages or none, and the same
#     form submitted again invites every patient exactly once;
#  6. the disk full (a small tmpfs, as root) during that bulk invite: an error
#     page, nothing written, the server carries on; with room again, the same
#     form invites everyone once.
# Settings: B (build folder, default build) or INVITO_BIN. Only 127.0.0.1.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${INVITO_BIN:-$top/${B:-build}/invito}
[ -x "$bin" ] || { echo "faults: no $bin (build it first)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "faults: sqlite3 not found (make deps)"; exit 1; }

tmp=$(mktemp -d)
pid=""
holder=""
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	mountpoint -q "$tmp/small" 2>/dev/null && umount "$tmp/small"
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
status=0
fail() {
	echo "faults: FAIL: $*"
	status=1
}
die() {
	fail "$*"
	[ -f "$tmp/server.log" ] && { echo "--- server log (last lines)"; tail -30 "$tmp/server.log"; }
	exit 1
}
pass() { echo "faults: ok: $*"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + $$ % 20000)))
base="http://127.0.0.1:$port"
db="$tmp/invito.db"
export INVITO_DATABASE="$db" INVITO_PORT="$port" INVITO_BASE_URL="$base" \
	INVITO_LISTEN=127.0.0.1 INVITO_TRANSPORT=log INVITO_LOG_LEVEL=info \
	INVITO_LOCALE_DIR="$top/build/locale"
"$bin" --config /dev/null demo >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; die "demo"; }

start_server() {
	"$bin" --config /dev/null serve >>"$tmp/server.log" 2>&1 &
	pid=$!
	i=0
	until curl -fs -o /dev/null "$base/healthz"; do
		i=$((i + 1))
		[ $i -le 100 ] || die "the server did not start"
		kill -0 "$pid" 2>/dev/null || die "the server exited at start"
		sleep 0.1
	done
}

# stop_server SIGNAL: sends it and waits; the exit code goes to $rc.
stop_server() {
	kill -"$1" "$pid"
	rc=0
	wait "$pid" || rc=$?
	pid=""
}

csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$1" | head -1; }

# signin JAR: a staff session in the cookie jar JAR, through the real form.
signin() {
	curl -fs -c "$1" -b "$1" -o "$1.html" "$base/staff/login" || die "GET /staff/login"
	c=$(csrf_of "$1.html")
	code=$(curl -s -c "$1" -b "$1" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$c" \
		--data-urlencode "email=admin@sanluca.example" --data-urlencode "password=invito-demo" \
		"$base/staff/login")
	[ "$code" = 303 ] || die "staff sign-in answered $code"
}

# create_patient JAR NAME: POSTs the new-patient form; prints "CODE SECONDS".
create_patient() {
	curl -fs -b "$1" -o "$tmp/new.html" "$base/staff/patients/new" || die "GET /staff/patients/new"
	c=$(csrf_of "$tmp/new.html")
	curl -s -b "$1" -o "$tmp/created.html" -w '%{http_code} %{time_total}' --max-time 30 \
		--data-urlencode "csrf=$c" --data-urlencode "given_name=Fault" \
		--data-urlencode "family_name=$2" --data-urlencode "lang=it" \
		"$base/staff/patients/new" || true
}

# lock SECONDS: another process takes the write lock and holds it; returns once it has it.
lock() {
	rm -f "$tmp/lock.out"
	{
		echo ".timeout 10000"
		echo "BEGIN EXCLUSIVE;"
		echo "SELECT 'locked';"
		sleep "$1"
		echo "COMMIT;"
	} | sqlite3 "$db" >"$tmp/lock.out" 2>&1 &
	holder=$!
	i=0
	until grep -q locked "$tmp/lock.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 200 ] || die "the lock holder did not get the lock: $(cat "$tmp/lock.out")"
		sleep 0.05
	done
}
unlock_wait() {
	wait "$holder" 2>/dev/null || true
	holder=""
}

# secs_ge A B: A >= B for decimal seconds
secs_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

count_family() { sqlite3 "$db" ".timeout 5000" "SELECT count(*) FROM patients WHERE family_name = '$1'"; }

start_server
jar="$tmp/jar"
signin "$jar"

# --- 1. a short lock: wait, then succeed
lock 3
t0=$(date +%s.%N)
read_res=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$base/login")
res=$(create_patient "$jar" Shortlock)
unlock_wait
set -- $read_res
if [ "$1" = 200 ] && ! secs_ge "$2" 1; then pass "a read during the lock: $1 in $2 s"; else
	fail "a read during the lock: $read_res"; fi
set -- $res
if [ "$1" = 303 ] && secs_ge "$2" 1.5 && [ "$(count_family Shortlock)" = 1 ]; then
	pass "a write under a 3 s lock waited $2 s and succeeded ($1)"
else
	fail "a write under a 3 s lock: $res (expected 303 after waiting), rows: $(count_family Shortlock)"
fi

# --- 2. a lock longer than the busy timeout: a clean error, then recovery
lock 8
res=$(create_patient "$jar" Longlock)
during=$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' --max-time 10 "$base/staff/patients")
alive=1
kill -0 "$pid" 2>/dev/null || alive=0
unlock_wait
set -- $res
if [ "$alive" = 0 ]; then
	die "the server died while the database was locked"
elif [ "$1" = 503 ] && ! secs_ge "$2" 7.5; then
	pass "a write under an 8 s lock failed cleanly: 503 after $2 s"
elif [ "$1" = 303 ]; then
	fail "a write under an 8 s lock answered 303 after $2 s: the lock did not hold?"
else
	fail "a write under an 8 s lock: $res (expected 503 within the busy timeout)"
fi
grep -q "Service busy\|busy right now\|error" "$tmp/created.html" ||
	fail "the error for the locked write is not an error page"
[ "$during" = 200 ] && pass "a read during the long lock: $during" || fail "a read during the long lock: $during"
[ "$(count_family Longlock)" = 0 ] || fail "the failed write left a row"
res=$(create_patient "$jar" Longlock)
set -- $res
if [ "$1" = 303 ] && [ "$(count_family Longlock)" = 1 ]; then pass "after the lock, the same write succeeds ($1)"
else fail "after the lock: $res"; fi

# --- 3. SIGTERM while a write waits on the lock
curl -fs -b "$jar" -o "$tmp/new.html" "$base/staff/patients/new" || die "GET /staff/patients/new"
c=$(csrf_of "$tmp/new.html")
lock 2
curl -s -b "$jar" -o /dev/null -w '%{http_code}' --max-time 30 --data-urlencode "csrf=$c" \
	--data-urlencode "given_name=Fault" --data-urlencode "family_name=Drained" \
	--data-urlencode "lang=it" "$base/staff/patients/new" >"$tmp/drain.code" 2>/dev/null &
cpid=$!
sleep 0.5
stop_server TERM
wait "$cpid" || true
unlock_wait
code=$(cat "$tmp/drain.code")
[ "$code" = 303 ] && pass "SIGTERM during a waiting write: it completed ($code)" ||
	fail "SIGTERM during a waiting write: the request got '$code'"
[ "$rc" = 0 ] && pass "the server exited 0 after SIGTERM" || fail "the server exited $rc after SIGTERM"
[ "$(count_family Drained)" = 1 ] || fail "the drained write is not in the database"
if curl -s -o /dev/null --max-time 2 "$base/healthz"; then fail "still listening after exit"; fi

# --- 4. SIGTERM during a burst of sign-ins
start_server
n=0
while [ $n -lt 6 ]; do
	n=$((n + 1))
	curl -fs -c "$tmp/j$n" -b "$tmp/j$n" -o "$tmp/j$n.html" "$base/staff/login" || die "GET /staff/login"
done
n=0
cpids=""
while [ $n -lt 6 ]; do
	n=$((n + 1))
	c=$(csrf_of "$tmp/j$n.html")
	curl -s -c "$tmp/j$n" -b "$tmp/j$n" -o /dev/null -w '%{http_code}' --max-time 30 \
		--data-urlencode "csrf=$c" --data-urlencode "email=admin@sanluca.example" \
		--data-urlencode "password=invito-demo" "$base/staff/login" >"$tmp/s$n.code" 2>/dev/null &
	cpids="$cpids $!"
done
sleep 0.05
stop_server TERM
for p in $cpids; do wait "$p" || true; done
codes=$(for f in "$tmp"/s*.code; do printf '%s ' "$(cat "$f")"; done)
bad=0
for c in $codes; do
	case "$c" in 303 | 503) ;; *) bad=1 ;; esac
done
[ "$bad" = 0 ] && pass "SIGTERM during 6 sign-ins: every one answered ($codes)" ||
	fail "SIGTERM during 6 sign-ins: answers $codes (000 = none)"
[ "$rc" = 0 ] && pass "the server exited 0" || fail "the server exited $rc"

# --- 5. SIGKILL during a bulk invite, then restart: all of it or none of it, never twice
BULK_N=${FAULTS_BULK_N:-30000}
org=$(sqlite3 "$db" "SELECT id FROM organisations WHERE kind = 'customer' ORDER BY id LIMIT 1")
sqlite3 "$db" ".timeout 5000" "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n
	WHERE x < $BULK_N) INSERT INTO patients (org_id, given_name, family_name, family_key,
	search_key, search_key_fg, mobile, lang, created_at, updated_at) SELECT $org, 'Bulk',
	'Killed' || x, 'killed' || x, 'bulkkilled' || x, 'killedbulk' || x,
	'+39335' || (1000000 + x), 'it', 0, 0 FROM n" || die "seeding $BULK_N patients"
bulk_inv() { sqlite3 "$db" ".timeout 5000" "SELECT count(*) FROM invitations i JOIN patients p
	ON p.id = i.patient_id WHERE p.given_name = 'Bulk'"; }
bulk_msg() { sqlite3 "$db" ".timeout 5000" "SELECT count(*) FROM messages m JOIN patients p
	ON p.id = m.patient_id WHERE p.given_name = 'Bulk' AND m.kind = 'invitation'"; }
start_server
jar="$tmp/jar5"
signin "$jar"
curl -fs -b "$jar" -o "$tmp/plist.html" "$base/staff/patients?q=bulk" || die "GET /staff/patients"
c=$(csrf_of "$tmp/plist.html")
curl -s -b "$jar" -o "$tmp/confirm.html" --max-time 60 --data-urlencode "csrf=$c" \
	--data-urlencode "action=invite" --data-urlencode "scope=filter" --data-urlencode "q=bulk" \
	"$base/staff/patients/actions" || die "the bulk confirmation"
batch=$(sed -n 's/.*name="batch" value="\([0-9a-f]*\)".*/\1/p' "$tmp/confirm.html" | head -1)
[ -n "$batch" ] || die "no batch key on the bulk confirmation page"
submit_bulk() {
	curl -s -b "$jar" -o "$tmp/report.html" -w '%{http_code}' --max-time 120 \
		--data-urlencode "csrf=$c" --data-urlencode "batch=$batch" \
		--data-urlencode "scope=filter" --data-urlencode "q=bulk" \
		"$base/staff/patients/invite" 2>/dev/null || true
}
submit_bulk >"$tmp/bulk.code" &
cpid=$!
# Kill while the run's write transaction is open (a second writer is refused at once), not
# after a fixed pause: since migration 010 a run of 30,000 commits in well under a second,
# and 'sleep 1' killed a server that had already answered 200.
t=0
while [ $t -lt 500 ] && sqlite3 "$db" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; do
	sleep 0.01
	t=$((t + 1))
done
sleep 0.1
stop_server KILL
wait "$cpid" || true
code=$(cat "$tmp/bulk.code")
start_server
i1=$(bulk_inv)
m1=$(bulk_msg)
if [ "$code" = 200 ]; then
	fail "SIGKILL during a bulk invite: the run had finished (200) before the kill"
elif [ "$i1" = "$m1" ] && { [ "$i1" = 0 ] || [ "$i1" = "$BULK_N" ]; }; then
	pass "SIGKILL during a bulk invite of $BULK_N (answer '$code'): after restart $i1 invitations and $m1 messages, all or nothing"
else
	fail "SIGKILL during a bulk invite: $i1 invitations and $m1 messages after restart (expected 0 or $BULK_N, equal)"
fi
# the session lives in the database: it survived the kill, and so does the form's token
res=$(submit_bulk)
i2=$(bulk_inv)
m2=$(bulk_msg)
twice=$(sqlite3 "$db" ".timeout 5000" "SELECT count(*) FROM (SELECT i.patient_id FROM invitations i
	JOIN patients p ON p.id = i.patient_id WHERE p.given_name = 'Bulk'
	GROUP BY i.patient_id HAVING count(*) > 1) t")
if [ "$res" = 200 ] && [ "$i2" = "$BULK_N" ] && [ "$m2" = "$BULK_N" ] && [ "$twice" = 0 ]; then
	pass "the same form submitted again after the restart: every patient invited exactly once ($i2)"
else
	fail "after the restart: answer $res, $i2 invitations, $m2 messages, $twice patients invited twice"
fi
stop_server TERM

# --- 6. the disk fills up during a bulk invite: a clear error, nothing half-done
mnt="$tmp/small"
mkdir -p "$mnt"
if mount -t tmpfs -o size=64m tmpfs "$mnt" 2>/dev/null; then
	sqlite3 "$db" ".timeout 5000" ".backup '$mnt/invito.db'" || die "copying the database"
	sqlite3 "$mnt/invito.db" "DELETE FROM messages WHERE patient_id IN (SELECT id FROM patients
		WHERE given_name = 'Bulk'); DELETE FROM invitations WHERE patient_id IN (SELECT id FROM
		patients WHERE given_name = 'Bulk'); DELETE FROM invite_batches; VACUUM;" ||
		die "preparing the database"
	db="$mnt/invito.db"
	export INVITO_DATABASE="$db"
	start_server
	jar="$tmp/jar6"
	signin "$jar"
	curl -fs -b "$jar" -o "$tmp/plist.html" "$base/staff/patients?q=bulk" || die "GET /staff/patients"
	c=$(csrf_of "$tmp/plist.html")
	curl -s -b "$jar" -o "$tmp/confirm.html" --max-time 60 --data-urlencode "csrf=$c" \
		--data-urlencode "action=invite" --data-urlencode "scope=filter" --data-urlencode "q=bulk" \
		"$base/staff/patients/actions" || die "the bulk confirmation"
	batch=$(sed -n 's/.*name="batch" value="\([0-9a-f]*\)".*/\1/p' "$tmp/confirm.html" | head -1)
	# leave about 2 MB free: far less than 30,000 invitations and messages need
	used=$(du -sk "$mnt" | cut -f1)
	mount -o remount,size=$((used + 2048))k "$mnt" || die "shrinking the disk"
	res=$(submit_bulk)
	i1=$(bulk_inv)
	if [ "$res" = 507 ] && [ "$i1" = 0 ] && [ "$(bulk_msg)" = 0 ]; then
		pass "a bulk invite on a full disk: $res, nothing written"
	else
		fail "a bulk invite on a full disk: answer $res (want 507), $i1 invitations left"
	fi
	grep -qi "storage\|archiviazione" "$tmp/report.html" || fail "the full disk's page does not say storage is full"
	kill -0 "$pid" 2>/dev/null && pass "the server carries on after the full disk" ||
		fail "the server died on a full disk"
	mount -o remount,size=256m "$mnt" || die "growing the disk"
	res=$(submit_bulk)
	if [ "$res" = 200 ] && [ "$(bulk_inv)" = "$BULK_N" ] && [ "$(bulk_msg)" = "$BULK_N" ]; then
		pass "with room again, the same form invites all $BULK_N once"
	else
		fail "with room again: answer $res, $(bulk_inv) invitations"
	fi
	stop_server TERM
	umount "$mnt"
else
	echo "faults: skipped the full-disk check: mounting a small tmpfs needs root"
fi

if grep -qi "AddressSanitizer\|runtime error\|Segmentation\|Aborted" "$tmp/server.log"; then
	fail "the server log shows a crash"
fi
if [ "$status" != 0 ]; then
	echo "--- server log (last lines)"
	tail -30 "$tmp/server.log"
fi
[ "$status" = 0 ] && echo "faults: ok"
exit $status
