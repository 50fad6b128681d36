#!/bin/bash
# pgcluster.sh: a private PostgreSQL cluster for development and tests.
#
#   pgcluster.sh start DIR PORT   initdb into DIR if needed, start, create
#                                 the database "calldesk"; prints the libpq
#                                 conninfo (alone, on stdout)
#   pgcluster.sh stop DIR         fast shutdown; safe when already stopped
#   pgcluster.sh status DIR       exit 0 when running, 3 when not
#
# The cluster listens on a Unix socket in DIR only (no TCP), trusts local
# connections as user "postgres", and keeps fsync on: tests check that what
# the server answered OK survives. No system cluster is touched.
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# "postgres" system user (from the postgresql package) and its commands run
# through runuser. Root can still use the socket, whatever its folder's mode.
# When that user cannot reach DIR (a tree under /root, say), or DIR is too
# long for a socket path, the data lives under /var/tmp and DIR becomes a
# symbolic link to it.
set -eu

prog=pgcluster.sh
die() { echo "$prog: $*" >&2; exit 1; }
usage() { echo "usage: $prog start DIR PORT | stop DIR | status DIR" >&2; exit 2; }

# Highest installed version under /usr/lib/postgresql, else initdb on PATH.
find_bindir() {
	local d best=""
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return
	fi
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$d" | sed '/^$/d' | sort -V | tail -n 1)
	done
	if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
		best=$(dirname "$(command -v initdb)")
	fi
	[ -n "$best" ] || die "initdb not found: install the postgresql package (scripts/deps.sh)"
	echo "$best"
}

if [ "$(id -u)" = 0 ]; then
	owner=postgres
	getent passwd "$owner" >/dev/null ||
		die "as root the cluster must belong to the 'postgres' user, which does not exist (install postgresql)"
	# Run from / so that a working folder postgres cannot enter is no bother.
	as_owner() {
		if command -v runuser >/dev/null 2>&1; then
			(cd / && runuser -u "$owner" -- "$@")
		else
			(cd / && su -s /bin/bash "$owner" -c "$(printf '%q ' "$@")")
		fi
	}
else
	owner=$(id -un)
	as_owner() { "$@"; }
fi

# A libpq conninfo value, quoted when it needs to be.
pq_value() {
	local v=$1
	case "$v" in
	*[[:space:]\'\\]* | "")
		v=${v//\\/\\\\}
		v=${v//\'/\\\'}
		printf "'%s'" "$v"
		;;
	*) printf '%s' "$v" ;;
	esac
}

is_running() {
	as_owner "$bindir/pg_ctl" -D "$1" status >/dev/null 2>&1
}

cmd_start() {
	local dir_arg=$1 port=$2 dir alt conf running_port exists
	case "$port" in
	'' | *[!0-9]*) die "bad port '$port'" ;;
	esac
	if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
		die "bad port '$port'"
	fi

	mkdir -p "$dir_arg"
	dir=$(cd "$dir_arg" && pwd -P)

	# The socket path is DIR/.s.PGSQL.PORT and must fit in sun_path (108).
	if [ "${#dir}" -gt 90 ] ||
		{ [ "$owner" != "$(id -un)" ] && ! as_owner test -x "$(dirname "$dir")"; }; then
		[ -z "$(ls -A "$dir")" ] ||
			die "$dir is not empty, and $owner cannot use it (or its path is too long)"
		alt=/var/tmp/calldesk-pg-$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
		echo "$prog: $owner cannot use $dir (or its path is too long); data in $alt" >&2
		rmdir "$dir"
		mkdir -p "$alt"
		ln -s "$alt" "$dir"
		dir=$alt
	fi
	if [ "$owner" != "$(id -un)" ]; then
		chown "$owner:" "$dir"
	fi
	chmod 700 "$dir"

	if [ ! -f "$dir/PG_VERSION" ]; then
		echo "$prog: initdb $dir" >&2
		as_owner "$bindir/initdb" -D "$dir" --auth=trust -U postgres \
			-E UTF8 --locale=C --no-instructions >/dev/null
		# Our settings live in a file rewritten at each start.
		printf "\ninclude_if_exists = 'calldesk.conf'\n" |
			as_owner tee -a "$dir/postgresql.conf" >/dev/null
	fi

	if is_running "$dir"; then
		running_port=$(sed -n 4p "$dir/postmaster.pid" 2>/dev/null || true)
		if [ "$running_port" != "$port" ]; then
			echo "$prog: running on port $running_port, restarting on $port" >&2
			as_owner "$bindir/pg_ctl" -D "$dir" stop -m fast -w -t 60 >&2
		fi
	fi

	conf="# Written by scripts/pgcluster.sh at each start: do not edit.
listen_addresses = ''
unix_socket_directories = '${dir//\'/\'\'}'
port = $port
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 100
"
	printf '%s' "$conf" | as_owner tee "$dir/calldesk.conf" >/dev/null

	if ! is_running "$dir"; then
		echo "$prog: starting PostgreSQL in $dir (port $port, log $dir/server.log)" >&2
		if ! as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" \
			-w -t 60 start >&2; then
			tail -n 30 "$dir/server.log" >&2 || true
			die "PostgreSQL did not start"
		fi
	fi

	exists=$("$bindir/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres \
		-Atc "SELECT 1 FROM pg_database WHERE datname = 'calldesk'")
	if [ "$exists" != 1 ]; then
		"$bindir/createdb" -h "$dir" -p "$port" -U postgres calldesk
	fi

	echo "host=$(pq_value "$dir") port=$port dbname=calldesk user=postgres"
}

cmd_stop() {
	local dir
	[ -d "$1" ] || return 0
	dir=$(cd "$1" && pwd -P)
	[ -f "$dir/PG_VERSION" ] || return 0
	is_running "$dir" || return 0
	if ! as_owner "$bindir/pg_ctl" -D "$dir" stop -m fast -w -t 60 >&2; then
		# Stopped meanwhile by someone else: that is what we wanted.
		is_running "$dir" && die "could not stop the cluster in $dir"
	fi
	return 0
}

cmd_status() {
	local dir
	[ -d "$1" ] || { echo "no cluster in $1"; return 3; }
	dir=$(cd "$1" && pwd -P)
	if is_running "$dir"; then
		echo "running in $dir"
		return 0
	fi
	echo "not running ($dir)"
	return 3
}

[ $# -ge 2 ] || usage
bindir=$(find_bindir)
case "$1" in
start)
	[ $# -eq 3 ] || usage
	cmd_start "$2" "$3"
	;;
stop)
	[ $# -eq 2 ] || usage
	cmd_stop "$2"
	;;
status)
	[ $# -eq 2 ] || usage
	cmd_status "$2"
	;;
*) usage ;;
esac
