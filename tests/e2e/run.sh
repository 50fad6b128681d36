#!/bin/bash
# tests/e2e/run.sh: the end-to-end test harness.
#
# In a temporary folder: a private PostgreSQL cluster, dev certificates, a
# generated configuration (short timeouts, cheap password hashing, the
# rules in tests/e2e/rules.conf), the schema, the test users; then the real
# server in the background, and the cmocka program tests/e2e/e2e against it
# over TLS. Whatever happens, the server and the cluster are stopped and the
# folder removed (CD_KEEP=1 keeps it, for a look after a failure).
#
# `make check` runs it with the build folder as working folder and $srcdir
# exported. By hand, after a build, from the top of the tree:
#     tests/e2e/run.sh [GROUP...]     (arguments go to the test program)
# Environment: CD_E2E_TIMEOUT (seconds for the test program, default 1200),
# CD_TIMEOUT_MS (time allowed for one answer, default 15000),
# CD_TEST_FILTER (cmocka test name pattern, e.g. 'test_login*'),
# CD_SERVER_WRAPPER (e.g. "valgrind -q"), CD_KEEP=1, CALLDESK_BUILDDIR.
#
# The test program gets (see tests/e2e/tclient.h):
#   CD_HOST CD_PORT CD_METRICS_PORT CD_CA CD_CLIENT_CERT CD_CLIENT_KEY CD_ROGUE_CERT
#   CD_ROGUE_KEY CD_PASSWORD CD_PGCONN CD_PGDIR CD_PGPORT CD_PGCLUSTER
#   CD_SERVER_PID CD_SERVER_PIDFILE CD_SERVER_BIN CD_CLIENT_BIN CD_CONFIG
#   CD_RULES CD_LOG CD_TMPDIR CD_SRCDIR
# Exit: the test program's status; 1 when the server did not exit 0 on
# SIGTERM; 99 when the set-up failed (automake's "hard error").
# shellcheck disable=SC2317 # functions run from traps look unreachable
set -eu

prog=e2e/run.sh
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${CALLDESK_SRCDIR:-${srcdir:-$here/../..}}
top_src=$(cd "$srcdir" && pwd)

# The build folder: where the binaries are.
build=""
for d in "${CALLDESK_BUILDDIR:-}" "$PWD" "$top_src"; do
	if [ -n "$d" ] && [ -x "$d/server/calldeskd" ]; then
		build=$(cd "$d" && pwd)
		break
	fi
done
if [ -z "$build" ]; then
	echo "$prog: server/calldeskd not found (build first; or set CALLDESK_BUILDDIR)" >&2
	exit 99
fi
server_bin=$build/server/calldeskd
client_bin=$build/client/calldesk
e2e_bin=$build/tests/e2e/e2e
if [ ! -x "$e2e_bin" ]; then
	echo "$prog: $e2e_bin not found (make check builds it)" >&2
	exit 99
fi

pgcluster=$top_src/scripts/pgcluster.sh
password=e2e-secret-42
grace=20           # seconds the server gets to exit after SIGTERM
setup_done=no
server_pid=""

tmp=$(mktemp -d "${TMPDIR:-/tmp}/calldesk-e2e.XXXXXX")
# As root the cluster belongs to "postgres", which must reach $tmp/pg.
chmod 755 "$tmp"
log=$tmp/calldeskd.log
pidfile=$tmp/calldeskd.pid
conf=$tmp/calldeskd.conf
: >"$log"

say() { printf '%s: %s\n' "$prog" "$*"; }

# running PID: the process exists and is not a zombie.
running() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case "$st" in Z*) return 1 ;; esac
	return 0
}

# stop_pid PID: SIGTERM, then SIGKILL after $grace seconds.
stop_pid() {
	local pid=$1 i
	running "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		running "$pid" || return 0
		sleep 0.1
	done
	say "server pid $pid still there ${grace}s after SIGTERM: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

current_server_pid() {
	local pid=""
	[ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null || true)
	case "$pid" in '' | *[!0-9]*) pid=$server_pid ;; esac
	echo "$pid"
}

cleanup() {
	local st=$? pid
	set +e
	trap - EXIT INT TERM
	pid=$(current_server_pid)
	[ -n "$pid" ] && stop_pid "$pid"
	[ -n "$server_pid" ] && [ "$server_pid" != "$pid" ] && stop_pid "$server_pid"
	"$pgcluster" stop "$tmp/pg" >/dev/null 2>&1 ||
		"$pgcluster" stop "$tmp/pg"
	if [ "$st" -ne 0 ]; then
		echo "---- last lines of the server log ($log) ----"
		tail -n 100 "$log"
		if [ "$setup_done" = no ] && [ -z "${pgconn:-}" ] &&
			[ -f "$tmp/pg/server.log" ]; then
			echo "---- last lines of the PostgreSQL log ----"
			tail -n 20 "$tmp/pg/server.log"
		fi
		echo "----"
		if [ -s "$tmp/e2e.out" ]; then
			echo "---- failures seen by the test program ----"
			grep -E '^\[  (FAILED|ERROR) +\]|[Ff]ailure|error:|expected|timed out|sanitizer|runtime error' \
				"$tmp/e2e.out" | tail -n 60
			echo "----"
		fi
	fi
	if [ "${CD_KEEP:-0}" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Set-up failures are hard errors (99), not test failures.
fail_setup() {
	say "set-up failed: $*" >&2
	exit 99
}

port_busy() {
	if command -v ss >/dev/null 2>&1 &&
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; then
		return 0
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free TCP port in 20000..31999 (below the kernel's ephemeral range).
pick_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 12000))
		[ "$p" = "${2:-}" ] && continue
		port_busy "$p" || { echo "$p"; return 0; }
	done
	return 1
}

port=$(pick_port) || fail_setup "no free port"
# PostgreSQL listens on a Unix socket only; the number names the socket.
pgport=$(pick_port x "$port") || fail_setup "no free port"
# The metrics endpoint (plain HTTP, docs/METRICS.md) for tests/e2e/e2e_metrics.c.
metrics_port=$(pick_port x "$port") || fail_setup "no free port"

say "temporary folder $tmp, server port $port"
pgconn=$("$pgcluster" start "$tmp/pg" "$pgport") || fail_setup "PostgreSQL did not start"
"$top_src/scripts/certs.sh" "$tmp/tls" >/dev/null || fail_setup "certificates"
cp "$top_src/tests/e2e/rules.conf" "$tmp/rules.conf"

cat >"$conf" <<EOF
; Generated by tests/e2e/run.sh.
[server]
listen = 127.0.0.1:$port
metrics = 127.0.0.1:$metrics_port
tls_cert = tls/server.crt
tls_key = tls/server.key
tls_min = 1.2
max_clients = 50
max_line = 8192
max_line_login = 1024
login_timeout = 3
login_max_failures = 3
idle_timeout = 5
shutdown_grace = 5
currency = EUR
timezone = UTC
log = stderr
hash_threads = 2
argon2_t_cost = 1
argon2_m_cost = 1024

[database]
conninfo = ${pgconn/user=postgres/user=calldesk_server}
migrate_conninfo = $pgconn
pool_size = 4
connect_timeout = 5
query_timeout = 10

[rules]
file = rules.conf
EOF

"$server_bin" -c "$conf" --check >>"$log" 2>&1 ||
	fail_setup "calldeskd --check refused the generated configuration"
"$server_bin" -c "$conf" --migrate >>"$log" 2>&1 || fail_setup "calldeskd --migrate"
# The server logs in as a member of calldesk_app (schema/012_roles.sql),
# which may only append to the decision audit.
psql -q "$pgconn" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'calldesk_server') THEN CREATE ROLE calldesk_server LOGIN IN ROLE calldesk_app; END IF; END \$\$" >>"$log" 2>&1 ||
	fail_setup "creating the server's database role"

add_user() {
	local name=$1
	shift
	printf '%s\n' "$password" |
		"$server_bin" -c "$conf" --add-user "$name" "$@" >>"$log" 2>&1 ||
		fail_setup "calldeskd --add-user $name $*"
}
add_user admin1 --role admin
add_user sup1 --role supervisor --team red --tier 4
add_user agent1 --role agent --tier 1 --skills billing --team red
add_user agent2 --role agent --tier 2 --skills billing,tech --team red
add_user agent3 --role agent --tier 3 --skills billing,tech,general,urgent --team blue
add_user integ1 --role integration
add_user clerk1 --role agent --dept logistics
add_user locked1 --role agent

wrapper=()
if [ -n "${CD_SERVER_WRAPPER:-}" ]; then
	read -r -a wrapper <<<"$CD_SERVER_WRAPPER"
	# A wrapped server (valgrind) answers slowly: wait longer for it.
	export CD_TIMEOUT_MS="${CD_TIMEOUT_MS:-30000}"
fi
echo "---- $prog: server start ----" >>"$log"
"${wrapper[@]}" "$server_bin" -c "$conf" </dev/null >>"$log" 2>&1 &
server_pid=$!
echo "$server_pid" >"$pidfile"

up=no
for ((i = 0; i < 300; i++)); do
	kill -0 "$server_pid" 2>/dev/null || fail_setup "the server exited during start-up"
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		up=yes
		break
	fi
	sleep 0.1
done
[ "$up" = yes ] || fail_setup "the server does not accept connections after 30 s"
setup_done=yes

export CD_HOST=127.0.0.1
export CD_PORT="$port"
export CD_METRICS_PORT="$metrics_port"
export CD_CA="$tmp/tls/ca.crt"
export CD_CLIENT_CERT="$tmp/tls/client.crt"
export CD_CLIENT_KEY="$tmp/tls/client.key"
export CD_ROGUE_CERT="$tmp/tls/rogue-client.crt"
export CD_ROGUE_KEY="$tmp/tls/rogue-client.key"
export CD_PASSWORD="$password"
export CD_PGCONN="$pgconn"
export CD_PGDIR="$tmp/pg"
export CD_PGPORT="$pgport"
export CD_PGCLUSTER="$pgcluster"
export CD_SERVER_PID="$server_pid"
export CD_SERVER_PIDFILE="$pidfile"
export CD_SERVER_BIN="$server_bin"
export CD_CLIENT_BIN="$client_bin"
export CD_CONFIG="$conf"
export CD_RULES="$tmp/rules.conf"
export CD_LOG="$log"
export CD_TMPDIR="$tmp"
export CD_SRCDIR="$top_src"

rc=0
# The program's output goes to the log of make check as it comes, and to a
# copy from which the failures are summed up at the end (CI shows the end).
set -o pipefail
timeout --kill-after=10 "${CD_E2E_TIMEOUT:-1200}" "$e2e_bin" "$@" 2>&1 |
	tee "$tmp/e2e.out" || rc=$?
set +o pipefail
[ "$rc" -eq 124 ] && say "the test program ran out of time (CD_E2E_TIMEOUT)"

# The server must stop cleanly: SIGTERM -> exit 0. Tests that restart it
# (tests/e2e/tserver.c) have stopped the first one already and written the
# new pid to CD_SERVER_PIDFILE; the first one is our child, so its exit
# status is checked here in either case.
pid=$(current_server_pid)
if [ "$pid" = "$server_pid" ] && ! running "$server_pid"; then
	st=0
	wait "$server_pid" || st=$?
	say "the server died during the tests (status $st)"
	[ "$rc" -ne 0 ] || rc=1
else
	# The one the tests started is not our child: no status to check.
	[ "$pid" != "$server_pid" ] && stop_pid "$pid"
	stop_pid "$server_pid"
	st=0
	wait "$server_pid" || st=$?
	if [ "$st" -ne 0 ]; then
		say "the server exited with status $st after SIGTERM (expected 0)"
		[ "$rc" -ne 0 ] || rc=1
	fi
fi
server_pid=""
rm -f "$pidfile"

if [ "$rc" -eq 0 ]; then
	say "passed"
else
	say "FAILED (status $rc)"
fi
exit "$rc"
