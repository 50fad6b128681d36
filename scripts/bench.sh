#!/bin/bash
# bench.sh: `make bench`. Measures calldeskd beside references taken in the
# same run on the same machine, and prints them side by side.
#
# In a temporary folder: a private PostgreSQL cluster, dev certificates, a
# generated configuration (cheap password hashing, max_clients 2000), the
# schema, bench users; then the real server, and bench/calldesk-bench
# against it for the `ping` and `note` workloads, and `note` again with an
# idempotency key on every request (the transactional path). The references:
#   - pgbench, in the same cluster, inserting a row like an interaction note
#     (same columns and index, same text size) at the same concurrency;
#     a second time at calldeskd's pool size;
#   - redis-benchmark PING_INLINE over TLS against a private redis-server
#     with the same certificates, same connections and pipeline depth
#     (skipped when redis-server or redis-benchmark is not installed).
# Whatever happens, everything started here is stopped and the folder
# removed (BENCH_KEEP=1 keeps it).
#
# By hand, after a build, from the top of the tree: scripts/bench.sh
# Environment (defaults): BENCH_CONNS (50), BENCH_DEPTH (4), BENCH_SECONDS
# (10), BENCH_WARMUP (1), BENCH_NOTE_SIZE (256), BENCH_USERS (8),
# BENCH_POOL (4: calldeskd's pool_size), BENCH_IDEM (1; 0 skips the idem
# run), BENCH_RULES (conf/rules.conf), BENCH_KEEP, CALLDESK_BUILDDIR,
# BENCH_BIN (the load generator, default bench/calldesk-bench in the build).
# Exit status: 0 when every calldesk and reference run gave figures and
# calldesk answered every measured request with OK; 1 otherwise.
# shellcheck disable=SC2317 # functions run from traps look unreachable
set -eu

prog=bench.sh
here=$(cd "$(dirname "$0")" && pwd)
top_src=$(cd "$here/.." && pwd)

conns=${BENCH_CONNS:-50}
depth=${BENCH_DEPTH:-4}
seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-1}
note_size=${BENCH_NOTE_SIZE:-256}
nusers=${BENCH_USERS:-8}
pool=${BENCH_POOL:-4}
idem=${BENCH_IDEM:-1}
password=bench-secret-42
grace=15

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "$*"; exit 1; }

for v in conns depth seconds note_size nusers pool; do
	case "${!v}" in '' | *[!0-9]* | 0) die "BENCH_${v^^} must be a positive integer" ;; esac
done
case "$warmup" in '' | *[!0-9]*) die "BENCH_WARMUP must be an integer" ;; esac
case "$idem" in 0 | 1) ;; *) die "BENCH_IDEM must be 0 or 1" ;; esac
# Every benchmark program runs under `timeout`, should it hang.
limit=$((3 * (seconds + warmup) + 60))

# The build folder: where the binaries are.
build=""
for d in "${CALLDESK_BUILDDIR:-}" "$PWD" "$top_src"; do
	if [ -n "$d" ] && [ -x "$d/server/calldeskd" ]; then
		build=$(cd "$d" && pwd)
		break
	fi
done
[ -n "$build" ] || die "server/calldeskd not found (build first; or set CALLDESK_BUILDDIR)"
server_bin=$build/server/calldeskd
bench_bin=${BENCH_BIN:-$build/bench/calldesk-bench}
[ -x "$bench_bin" ] || die "$bench_bin not found (make bench builds it)"
if [ -x "$build/config.status" ] &&
	"$build/config.status" --config 2>/dev/null | grep -q enable-sanitizers; then
	say "warning: this is a sanitizer build; its figures say little about speed"
fi

# PostgreSQL's client tools: the highest installed version, else PATH.
pg_bindir=""
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/pgbench" ] || continue
	pg_bindir=$(printf '%s\n%s\n' "$pg_bindir" "$d" | sed '/^$/d' | sort -V | tail -n 1)
done
if [ -z "$pg_bindir" ] && command -v pgbench >/dev/null 2>&1; then
	pg_bindir=$(dirname "$(command -v pgbench)")
fi
[ -n "$pg_bindir" ] || die "pgbench not found (it comes with the postgresql package)"

pgcluster=$top_src/scripts/pgcluster.sh
server_pid=""
redis_pid=""
status=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/calldesk-bench.XXXXXX")
# As root the cluster belongs to "postgres", which must reach $tmp/pg.
chmod 755 "$tmp"
log=$tmp/calldeskd.log
conf=$tmp/calldeskd.conf
: >"$log"

# stop_pid PID: SIGTERM, then SIGKILL after $grace seconds.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "pid $pid still there ${grace}s after SIGTERM: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local st=$?
	set +e
	# A second Ctrl-C must not cut the cleaning short.
	trap '' INT TERM
	trap - EXIT
	[ -n "$server_pid" ] && stop_pid "$server_pid"
	[ -n "$redis_pid" ] && stop_pid "$redis_pid"
	"$pgcluster" stop "$tmp/pg" >/dev/null 2>&1 || "$pgcluster" stop "$tmp/pg"
	if [ "$st" -ne 0 ]; then
		echo "---- last lines of the server log ($log) ----" >&2
		tail -n 40 "$log" >&2
		echo "----" >&2
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() {
	if command -v ss >/dev/null 2>&1 &&
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; then
		return 0
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free TCP port in 20000..31999 (below the kernel's ephemeral range),
# other than those given.
pick_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 12000))
		case " $* " in *" $p "*) continue ;; esac
		port_busy "$p" || { echo "$p"; return 0; }
	done
	return 1
}

# wait_port PORT PID NAME: until PORT accepts, at most 30 s, PID alive.
wait_port() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$2" 2>/dev/null || die "$3 exited during start-up"
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "$3 does not accept connections after 30 s"
}

# field NAME LINE: the value of NAME=... in a RESULT line.
field() {
	local f
	for f in $2; do
		case "$f" in "$1="*) echo "${f#*=}"; return 0 ;; esac
	done
	echo ""
}

port=$(pick_port) || die "no free port"
pgport=$(pick_port "$port") || die "no free port"
rport=$(pick_port "$port" "$pgport") || die "no free port"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
say "temporary folder $tmp; $(nproc) CPUs: ${cpu:-unknown}"
pgconn=$("$pgcluster" start "$tmp/pg" "$pgport") || die "PostgreSQL did not start"
"$top_src/scripts/certs.sh" "$tmp/tls" >/dev/null || die "certificates"
cp "${BENCH_RULES:-$top_src/conf/rules.conf}" "$tmp/rules.conf" || die "no rules file"

cat >"$conf" <<EOF
; Generated by scripts/bench.sh.
[server]
listen = 127.0.0.1:$port
tls_cert = tls/server.crt
tls_key = tls/server.key
max_clients = 2000
login_timeout = 30
idle_timeout = 900
log = stderr
hash_threads = 2
argon2_t_cost = 1
argon2_m_cost = 1024

[database]
conninfo = $pgconn
pool_size = $pool

[rules]
file = rules.conf
EOF

"$server_bin" -c "$conf" --check >>"$log" 2>&1 || die "calldeskd --check refused the configuration"
"$server_bin" -c "$conf" --migrate >>"$log" 2>&1 || die "calldeskd --migrate failed"
users=""
for ((i = 1; i <= nusers; i++)); do
	printf '%s\n' "$password" |
		"$server_bin" -c "$conf" --add-user "bench$i" --role agent >>"$log" 2>&1 ||
		die "calldeskd --add-user bench$i failed"
	users=${users:+$users,}bench$i
done

"$server_bin" -c "$conf" </dev/null >>"$log" 2>&1 &
server_pid=$!
wait_port "$port" "$server_pid" calldeskd

# These run in $(...): they report failure by printing nothing.

# run_calldesk WORKLOAD [OPTIONS...]: prints the RESULT line (empty on failure).
run_calldesk() {
	local out rc=0
	say "calldesk-bench $*: $conns connections, depth $depth, ${seconds}s"
	out=$(CALLDESK_BENCH_PASSWORD=$password timeout --foreground -k 5 "$limit" \
		"$bench_bin" --host 127.0.0.1 --port "$port" --ca "$tmp/tls/ca.crt" --users "$users" \
		--conns "$conns" --depth "$depth" --seconds "$seconds" \
		--warmup "$warmup" --workload "$@") || rc=$?
	printf '%s\n' "$out" | grep -v '^RESULT ' >&2 || true
	if [ "$rc" -ne 0 ]; then
		say "calldesk-bench $1 failed (status $rc)"
		return 0
	fi
	printf '%s\n' "$out" | grep '^RESULT ' | tail -n 1
}

# check_result NAME LINE: figures from a run with errors are suspect.
check_result() {
	local f v bad=""
	[ -n "$2" ] || return 0
	for f in no bad err unanswered conns_failed conns_lost protocol_errors; do
		v=$(field "$f" "$2")
		[ "${v:-0}" = 0 ] || bad="$bad $f=$v"
	done
	if [ -n "$bad" ]; then
		say "warning: the $1 run had errors:$bad (see above and $log)"
		status=1
	fi
}

ping_result=$(run_calldesk ping)
check_result ping "$ping_result"
note_result=$(run_calldesk note --note-size "$note_size")
check_result note "$note_result"
idem_result=""
if [ "$idem" = 1 ]; then
	idem_result=$(run_calldesk note --note-size "$note_size" --idem)
	check_result note+idem "$idem_result"
	[ -n "$idem_result" ] || status=1
fi

# The server is done; the references get the machine to themselves.
stop_pid "$server_pid"
server_pid=""

# pgbench: a table shaped like calldesk's notes (without the foreign keys,
# whose parents it does not have) and the same text, one INSERT per
# transaction, committed with the same durability settings.
pg_sql() {
	"$pg_bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg" -p "$pgport" -U postgres "$@"
}
pg_sql -d postgres -c "CREATE DATABASE benchref" >/dev/null || die "CREATE DATABASE benchref"
pg_sql -d benchref >/dev/null <<'EOF' || die "cannot create the pgbench table"
CREATE TABLE notes (
	id              bigserial PRIMARY KEY,
	interaction_id  bigint NOT NULL,
	by_id           bigint NOT NULL,
	at              timestamptz NOT NULL DEFAULT now(),
	text            text NOT NULL
);
CREATE INDEX notes_interaction ON notes (interaction_id, id);
EOF
# The same text as calldesk-bench's notes (bench/calldesk-bench.c make_note).
phrase='Customer called about the invoice; agent explained the charge. '
text=""
while [ "${#text}" -lt "$note_size" ]; do text+=$phrase; done
text=${text:0:note_size}
cat >"$tmp/insert.sql" <<EOF
\\set iid random(1, $conns)
INSERT INTO notes (interaction_id, by_id, at, text) VALUES (:iid, 1, now(), '$text');
EOF

# run_pgbench CLIENTS: prints "tps p50_us p99_us" (empty on failure).
run_pgbench() {
	local c=$1 jobs=2 out tps logs rc=0
	[ "$c" -lt "$jobs" ] && jobs=$c
	say "pgbench INSERT: $c clients, $jobs threads, ${seconds}s"
	rm -f "$tmp"/pgbench_log*
	out=$(cd "$tmp" && timeout --foreground -k 5 "$limit" "$pg_bindir/pgbench" \
		-n -M prepared -c "$c" -j "$jobs" -T "$seconds" -f insert.sql -l --log-prefix=pgbench_log \
		-h "$tmp/pg" -p "$pgport" -U postgres benchref 2>&1) || rc=$?
	tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -n 1)
	if [ "$rc" -ne 0 ] || [ -z "$tps" ]; then
		printf '%s\n' "$out" | tail -n 5 >&2
		say "pgbench failed (status $rc)"
		return 0
	fi
	# Per-transaction log: the third column is the latency in microseconds.
	logs=("$tmp"/pgbench_log*)
	printf '%s %s\n' "$tps" "$(awk '{print $3}' "${logs[@]}" | sort -n |
		awk '{v[NR] = $1} END {
			if (NR == 0) { print "- -"; exit }
			i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
			i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
			print v[i50], v[i99] }')"
}

# pgcluster.sh allows 100 connections to PostgreSQL.
pg_clients=$conns
if [ "$pg_clients" -gt 90 ]; then
	say "pgbench: 90 clients, not $conns (the cluster allows 100 connections)"
	pg_clients=90
fi
pgbench_same=$(run_pgbench "$pg_clients")
pgbench_pool=$(run_pgbench "$pool")
[ -n "$ping_result" ] && [ -n "$note_result" ] && [ -n "$pgbench_same" ] &&
	[ -n "$pgbench_pool" ] || status=1

# redis-benchmark PING_INLINE over TLS: a run of a second or so to find
# the rate, then one of about the same duration as ours.
redis_result=""
if command -v redis-server >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1; then
	mkdir -p "$tmp/redis"
	redis-server --port 0 --tls-port "$rport" --bind 127.0.0.1 \
		--tls-cert-file "$tmp/tls/server.crt" --tls-key-file "$tmp/tls/server.key" \
		--tls-ca-cert-file "$tmp/tls/ca.crt" --tls-auth-clients no \
		--save "" --appendonly no --dir "$tmp/redis" --daemonize no \
		--logfile "$tmp/redis/redis.log" </dev/null >/dev/null 2>&1 &
	redis_pid=$!
	wait_port "$rport" "$redis_pid" redis-server
	redis_run() {
		timeout --foreground -k 5 "$limit" redis-benchmark --tls \
			--cacert "$tmp/tls/ca.crt" -h 127.0.0.1 -p "$rport" \
			-c "$conns" -P "$depth" -t ping_inline -n "$1" --csv 2>/dev/null |
			sed -n 's/^"PING_INLINE",//p' | tr -d '"'
	}
	probe=$(redis_run 20000 | cut -d, -f1)
	n=$(awk -v r="${probe:-0}" -v s="$seconds" 'BEGIN {
		n = int(r * s); if (n < 20000) n = 20000; if (n > 100000000) n = 100000000; print n }')
	say "redis-benchmark PING_INLINE over TLS: $conns connections, pipeline $depth, $n requests"
	# rps,avg,min,p50,p95,p99,max (milliseconds)
	redis_result=$(redis_run "$n")
	if [ -z "$redis_result" ]; then
		say "redis-benchmark failed"
		status=1
	fi
	stop_pid "$redis_pid"
	redis_pid=""
else
	say "redis-server or redis-benchmark not installed: no reference for ping"
fi

# ---- the table ----------------------------------------------------------
num() { awk -v v="$1" 'BEGIN { if (v == "" || v == "-") print "-"; else printf "%.1f", v }'; }
ms_to_us() { awk -v m="$1" 'BEGIN { if (m == "") print "-"; else printf "%d", m * 1000 + 0.5 }'; }
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'
}
# row CELLS...: one table line; an empty cell shows as "-".
row() {
	local a cells=()
	for a in "$@"; do cells+=("${a:--}"); done
	printf '%-9s %10s %8s %8s  %-34s %10s %8s %8s %6s\n' "${cells[@]}"
}

ping_rps=$(field rps "$ping_result")
note_rps=$(field rps "$note_result")
read -r redis_rps _ _ redis_p50 _ redis_p99 _ <<<"$(echo "$redis_result" | tr , ' ')" || true
read -r pg_rps pg_p50 pg_p99 <<<"$pgbench_same" || true
read -r pgp_rps pgp_p50 pgp_p99 <<<"$pgbench_pool" || true

echo
echo "calldesk bench: $conns connections, depth $depth, ${seconds}s per run," \
	"note text $note_size bytes, $(nproc) CPUs (${cpu:-unknown})"
row workload rps p50_us p99_us reference ref_rps ref_p50 ref_p99 ratio
row ping "$(num "$ping_rps")" "$(field p50_us "$ping_result")" "$(field p99_us "$ping_result")" \
	"redis-benchmark PING_INLINE (TLS)" "$(num "${redis_rps:-}")" "$(ms_to_us "${redis_p50:-}")" \
	"$(ms_to_us "${redis_p99:-}")" "$(ratio "$ping_rps" "${redis_rps:-}")"
row note "$(num "$note_rps")" "$(field p50_us "$note_result")" "$(field p99_us "$note_result")" \
	"pgbench INSERT, $pg_clients clients" "$(num "${pg_rps:-}")" "${pg_p50:--}" "${pg_p99:--}" \
	"$(ratio "$note_rps" "${pg_rps:-}")"
row note "$(num "$note_rps")" "$(field p50_us "$note_result")" "$(field p99_us "$note_result")" \
	"pgbench INSERT, $pool clients (pool)" "$(num "${pgp_rps:-}")" "${pgp_p50:--}" "${pgp_p99:--}" \
	"$(ratio "$note_rps" "${pgp_rps:-}")"
if [ "$idem" = 1 ]; then
	idem_rps=$(field rps "$idem_result")
	row note+idem "$(num "$idem_rps")" "$(field p50_us "$idem_result")" \
		"$(field p99_us "$idem_result")" \
		"pgbench INSERT, $pool clients (pool)" "$(num "${pgp_rps:-}")" "${pgp_p50:--}" \
		"${pgp_p99:--}" "$(ratio "$idem_rps" "${pgp_rps:-}")"
fi
echo
for r in "$ping_result" "$note_result" "$idem_result"; do
	[ -z "$r" ] || echo "$r"
done
exit "$status"
