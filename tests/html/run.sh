#!/bin/sh
# make html: the Nu HTML Checker (npm vnu-jar, Java 17) on every patient and staff page. Starts
# $INVITO_BIN (default build/invito) on a free loopback port with fresh demo data, signs in a
# patient and a staff user (a cookie jar each) and fetches with curl every page of the list in
# tests/browser/pages.mjs (the browser tests' list: the same steps find real ids, the same forms
# are submitted with a CSRF token taken from the page), then checks all of them in one JVM.
# Fails listing each file and message. HTML_KEEP=DIR keeps the pages there. Network: 127.0.0.1 only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${INVITO_BIN:-build/invito}
case $bin in /*) ;; *) bin="$top/$bin" ;; esac
vnu="$top/tests/browser/node_modules/vnu-jar/build/dist/vnu.jar"
if [ ! -f "$vnu" ] || [ "$top/tests/browser/package-lock.json" -nt "$top/tests/browser/node_modules" ]; then
	(cd "$top/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
t0=$(date +%s)

tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	if [ -n "${HTML_KEEP:-}" ]; then rm -rf "$HTML_KEEP" && cp -r "$tmp/html" "$HTML_KEEP"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + $$ % 20000)))
base="http://127.0.0.1:$port"
export INVITO_DATABASE="$tmp/invito.db" INVITO_PORT="$port" INVITO_BASE_URL="$base"
"$bin" demo >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; exit 1; }
"$bin" serve >"$tmp/server.log" 2>&1 &
pid=$!
i=0
until curl -fs -o /dev/null "$base/healthz"; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "html: server did not start"; cat "$tmp/server.log"; exit 1
	fi
	sleep 0.1
done

mkdir "$tmp/html"
echo "in7days=$(date -d '+7 day' +%F)" >"$tmp/vars"

# subst STRING: STRING with each {var} found so far replaced (values are ids and URL tokens).
subst() {
	s=$1
	while IFS='=' read -r k v; do
		case $s in *"{$k}"*) s=$(printf '%s' "$s" | sed "s|{$k}|$v|g") ;; esac
	done <"$tmp/vars"
	case $s in *'{'*'}'*) echo "html: no value for a {var} in $s" >&2; exit 1 ;; esac
	printf '%s' "$s"
}

# fetch AS PATH POST TO FIELDS OUT: GET PATH as AS (anon, patient, staff; one cookie jar each),
# or with POST, submit it to TO with FIELDS and the page's CSRF token; follows redirects. OUT gets
# the page; prints the final status code and URL.
fetch() {
	jar="$tmp/$1.jar"
	if [ -z "$3" ]; then
		curl -s -L -b "$jar" -c "$jar" -o "$6" -w '%{http_code} %{url_effective}' "$base$2"
		return
	fi
	csrf=$(curl -s -L -b "$jar" -c "$jar" "$base$2" |
		sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
	[ -n "$csrf" ] || { echo "html: no CSRF token on $2" >&2; exit 1; }
	curl -s -L -b "$jar" -c "$jar" -o "$6" -w '%{http_code} %{url_effective}' \
		--data "csrf=$csrf${5:+&$5}" "$base$4"
}

n=0
failed=0
node "$top/tests/browser/pages.mjs" >"$tmp/list"
while IFS='|' read -r kind name as path post to fields re set; do
	path=$(subst "$path")
	post=$(subst "$post")
	to=$(subst "$to")
	fields=$(subst "$fields")
	case $kind in
	signin)
		r=$(fetch "$as" "$path" "$post" "$to" "$fields" "$tmp/signin.html")
		case $r in
		*/login*) echo "html: $as sign-in failed ($r)"; exit 1 ;;
		esac
		;;
	step)
		r=$(fetch "$as" "$path" "$post" "$to" "$fields" "$tmp/step.html")
		[ -z "$re" ] && continue
		v=$({ echo "$r"; cat "$tmp/step.html"; } | grep -oE "$re" | head -1 | sed -E "s#$re#\\1#")
		if [ -z "$v" ]; then
			echo "html: step '$set' found nothing like $re on $path (${r%% *})"; exit 1
		fi
		echo "$set=$v" >>"$tmp/vars"
		;;
	page)
		n=$((n + 1))
		out="$tmp/html/$(printf '%02d' $n)-$as-$name.html"
		r=$(fetch "$as" "$path" "$post" "$to" "$fields" "$out")
		echo "$r $out" >>"$tmp/html/status.txt"
		case ${r%% *} in
		5*) echo "html: $name: ${r%% *} on $path"; failed=1 ;;
		esac
		;;
	esac
done <"$tmp/list"
t1=$(date +%s)

cd "$tmp/html"
if java -jar "$vnu" --errors-only --format text ./*.html >"$tmp/vnu.out" 2>&1; then
	rc=0
else
	rc=1
fi
t2=$(date +%s)
# "Error: MSG" then "From line L, column C; to ... in resource file:/.../NN-as-name.html":
# one line per error, "NN-as-name.html:L: MSG".
awk '/^Error: / { msg = substr($0, 8); next }
	/^(From|At) line / { f = $NF; sub(/.*\//, "", f); split($0, w, /[ ,]+/); print f ":" w[3] ": " msg; next }
	/^Document checking completed/ { next }
	{ print }' "$tmp/vnu.out"
echo "html: $n pages fetched in $((t1 - t0)) s, checked in $((t2 - t1)) s"
[ $rc -eq 0 ] && [ $failed -eq 0 ] || { echo "html: FAILED"; exit 1; }
echo "html: no errors"
