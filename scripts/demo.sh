#!/bin/sh
# `make demo` runs this after building: creates (or reuses) demo/invito.db,
# says where to click and how to sign in, then serves it on 127.0.0.1:8080.
# Run from the repository root; INVITO_PORT and INVITO_BASE_URL are honoured.
set -eu

cd "$(dirname "$0")/.."
BIN=${INVITO_BIN:-build/invito}
if [ ! -x "$BIN" ]; then
	echo "demo: $BIN is missing; run make first" >&2
	exit 1
fi

mkdir -p demo
INVITO_DATABASE=demo/invito.db
export INVITO_DATABASE

"$BIN" demo "$@"

PORT=${INVITO_PORT:-8080}
echo
echo "Open http://127.0.0.1:$PORT/staff/login"
echo "  staff sign-in: admin@sanluca.example / invito-demo"
echo "  messages sent by the demo (the log transport) are at http://127.0.0.1:$PORT/dev/outbox"
echo "Ctrl-C stops the server; the data stays in demo/invito.db (make demo reuses it)."
echo
exec "$BIN" serve
