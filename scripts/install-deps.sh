#!/bin/sh
# Installs the Debian packages invito needs to build, test and run the demo.
# Idempotent: it asks apt only for what is missing, so a second run is quick.
set -eu

PKGS="build-essential pkg-config ca-certificates curl git
libmicrohttpd-dev libsqlite3-dev sqlite3 libsodium-dev libutf8proc-dev
libcurl4-openssl-dev libjansson-dev libcsv-dev libzxcvbn-dev libcriterion-dev
libpq-dev postgresql haproxy gettext locales chromium python3-aiosmtpd
clang-14 libclang-rt-14-dev wrk sqlmap openjdk-17-jre-headless"

# A machine may carry its own Node.js build that ships npm and conflicts with
# Debian's npm package: take Debian's only when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
	PKGS="$PKGS nodejs npm"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi

if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# glibc gettext translates only in a locale that exists on the machine.
for loc in it_IT en_GB; do
	if ! locale -a 2>/dev/null | grep -qi "^$loc\.utf-\?8$"; then
		if [ -f /etc/locale.gen ]; then
			$SUDO sed -i "s/^# *\($loc.UTF-8 UTF-8\)/\1/" /etc/locale.gen
			grep -q "^$loc.UTF-8 UTF-8" /etc/locale.gen || echo "$loc.UTF-8 UTF-8" | $SUDO tee -a /etc/locale.gen >/dev/null
			$SUDO locale-gen >/dev/null
		fi
	fi
done
