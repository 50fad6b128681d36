# tests/ui/lib.sh: what the terminal tests share, sourced by
# tests/ui/repl_test.sh and tests/ui/board_test.sh (bash).
#
# ui_setup starts, in a temporary folder, a private PostgreSQL cluster
# (scripts/pgcluster.sh), dev certificates (scripts/certs.sh), a generated
# configuration, the schema, the test users and the real server, the same
# way tests/e2e/run.sh does; then a private tmux server (its own socket, no
# user configuration). Whatever happens, an EXIT trap stops tmux, the
# server and the cluster and removes the folder (CD_KEEP=1 keeps it).
#
# Checks: check NAME COMMAND... counts a pass or a failure (a failure
# prints what the screen showed); finish prints "N passed, N failed" and
# exits 1 when something failed. Exit 77 (skipped) without tmux, 99 when
# the set-up failed: automake's conventions.
#
# Environment: CALLDESK_BUILDDIR, CALLDESK_SRCDIR, CD_KEEP=1,
# CD_UI_WAIT (seconds a screen check waits, default 15).
# shellcheck shell=bash
# shellcheck disable=SC2317 # functions run from traps look unreachable
# shellcheck disable=SC2034 # variables for the scripts that source this
set -eu
: "${prog:=ui}"

ui_here=$(cd "$(dirname "$0")" && pwd)
ui_src=$(cd "${CALLDESK_SRCDIR:-${srcdir:-$ui_here/../..}}" && pwd)
ui_wait=${CD_UI_WAIT:-15}

passed=0
failed=0
server_pid=""
tmux_sock=""
tmp=""

say() { printf '%s: %s\n' "$prog" "$*"; }

fail_setup() {
	say "set-up failed: $*" >&2
	exit 99
}

if ! command -v tmux >/dev/null 2>&1; then
	say "tmux is not installed: skipped (scripts/deps.sh installs it)"
	exit 77
fi

# The build folder: where the binaries are.
build=""
for d in "${CALLDESK_BUILDDIR:-}" "$PWD" "$ui_src"; do
	if [ -n "$d" ] && [ -x "$d/server/calldeskd" ] && [ -x "$d/client/calldesk" ]; then
		build=$(cd "$d" && pwd)
		break
	fi
done
[ -n "$build" ] || fail_setup "server/calldeskd and client/calldesk not found (build first; or set CALLDESK_BUILDDIR)"
server_bin=$build/server/calldeskd
client_bin=$build/client/calldesk
pgcluster=$ui_src/scripts/pgcluster.sh
password=ui-secret-42
grace=20

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

# tm ARGS: tmux on our own socket, without the user's configuration.
tm() { tmux -S "$tmux_sock" -f /dev/null "$@"; }

ui_cleanup() {
	local st=$?
	set +e
	trap - EXIT INT TERM
	if [ -n "$tmux_sock" ] && [ -S "$tmux_sock" ]; then
		tm kill-server >/dev/null 2>&1
	fi
	[ -n "$server_pid" ] && stop_pid "$server_pid"
	if [ -n "$tmp" ]; then
		"$pgcluster" stop "$tmp/pg" >/dev/null 2>&1 || "$pgcluster" stop "$tmp/pg"
		if [ "$st" -ne 0 ] && [ -f "$tmp/calldeskd.log" ]; then
			echo "---- last lines of the server log ----"
			tail -n 40 "$tmp/calldeskd.log"
			echo "----"
		fi
		if [ "${CD_KEEP:-0}" = 1 ]; then
			say "kept $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$st"
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
		[ "$p" = "${1:-}" ] && continue
		port_busy "$p" || { echo "$p"; return 0; }
	done
	return 1
}

# server_start: the server in the background; waits until it accepts.
server_start() {
	local i
	echo "---- $prog: server start ----" >>"$tmp/calldeskd.log"
	"$server_bin" -c "$tmp/calldeskd.conf" </dev/null >>"$tmp/calldeskd.log" 2>&1 &
	server_pid=$!
	for ((i = 0; i < 300; i++)); do
		running "$server_pid" || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# server_stop: SIGTERM, wait for it to go.
server_stop() {
	[ -n "$server_pid" ] || return 0
	stop_pid "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

add_user() {
	local name=$1
	shift
	printf '%s\n' "$password" |
		"$server_bin" -c "$tmp/calldeskd.conf" --add-user "$name" "$@" \
			>>"$tmp/calldeskd.log" 2>&1 ||
		fail_setup "calldeskd --add-user $name $*"
}

ui_setup() {
	trap ui_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/calldesk-ui.XXXXXX")
	# As root the cluster belongs to "postgres", which must reach $tmp/pg.
	chmod 755 "$tmp"
	: >"$tmp/calldeskd.log"
	port=$(pick_port) || fail_setup "no free port"
	pgport=$(pick_port "$port") || fail_setup "no free port"
	say "temporary folder $tmp, server port $port"
	pgconn=$("$pgcluster" start "$tmp/pg" "$pgport") || fail_setup "PostgreSQL did not start"
	"$ui_src/scripts/certs.sh" "$tmp/tls" >/dev/null || fail_setup "certificates"
	cp "$ui_src/tests/e2e/rules.conf" "$tmp/rules.conf"
	# A long idle timeout: people at a terminal pause.
	cat >"$tmp/calldeskd.conf" <<EOF
; Generated by tests/ui/lib.sh.
[server]
listen = 127.0.0.1:$port
tls_cert = tls/server.crt
tls_key = tls/server.key
max_clients = 50
login_timeout = 10
idle_timeout = 600
shutdown_grace = 5
currency = EUR
timezone = UTC
log = stderr
hash_threads = 2
argon2_t_cost = 1
argon2_m_cost = 1024

[database]
conninfo = $pgconn
pool_size = 4
connect_timeout = 5
query_timeout = 10

[rules]
file = rules.conf
EOF
	"$server_bin" -c "$tmp/calldeskd.conf" --check >>"$tmp/calldeskd.log" 2>&1 ||
		fail_setup "calldeskd --check refused the generated configuration"
	"$server_bin" -c "$tmp/calldeskd.conf" --migrate >>"$tmp/calldeskd.log" 2>&1 ||
		fail_setup "calldeskd --migrate"
	add_user sup1 --role supervisor --team red --tier 4
	add_user agent1 --role agent --tier 1 --skills billing --team red
	add_user agent2 --role agent --tier 2 --skills billing,tech --team red
	server_start || fail_setup "the server did not start"

	# Everything a client needs, for the commands run inside tmux.
	home=$tmp/home
	mkdir -p "$home"
	client_env="HOME=$home CALLDESK_CA=$tmp/tls/ca.crt CALLDESK_PASSWORD=$password TERM=screen LANG=C.UTF-8"
	client_args="-h 127.0.0.1 -p $port"

	tmux_sock=$tmp/tmux.sock
}

# client USER ARGS...: the client as USER, outside tmux.
client() {
	local user=$1
	shift
	env HOME="$home" CALLDESK_CA="$tmp/tls/ca.crt" CALLDESK_PASSWORD="$password" \
		"$client_bin" -h 127.0.0.1 -p "$port" -u "$user" "$@"
}

# field KEY: the value of KEY= in the last OK line of standard input
# (--raw output; bare values only).
field() {
	sed -n "s/^c[0-9]* OK.* $1=\\([^ ]*\\).*/\\1/p" | tail -n 1
}

# start_pane NAME COLS ROWS COMMAND: a detached tmux session running
# COMMAND in a terminal of that size. The pane stays after it exits, with
# a last line "[exit status N]": written by the pane's shell, because tmux
# sometimes learns an exit status late, or not at all.
start_pane() {
	local name=$1 cols=$2 rows=$3 cmd=$4
	# One command list: the option is set before tmux can see an exit.
	tm new-session -d -s "$name" -x "$cols" -y "$rows" \
		"$cmd; echo \"[exit status \$?]\"" \; \
		set-option -w -t "$name" remain-on-exit on >/dev/null
}

screen() { tm capture-pane -p -t "$1" 2>/dev/null || true; }

# wait_screen TARGET ERE [SECONDS]: polls the screen until a line matches.
wait_screen() {
	local target=$1 re=$2 limit=${3:-$ui_wait} i
	for ((i = 0; i < limit * 5; i++)); do
		if screen "$target" | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# wait_gone TARGET ERE [SECONDS]: polls until no line matches.
wait_gone() {
	local target=$1 re=$2 limit=${3:-$ui_wait} i
	for ((i = 0; i < limit * 5; i++)); do
		if ! screen "$target" | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# pane_dead TARGET: the program in the pane has exited.
pane_dead() {
	[ "$(tm display-message -p -t "$1" '#{pane_dead}' 2>/dev/null)" = 1 ]
}

# check NAME COMMAND...: one test; on failure, the screen of $check_pane.
check_pane=""
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
		if [ -n "$check_pane" ]; then
			echo "---- screen of $check_pane ----"
			screen "$check_pane" | sed 's/^/| /'
			echo "----"
		fi
	fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# wait_dead TARGET [SECONDS]: polls until the program in the pane exits.
wait_dead() {
	local target=$1 limit=${2:-$ui_wait} i
	for ((i = 0; i < limit * 5; i++)); do
		pane_dead "$target" && return 0
		sleep 0.2
	done
	return 1
}

# exited_with TARGET STATUS: the pane's program exited with STATUS.
exited_with() {
	wait_screen "$1" "^\\[exit status $2\\]\$"
}

# keys TARGET TEXT: types TEXT literally (no key names).
keys() { tm send-keys -t "$1" -l "$2"; }

# key TARGET KEY...: presses keys by name (Enter, Up, Tab, C-d ...).
key() {
	local target=$1
	shift
	tm send-keys -t "$target" "$@"
}
