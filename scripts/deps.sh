#!/bin/sh
# deps.sh: installs the Debian packages that building, running and testing
# calldesk need, and only those that are missing. Safe to run again: when
# everything is there it changes nothing and asks no registry.
#
# As root it installs directly; otherwise through sudo when sudo is there;
# otherwise it prints what is missing and exits 1.
set -eu

# Build: compiler, autotools, libraries. Run and test: a PostgreSQL server
# (only its binaries are used: scripts/pgcluster.sh runs a private cluster),
# openssl for certificates, valgrind, tmux for client tests, iproute2 (ss)
# and procps for the scripts, util-linux for runuser, tzdata for the time
# zones the configuration names (checked against it).
PACKAGES="
gcc make libc6-dev pkg-config
autoconf automake libtool
libevent-dev libssl-dev libpq-dev libcmocka-dev libargon2-dev
libedit-dev libncurses-dev
postgresql postgresql-client
openssl ca-certificates valgrind tmux
iproute2 procps util-linux tzdata
"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian system; make sure these are installed:" >&2
	echo "$PACKAGES" | tr '\n' ' ' >&2
	echo >&2
	exit 0
fi

missing=""
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" ok installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps.sh: all packages present"
	exit 0
fi

echo "deps.sh: missing:$missing"

if [ "$(id -u)" = 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
	as_root="sudo"
else
	echo "deps.sh: not root and no usable sudo; install them with:" >&2
	echo "  apt-get install --no-install-recommends$missing" >&2
	exit 1
fi

# Installing postgresql may create and start the system cluster
# (/var/lib/postgresql); calldesk never uses it.
# shellcheck disable=SC2086 # $missing is a list of words
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends $missing
echo "deps.sh: installed:$missing"
