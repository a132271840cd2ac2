# demo-server.sh: sourced by tests/load/run.sh and bench/landing_hashing.sh.
# Starts $bin on a fresh demo database on a free loopback port ($base), signs a
# staff user in ($jar, $sid) and invites one patient ($token, from /dev/outbox).
# Needs: bin, top. Defines fail(), and cleanup() on EXIT (kills the server, removes $tmp).
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

