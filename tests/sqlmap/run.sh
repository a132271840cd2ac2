#!/bin/sh
# sqlmap (Debian package) against every form and query parameter of the patient and staff
# pages of a fresh demo server on a free loopback port (issue 6, "Hostile input").
#
# Starts `invito demo` on a temporary database and `invito serve`, signs in a member of
# staff and a patient with curl (the logins `invito demo` prints), reads a few real ids
# from the pages, then runs sqlmap on the GET pages (one bulk run per kind of session)
# and on each POST form (with its CSRF token: --csrf-token=csrf --csrf-url=the form's
# page). Bounded: level 1, risk 1, boolean/error/UNION techniques, the SQLite payloads
# only (queries are written once for both backends, with bound parameters), a timeout per
# run. Fails when sqlmap reports any parameter injectable, or when the server dies.
#
# Covered (the URLs and the parameters sqlmap injects; the CSRF token is skipped):
#   staff   GET  /staff/patients                      q status after
#           GET  /staff/patients/{id}                 sent saved done result
#           GET  /staff/messages                      state before
#           GET  /staff/appointments                  place day booked
#           GET  /staff/appointments/new              patient service place day time q
#           GET  /staff/services/{id}/places/{place}  saved created
#           GET  /staff/recalls                       state q after after_date done recall
#           GET  /staff/recalls/new                   patient q
#           POST /staff/login                         email password
#           POST /staff/patients/new                  given_name family_name birth_date
#                                                     mobile email lang external_ref
#           POST /staff/patients/actions              action ids q status
#           POST /staff/services/new                  org name duration kind payment price
#           POST /staff/appointments/new              patient service place date time kind
#                                                     payment amount
#           POST /staff/recalls/new                   patient service due_date channel
#           GET  /staff/settings, /staff/settings/times  saved unchanged
#           GET  /staff/activity                      group before
#           POST /staff/settings/organisation         name phone sender_name
#           POST /staff/settings/times                reminder_hours payment_reminder_hours
#                                                     cancel_cutoff_hours payment_flag_hours
#                                                     message_keep_days
#   API     POST /api/v1/appointments (JSON, key)     external_ref patient service start
#                                                     kind payment amount
#   patient GET  /search                              service place from to for after
#           GET  /book/{slot}                         for
#           GET  /appointments/{id}                   done payreq
#           GET  /account                             saved withdrawn
#           POST /account/contact                     email mobile
#           POST /book/{slot}                         for
#   public  GET  /login                               next
#           POST /login                               login password next
#           POST /forgot                              login
#           POST /signup                              given_name family_name birth_date
#                                                     mobile email
#
# Usage: tests/sqlmap/run.sh   (B=build dir, default build; SQLMAP_TIMEOUT per run, s;
# SQLMAP_LOG=FILE keeps sqlmap's whole output)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
bin="$top/$B/invito"
per_run=${SQLMAP_TIMEOUT:-150}
command -v sqlmap >/dev/null 2>&1 || { echo "sqlmap-tests: sqlmap is not installed (make deps)"; exit 1; }
[ -x "$bin" ] || { echo "sqlmap-tests: $bin not built"; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + $$ % 20000)))
base="http://127.0.0.1:$port"
export INVITO_DATABASE="$tmp/invito.db" INVITO_PORT="$port" INVITO_BASE_URL="$base" INVITO_LISTEN=127.0.0.1
"$bin" demo >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; exit 1; }
"$bin" serve >"$tmp/server.log" 2>&1 &
pid=$!
i=0
until curl -fs -o /dev/null "$base/healthz"; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "sqlmap-tests: server did not start"; cat "$tmp/server.log"; exit 1
	fi
	sleep 0.1
done

# The logins the demo printed: "staff sign-in:   EMAIL / PASSWORD".
staff_login=$(sed -n 's/.*staff sign-in: *\([^ ]*\) \/ \(.*\)$/\1 \2/p' "$tmp/demo.log" | head -1)
patient_login=$(sed -n 's/.*patient sign-in: *\([^ ]*\) \/ \([^ ]*\).*$/\1 \2/p' "$tmp/demo.log" | head -1)
[ -n "$staff_login" ] && [ -n "$patient_login" ] || { echo "sqlmap-tests: no logins in the demo output"; cat "$tmp/demo.log"; exit 1; }

# csrf PAGE JAR: the value of the page's csrf field.
csrf() {
	curl -s -b "$2" -c "$2" "$base$1" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1
}
# cookie JAR NAME: a cookie's value in a curl jar.
cookie() {
	awk -v n="$2" '$6 == n { v = $7 } END { print v }' "$1"
}
signin() { # JAR LOGIN_PAGE ACTION USER_FIELD USER PASSWORD
	t=$(csrf "$2" "$1")
	code=$(curl -s -o /dev/null -w '%{http_code}' -b "$1" -c "$1" --data-urlencode "csrf=$t" \
		--data-urlencode "$4=$5" --data-urlencode "password=$6" "$base$3")
	[ "$code" = 303 ] || { echo "sqlmap-tests: sign-in at $3 answered $code"; exit 1; }
}
# shellcheck disable=SC2086
set -- $staff_login
signin "$tmp/staff.jar" /staff/login /staff/login email "$1" "$2"
# shellcheck disable=SC2086
set -- $patient_login
signin "$tmp/patient.jar" /login /login login "$1" "$2"
staff_cookie="sid=$(cookie "$tmp/staff.jar" sid); lang=en"
patient_cookie="sid=$(cookie "$tmp/patient.jar" sid); lang=en"
curl -s -o /dev/null -c "$tmp/anon.jar" "$base/login"
anon_csrf=$(cookie "$tmp/anon.jar" csrf)
anon_cookie="csrf=$anon_csrf; lang=en"
staff_csrf=$(csrf /staff/patients "$tmp/staff.jar")
patient_csrf=$(csrf /account "$tmp/patient.jar")

# Real ids from the pages, so the handlers get past "not found" to their queries.
first() { # COOKIE PATH PATTERN: the first number matched by PATTERN (sed -E) on the page
	curl -s -H "Cookie: $1" "$base$2" | sed -nE "s#.*$3.*#\\1#p" | head -1
}
patient_id=$(first "$staff_cookie" /staff/patients 'href="/staff/patients/([0-9]+)"')
service_id=$(first "$staff_cookie" /staff/services 'href="/staff/services/([0-9]+)"')
place_id=$(first "$staff_cookie" "/staff/services/$service_id" "href=\"/staff/services/$service_id/places/([0-9]+)\"")
appt_id=$(first "$patient_cookie" / 'href="/appointments/([0-9]+)"')
slot_id=$(first "$patient_cookie" "/search?service=$service_id" 'href="/book/([0-9]+)')
for v in patient_id service_id place_id appt_id slot_id; do
	eval "x=\${$v}"
	[ -n "$x" ] || { echo "sqlmap-tests: no $v found on the demo pages"; exit 1; }
done
day=$(date -u +%Y-%m-%d)

opts="--batch --disable-coloring --flush-session --output-dir=$tmp/out --level=1 --risk=1
	--technique=BEU --dbms=SQLite --timeout=10 --retries=1 --skip=csrf
	--skip-waf --drop-set-cookie --ignore-code=400,403,404,405,409,413,429 -v 1"
runs=0
fail=0
log="$tmp/sqlmap.log"

sqlmap_run() { # NAME ARGS...
	name=$1
	shift
	runs=$((runs + 1))
	# shellcheck disable=SC2086
	TERM=dumb timeout "$per_run" sqlmap $opts "$@" </dev/null >"$tmp/run.log" 2>&1 || true
	cat "$tmp/run.log" >>"$log"
	if grep -Eq "identified the following injection point|is vulnerable|appears to be '.*' injectable" "$tmp/run.log"; then
		echo "sqlmap-tests: INJECTABLE: $name"
		grep -E "Parameter:|injectable|Payload:" "$tmp/run.log" | head -20
		fail=1
	elif ! grep -q "all tested parameters do not appear to be injectable\|does not seem to be injectable\|do not appear to be injectable" "$tmp/run.log"; then
		echo "sqlmap-tests: $name: no verdict from sqlmap"
		tail -20 "$tmp/run.log"
		fail=1
	else
		echo "sqlmap-tests: $name: nothing injectable"
	fi
}

# GET pages, one bulk run per session.
cat >"$tmp/staff-get.txt" <<EOF
$base/staff/patients?q=ros&status=all&after=1
$base/staff/patients/$patient_id?sent=1&saved=1&done=1&result=ok
$base/staff/messages?state=dead&before=100000
$base/staff/appointments?place=$place_id&day=$day&booked=1
$base/staff/appointments/new?patient=$patient_id&service=$service_id&place=$place_id&day=$day&time=09:00&q=ros
$base/staff/services/$service_id/places/$place_id?saved=1&created=1
$base/staff/recalls?state=due&q=ros&after=1&after_date=$day&done=1&recall=1
$base/staff/recalls/new?patient=$patient_id&q=ros
$base/staff/settings?saved=organisation&unchanged=1
$base/staff/settings/times?saved=1
$base/staff/activity?group=invitations&before=1800000000.100
EOF
cat >"$tmp/patient-get.txt" <<EOF
$base/search?service=$service_id&place=$place_id&from=$day&to=$day&for=1&after=1
$base/book/$slot_id?for=1
$base/appointments/$appt_id?done=1&payreq=1
$base/account?saved=1&withdrawn=1
EOF
sqlmap_run "staff GET pages" -m "$tmp/staff-get.txt" --cookie="$staff_cookie" --threads=4
sqlmap_run "patient GET pages" -m "$tmp/patient-get.txt" --cookie="$patient_cookie" --threads=4
sqlmap_run "GET /login" -u "$base/login?next=/account" --cookie="$anon_cookie"

# POST forms, each with its CSRF token read again from its page before every request.
post() { # NAME URL PAGE COOKIE DATA
	sqlmap_run "$1" -u "$base$2" --data="$5" --cookie="$4" --csrf-token=csrf --csrf-url="$base$3"
}
post "POST /staff/login" /staff/login /staff/login "$anon_cookie" \
	"csrf=$anon_csrf&email=nobody%40example.test&password=x"
post "POST /login" /login /login "$anon_cookie" "csrf=$anon_csrf&login=nobody%40example.test&password=x&next=/"
post "POST /forgot" /forgot /forgot "$anon_cookie" "csrf=$anon_csrf&login=nobody%40example.test"
post "POST /signup" /signup /signup "$anon_cookie" \
	"csrf=$anon_csrf&given_name=Ada&family_name=Rossi&birth_date=01%2F01%2F1980&mobile=3331234567&email=ada%40example.test"
post "POST /staff/patients/new" /staff/patients/new /staff/patients/new "$staff_cookie" \
	"csrf=$staff_csrf&given_name=Ada&family_name=Rossi&birth_date=01%2F01%2F1980&mobile=3331234567&email=ada%40example.test&lang=it&external_ref=X1"
post "POST /staff/patients/actions" /staff/patients/actions /staff/patients "$staff_cookie" \
	"csrf=$staff_csrf&action=export_csv&ids=$patient_id&q=ros&status=all"
post "POST /staff/services/new" /staff/services/new /staff/services/new "$staff_cookie" \
	"csrf=$staff_csrf&org=$place_id&name=Test&duration=30&kind=in_person&payment=none&price=0"
post "POST /staff/appointments/new" /staff/appointments/new /staff/appointments/new "$staff_cookie" \
	"csrf=$staff_csrf&patient=$patient_id&service=$service_id&place=$place_id&date=$day&time=09:00&kind=in_person&payment=none&amount=0"
post "POST /staff/recalls/new" /staff/recalls/new "/staff/recalls/new?patient=$patient_id" "$staff_cookie" \
	"csrf=$staff_csrf&patient=$patient_id&service=$service_id&due_date=2099-01-01&channel=sms"
post "POST /account/contact" /account/contact /account "$patient_cookie" \
	"csrf=$patient_csrf&email=new%40example.test&mobile=3339876543"
post "POST /book/{slot}" "/book/$slot_id" "/book/$slot_id" "$patient_cookie" "csrf=$patient_csrf&for=1"
post "POST /staff/settings/organisation" /staff/settings/organisation /staff/settings "$staff_cookie" \
	"csrf=$staff_csrf&name=Studio%20Test&phone=%2B39%2006%201234%205678&sender_name=StudioTest"
post "POST /staff/settings/times" /staff/settings/times /staff/settings/times "$staff_cookie" \
	"csrf=$staff_csrf&reminder_hours=24&payment_reminder_hours=48&cancel_cutoff_hours=24&payment_flag_hours=24&message_keep_days=30"

# The API: JSON with an organisation key (no cookies, no CSRF).
key=$("$bin" apikey add --org 1 --name sqlmap 2>/dev/null) || { echo "sqlmap-tests: apikey add failed"; exit 1; }
sqlmap_run "POST /api/v1/appointments" -u "$base/api/v1/appointments" \
	--headers="Authorization: Bearer $key" \
	--data='{"external_ref": "SQLMAP-1", "patient": "PAT-1", "service": "Visita", "start": "2099-03-05T09:30", "kind": "video", "payment": "mandatory", "amount": "45.00"}'

if ! curl -fs -o /dev/null "$base/healthz"; then
	echo "sqlmap-tests: the server stopped answering"; tail -30 "$tmp/server.log"; fail=1
fi
if grep -q "ERROR\|error.*SQL\|syntax error" "$tmp/server.log"; then
	echo "sqlmap-tests: SQL errors in the server log:"; grep "ERROR\|SQL\|syntax" "$tmp/server.log" | head -10
	fail=1
fi
[ -n "${SQLMAP_LOG:-}" ] && cp "$log" "$SQLMAP_LOG"
echo "sqlmap-tests: $runs sqlmap runs, $( [ $fail = 0 ] && echo 'nothing injectable' || echo FAILED )"
exit $fail
