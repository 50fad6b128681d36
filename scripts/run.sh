#!/bin/bash
# run.sh: the README's "run" command. Installs what is missing, builds,
# starts a private PostgreSQL cluster under ./var/pg, applies the schema,
# makes dev certificates and demo users, starts calldeskd in the background
# and says how to connect.
#
#   scripts/run.sh          start (again: an earlier server is stopped first)
#   scripts/run.sh stop     stop calldeskd and the private cluster
#   scripts/run.sh status   say what runs
#
# Environment: CALLDESK_PORT (default 7443), CALLDESK_PGPORT (default 5433).
# Everything it makes lives in ./var (git-ignored); delete ./var to start
# from scratch.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

port=${CALLDESK_PORT:-7443}
pgport=${CALLDESK_PGPORT:-5433}
host=127.0.0.1
password=demo-password
var=var
conf=$var/calldeskd.conf
pidfile=$var/calldeskd.pid
log=$var/calldeskd.log

say() { printf 'run.sh: %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# The pid in the pid file, if that process is a calldeskd.
server_pid() {
	local pid
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	kill -0 "$pid" 2>/dev/null || return 1
	case "$(ps -p "$pid" -o args= 2>/dev/null)" in
	*calldeskd*) ;;
	*) return 1 ;;
	esac
	echo "$pid"
}

stop_server() {
	local pid
	if pid=$(server_pid); then
		say "stopping calldeskd (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		# shutdown_grace defaults to 10 s; give it a little more.
		for _ in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "calldeskd did not stop in 15 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

port_open() {
	(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

case "${1:-start}" in
start) ;;
stop)
	stop_server
	scripts/pgcluster.sh stop "$var/pg"
	exit 0
	;;
status)
	if pid=$(server_pid); then
		say "calldeskd runs (pid $pid), log $log"
	else
		say "calldeskd is not running"
	fi
	scripts/pgcluster.sh status "$var/pg" || true
	exit 0
	;;
*)
	echo "usage: scripts/run.sh [start|stop|status]" >&2
	exit 2
	;;
esac

# 1. Packages.
scripts/deps.sh

# 2. Build (configure once; make is incremental).
if [ ! -x configure ]; then
	say "autoreconf"
	autoreconf -fi
fi
if [ ! -f Makefile ]; then
	say "configure"
	./configure
fi
say "make"
make -j2
[ -x server/calldeskd ] || die "server/calldeskd was not built"
[ -x client/calldesk ] || die "client/calldesk was not built"

# 3. Database, certificates, configuration.
mkdir -p "$var"
stop_server
conninfo=$(scripts/pgcluster.sh start "$var/pg" "$pgport")
scripts/certs.sh "$var/tls" >/dev/null
[ -f conf/rules.conf ] || die "conf/rules.conf is missing"
cp conf/rules.conf "$var/rules.conf"

cat >"$conf" <<EOF
; Written by scripts/run.sh at each start: edit conf/calldeskd.conf for the
; documented example, or this script for the development set-up.
; Relative paths are relative to this file's folder.

[server]
listen = $host:$port
tls_cert = tls/server.crt
tls_key = tls/server.key
login_timeout = 30
idle_timeout = 900
currency = EUR
timezone = UTC
log = stderr

[database]
conninfo = ${conninfo/user=postgres/user=calldesk_server}
migrate_conninfo = $conninfo
pool_size = 4

[rules]
file = rules.conf
EOF

server/calldeskd -c "$conf" --check || die "$conf is not valid (see above)"

# 4. Schema and demo users.
say "applying migrations"
server/calldeskd -c "$conf" --migrate
# calldeskd logs in as a member of calldesk_app (schema/012_roles.sql),
# which may only append to the decision audit.
psql -q "$conninfo" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'calldesk_server') THEN CREATE ROLE calldesk_server LOGIN IN ROLE calldesk_app; END IF; END \$\$"

# add_user NAME ROLE [OPTIONS...]: a taken name (exit 1) is fine.
add_user() {
	local name=$1 role=$2 rc=0
	shift 2
	printf '%s\n' "$password" |
		server/calldeskd -c "$conf" --add-user "$name" --role "$role" "$@" \
			2>"$var/add-user.err" || rc=$?
	case "$rc" in
	0) say "user $name ($role) added" ;;
	1) say "user $name: kept ($(head -n 1 "$var/add-user.err"))" ;;
	*)
		cat "$var/add-user.err" >&2
		die "could not add user $name (exit $rc)"
		;;
	esac
	rm -f "$var/add-user.err"
}
add_user admin admin --tier 5
add_user sup supervisor --tier 4
add_user alice agent --tier 1 --skills billing
add_user bob agent --tier 2 --skills billing,tech
add_user webform integration

# 5. The server, in the background.
if port_open; then
	die "something already listens on $host:$port (set CALLDESK_PORT to use another port)"
fi
say "starting calldeskd on $host:$port (log $log)"
server/calldeskd -c "$conf" </dev/null >>"$log" 2>&1 &
pid=$!
echo "$pid" >"$pidfile"

for _ in $(seq 1 300); do
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -n 30 "$log" >&2
		die "calldeskd exited during start-up (log above)"
	fi
	port_open && break
	sleep 0.1
done
port_open || die "calldeskd does not accept connections after 30 s (see $log)"

cat <<EOF

calldeskd runs (pid $pid) on $host:$port; log in $log.
Demo users, password '$password': admin (admin), sup (supervisor),
alice (agent, tier 1, billing), bob (agent, tier 2, billing+tech),
webform (integration).

Connect with the console client (it asks for the password, or reads
CALLDESK_PASSWORD):
  client/calldesk -h $host -p $port --ca $var/tls/ca.crt -u alice
  CALLDESK_PASSWORD=$password client/calldesk -h $host -p $port --ca $var/tls/ca.crt -u alice -e 'STATE'

or speak the protocol by hand:
  openssl s_client -connect $host:$port -CAfile $var/tls/ca.crt
  (then type: t1 LOGIN user=alice password=$password)

Stop everything with:
  scripts/run.sh stop
EOF
