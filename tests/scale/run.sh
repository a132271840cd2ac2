#!/bin/bash
# tests/scale/run.sh: the scale-out test (make scale).
#
# Two `invito serve` nodes on loopback ports, both on one throwaway PostgreSQL
# (scripts/pg-test.sh; a schema of its own when INVITO_TEST_PG is given), and
# Debian's haproxy in front of them with docs/haproxy.cfg.example, the sample
# configuration OPERATIONS.md documents. Checks, with curl:
#   1. staff sign-in on node 1 is valid on node 2;
#   2. a patient signed in on node 2 is signed in on node 1;
#   3. a patient invited through node 1 (staff profile, "Invite") opens the link
#      and activates the account through node 2, and is then signed in on node 1;
#      staff sign-out on node 2 ends the session on node 1;
#   4. a bounded load of writes (staff adding patients) through haproxy while
#      node 1 is killed (SIGKILL) in the middle: every request that got a
#      2xx/3xx answer is in the database, at most one request per client (the
#      one in flight) fails, and the sessions keep working through haproxy.
# Both nodes run the outbox dispatcher and the scheduler, and so does a third
# process, `invito worker` (no web server): every message the demo's due work
# queues is sent once, by one of them, also after node 1 dies.
#
#   B=build tests/scale/run.sh        # uses $B/invito; INVITO_BIN overrides
# Exit status 0 when every check passed. Needs haproxy, curl, psql, PostgreSQL.
set -euo pipefail

cd "$(dirname "$0")/../.."
B=${B:-build}
BIN=${INVITO_BIN:-$B/invito}

if [ -z "${INVITO_TEST_PG:-}" ]; then
	exec ./scripts/pg-test.sh "$0" "$@"
fi
for tool in haproxy curl psql; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "scale: $tool is missing (make deps installs it)" >&2
		exit 1
	fi
done
[ -x "$BIN" ] || {
	echo "scale: $BIN is not built" >&2
	exit 1
}

WORKERS=4       # load clients
PER_WORKER=60   # requests each
KILL_AFTER=80   # answered requests before node 1 is killed

t_start=$(date +%s%N)
work=$(mktemp -d /tmp/invito-scale.XXXXXX)
schema="invito_scale_$$"
pids=()
failures=0

psqlq() {
	psql -X -q -t -A -v ON_ERROR_STOP=1 "$INVITO_TEST_PG" -c "SET search_path = $schema" -c "$1"
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		kill -CONT "$p" 2>/dev/null || true # a paused node takes its SIGTERM too
	done
	wait 2>/dev/null || true
	psql -X -q "$INVITO_TEST_PG" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
	if [ "$failures" != 0 ] || [ "${KEEP:-}" = 1 ]; then
		for f in "$work"/*.log; do
			[ -f "$f" ] && { echo "--- $f (last lines)"; tail -n 15 "$f"; }
		done
	fi
	rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "scale: ok   $*"; }
fail() {
	echo "scale: FAIL $*" >&2
	failures=$((failures + 1))
}
expect() { # expect WHAT GOT WANTED
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got $2, wanted $3"; fi
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if port_free "$p"; then
			echo "$p"
			return
		fi
	done
}

wait_http() { # wait_http URL: up to 10 s for a 200
	for _ in $(seq 1 100); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# req JAR URL [curl args...]: prints "STATUS LOCATION"; the body goes to $work/body.
req() {
	local jar=$1 url=$2
	shift 2
	curl -s -o "$work/body" -w '%{http_code} %header{location}' -b "$jar" -c "$jar" \
		--max-time 30 "$@" "$url" || echo "000 "
}
csrf() { # the first csrf field of the last body
	grep -o 'name="csrf" value="[^"]*"' "$work/body" | head -n1 | sed 's/.*value="//; s/"$//'
}

# --- database, nodes, balancer --------------------------------------------

psql -X -q -v ON_ERROR_STOP=1 "$INVITO_TEST_PG" -c "CREATE SCHEMA $schema"
sep='?'
case "$INVITO_TEST_PG" in *\?*) sep='&' ;; esac
DB="${INVITO_TEST_PG}${sep}options=-csearch_path%3D$schema"

LB_PORT=$(free_port)
P1=$(free_port)
P2=$(free_port)
while [ "$P2" = "$P1" ] || [ "$P2" = "$LB_PORT" ]; do P2=$(free_port); done
LB="http://127.0.0.1:$LB_PORT"
N1="http://127.0.0.1:$P1"
N2="http://127.0.0.1:$P2"

export INVITO_DATABASE="$DB" INVITO_BASE_URL="$LB" INVITO_TRANSPORT=log INVITO_LISTEN=127.0.0.1 \
	INVITO_DB_POOL=4 INVITO_THREADS=4 INVITO_LOG_LEVEL=info INVITO_DISPATCH_CLAIM_TIMEOUT=5 \
	INVITO_DISPATCH_BATCH=2
"$BIN" --config /dev/null demo >"$work/demo.out" 2>"$work/demo.log"
patient_login=$(sed -n 's/^  patient sign-in: \([^ ]*\) \/ \([^ ]*\)$/\1/p' "$work/demo.out" | tail -n1)
patient_pw=$(sed -n 's/^  patient sign-in: \([^ ]*\) \/ \([^ ]*\)$/\2/p' "$work/demo.out" | tail -n1)
staff_email=$(sed -n 's/^  staff sign-in: *\([^ ]*\) \/ .*/\1/p' "$work/demo.out")
staff_pw=$(sed -n 's/^  staff sign-in: *[^ ]* \/ \([^ ]*\)$/\1/p' "$work/demo.out")

start_node() { # start_node N PORT
	INVITO_PORT=$2 "$BIN" --config /dev/null serve >"$work/node$1.out" 2>"$work/node$1.log" &
	pids+=($!)
	eval "NODE$1_PID=$!"
}
start_node 1 "$P1"
start_node 2 "$P2"
"$BIN" --config /dev/null worker >"$work/worker.out" 2>"$work/worker.log" &
pids+=($!)
WORKER_PID=$!
wait_http "$N1/healthz" || { fail "node 1 did not start"; exit 1; }
wait_http "$N2/healthz" || { fail "node 2 did not start"; exit 1; }

INVITO_LB_BIND="127.0.0.1:$LB_PORT" INVITO_NODE1="127.0.0.1:$P1" INVITO_NODE2="127.0.0.1:$P2" \
	haproxy -db -f docs/haproxy.cfg.example >"$work/haproxy.log" 2>&1 &
pids+=($!)
wait_http "$LB/healthz" || { fail "haproxy did not start"; exit 1; }
echo "scale: nodes on :$P1 and :$P2, haproxy on :$LB_PORT, PostgreSQL schema $schema"

# --- 1. staff sign-in on one node, valid on the other -----------------------

S="$work/staff.jar"
touch "$S"
req "$S" "$N1/staff/login" >/dev/null
tok=$(csrf)
r=$(req "$S" "$N1/staff/login" --data-urlencode "csrf=$tok" --data-urlencode "email=$staff_email" \
	--data-urlencode "password=$staff_pw")
expect "staff signs in on node 1" "${r%% *}" 303
r=$(req "$S" "$N2/staff/patients")
expect "node 2 knows the staff session" "${r%% *}" 200

# --- 2. a patient session on one node, valid on the other -------------------

P="$work/patient.jar"
touch "$P"
req "$P" "$N2/login" >/dev/null
tok=$(csrf)
r=$(req "$P" "$N2/login" --data-urlencode "csrf=$tok" --data-urlencode "login=$patient_login" \
	--data-urlencode "password=$patient_pw")
expect "patient signs in on node 2" "${r%% *}" 303
r=$(req "$P" "$N1/")
if [ "${r%% *}" = 200 ] && grep -q 'action="/logout"' "$work/body"; then
	pass "node 1 knows the patient session"
else
	fail "node 1 does not know the patient session ($r)"
fi

# --- 3. invited through node 1, activated through node 2 --------------------

row=$(psqlq "SELECT p.id || ' ' || p.family_name FROM patients p WHERE p.managed_by IS NULL
	AND p.email IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.patient_id = p.id)
	AND NOT EXISTS (SELECT 1 FROM patients c WHERE c.managed_by = p.id) ORDER BY p.id LIMIT 1")
pid=${row%% *}
family=${row#* }
req "$S" "$N1/staff/patients/$pid" >/dev/null
tok=$(csrf)
r=$(req "$S" "$N1/staff/patients/$pid/invite" --data-urlencode "csrf=$tok" \
	--data-urlencode "channel=email")
expect "staff invites patient $pid through node 1" "${r%% *}" 303
link=$(psqlq "SELECT body FROM messages WHERE patient_id = $pid AND kind = 'invitation'
	ORDER BY id DESC LIMIT 1" | grep -o '/i/[A-Za-z0-9_-]*' | head -n1 || true)
if [ -n "$link" ]; then pass "the invitation is in the outbox"; else fail "no invitation link"; fi
I="$work/invitee.jar"
touch "$I"
r=$(req "$I" "$N2$link")
expect "the landing page opens on node 2" "${r%% *}" 200
tok=$(csrf)
pw="scale-test-password-1"
r=$(req "$I" "$N2$link" --data-urlencode "csrf=$tok" --data-urlencode "family_name=$family" \
	--data-urlencode "password=$pw" --data-urlencode "password2=$pw" --data-urlencode "consent=1")
expect "the patient activates the account on node 2" "${r%% *}" 303
n=$(psqlq "SELECT COUNT(*) FROM accounts WHERE patient_id = $pid AND pw_hash IS NOT NULL")
expect "the account exists" "$n" 1
r=$(req "$I" "$N1/")
if [ "${r%% *}" = 200 ] && grep -q 'action="/logout"' "$work/body"; then
	pass "the new patient is signed in on node 1"
else
	fail "the new patient is not signed in on node 1 ($r)"
fi

# --- sign-out on node 2 ends the staff session on node 1 ----------------------

req "$S" "$N2/staff/patients" >/dev/null
tok=$(csrf)
r=$(req "$S" "$N2/staff/logout" --data-urlencode "csrf=$tok")
expect "staff signs out on node 2" "${r%% *}" 303
r=$(req "$S" "$N1/staff/patients")
expect "node 1 no longer knows the staff session" "${r%% *}" 303

# --- 4. load through haproxy, node 1 killed in the middle -------------------

L="$work/loader.jar"
touch "$L"
req "$L" "$LB/staff/login" >/dev/null
tok=$(csrf)
r=$(req "$L" "$LB/staff/login" --data-urlencode "csrf=$tok" --data-urlencode "email=$staff_email" \
	--data-urlencode "password=$staff_pw")
expect "staff signs in through haproxy" "${r%% *}" 303
req "$L" "$LB/staff/patients/new" >/dev/null
load_csrf=$(csrf)

worker() { # worker W: PER_WORKER patients, one line "NAME STATUS" each
	local w=$1 i name code
	for i in $(seq 1 $PER_WORKER); do
		name="W${w}R${i}"
		code=$(curl -s -o /dev/null -w '%{http_code}' -b "$L" --max-time 30 \
			--data-urlencode "csrf=$load_csrf" --data-urlencode "given_name=Load" \
			--data-urlencode "family_name=$name" --data-urlencode "lang=it" \
			"$LB/staff/patients/new" || true)
		echo "$name ${code:-000}" >>"$work/load.$w"
	done
}
load_pids=()
for w in $(seq 1 $WORKERS); do
	: >"$work/load.$w"
	worker "$w" &
	load_pids+=($!)
done
for _ in $(seq 1 600); do
	[ "$(cat "$work"/load.* | wc -l)" -ge $KILL_AFTER ] && break
	sleep 0.01
done
kill -9 "$NODE1_PID"
killed_at=$(cat "$work"/load.* | wc -l)
wait "${load_pids[@]}"

cat "$work"/load.* >"$work/answers"
total=$(wc -l <"$work/answers")
acked=$(awk '$2 ~ /^[23][0-9][0-9]$/' "$work/answers" | wc -l)
failed=$((total - acked))
psqlq "SELECT family_name FROM patients WHERE given_name = 'Load'" | sort >"$work/stored"
awk '$2 ~ /^[23][0-9][0-9]$/ {print $1}' "$work/answers" | sort >"$work/acked"
missing=$(comm -23 "$work/acked" "$work/stored" | wc -l)
extra=$(comm -13 "$work/acked" "$work/stored" | wc -l)
dups=$(psqlq "SELECT COUNT(*) - COUNT(DISTINCT family_name) FROM patients WHERE given_name = 'Load'")
on1=$(grep -c 'POST /staff/patients/new' "$work/node1.log" || true)
on2=$(grep -c 'POST /staff/patients/new' "$work/node2.log" || true)
echo "scale: load: $total requests ($WORKERS clients), node 1 killed after $killed_at answers;" \
	"$acked acknowledged, $failed failed; node 1 logged $on1, node 2 $on2;" \
	"in the database: $((acked - missing)) of the acknowledged, $extra unacknowledged, $dups duplicates"
expect "every acknowledged request is in the database" "$missing" 0
expect "no request was applied twice" "$dups" 0
if [ "$failed" -gt 0 ]; then
	echo "scale: the failed requests (name, status):" \
		"$(awk '$2 !~ /^[23][0-9][0-9]$/' "$work/answers" | tr '\n' ' ')"
fi
if [ "$failed" -le $WORKERS ]; then
	pass "at most one request per client failed ($failed)"
else
	fail "$failed requests failed, more than the $WORKERS in flight"
fi
if [ "$on1" -gt 0 ] && [ "$on2" -gt 0 ]; then
	pass "both nodes served the load"
else
	fail "the load did not reach both nodes ($on1, $on2)"
fi
r=$(req "$L" "$LB/staff/patients")
expect "the staff session works through haproxy with node 1 dead" "${r%% *}" 200
r=$(req "$P" "$LB/")
if [ "${r%% *}" = 200 ] && grep -q 'action="/logout"' "$work/body"; then
	pass "the patient session works through haproxy with node 1 dead"
else
	fail "the patient session is lost ($r)"
fi

# --- outbox: both dispatchers ran, every message sent once ------------------

# Small batches (INVITO_DISPATCH_BATCH=2) make both dispatchers take part in
# sending the demo's due messages; claimed_by is host:pid:random:pass.
nodes=$(psqlq "SELECT COUNT(DISTINCT split_part(claimed_by, ':', 2)) FROM messages
	WHERE claimed_by IS NOT NULL")
if [ "$nodes" -ge 2 ]; then
	pass "$nodes of the 3 dispatchers (two nodes, one worker) sent messages"
else
	fail "only $nodes dispatcher(s) sent messages"
fi
left=1
for _ in $(seq 40); do
	left=$(psqlq "SELECT COUNT(*) FROM messages WHERE state <> 'sent'")
	[ "$left" = 0 ] && break
	sleep 0.5
done
total=$(psqlq "SELECT COUNT(*) FROM messages")
expect "every one of the $total queued messages is sent (node 2 takes over node 1's claims)" "$left" 0
twice=$(psqlq "SELECT COUNT(*) FROM messages WHERE attempts <> 1")
expect "no message was sent twice" "$twice" 0
dup=$(psqlq "SELECT COUNT(*) FROM (SELECT dedupe_key FROM messages WHERE dedupe_key IS NOT NULL
	GROUP BY dedupe_key HAVING COUNT(*) > 1) d")
expect "no due job queued a message twice on the two nodes" "$dup" 0

# --- the worker alone: node 1 is dead, node 2 paused -------------------------

# Five new messages while no web node can send: `invito worker` sends them all.
kill -STOP "$NODE2_PID"
psqlq "INSERT INTO messages (org_id, kind, channel, recipient, body, state, next_attempt_at,
	created_at) SELECT (SELECT MIN(id) FROM organisations), 'recall', 'sms', '+39333000000' || g,
	'worker check', 'queued', 0, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)
	FROM generate_series(1, 5) g" >/dev/null
left=1
for _ in $(seq 40); do
	left=$(psqlq "SELECT COUNT(*) FROM messages WHERE body = 'worker check' AND state <> 'sent'")
	[ "$left" = 0 ] && break
	sleep 0.5
done
kill -CONT "$NODE2_PID"
expect "the worker sends while no web node can" "$left" 0
by_worker=$(psqlq "SELECT COUNT(*) FROM messages WHERE body = 'worker check'
	AND split_part(claimed_by, ':', 2) = '$WORKER_PID'")
expect "the worker (no web server) sent all 5" "$by_worker" 5

elapsed_ms=$((($(date +%s%N) - t_start) / 1000000))
elapsed="$((elapsed_ms / 1000)).$((elapsed_ms % 1000 / 100))"
if [ "$failures" = 0 ]; then
	echo "scale: all checks passed in ${elapsed} s"
	exit 0
fi
echo "scale: $failures checks failed" >&2
exit 1
