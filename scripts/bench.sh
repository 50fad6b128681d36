#!/bin/bash
# bench.sh: `make bench`. Measures calldeskd beside references taken in the
# same run on the same machine, and prints them side by side.
#
# In a temporary folder: a private PostgreSQL cluster, dev certificates, a
# generated configuration (cheap password hashing, max_clients 2000), the
# schema, bench users; then the real server, and bench/calldesk-bench
# against it for the `ping`, `advise` and `note` workloads, `note` again
# with an idempotency key on every request (the transactional path), the
# event `fanout` to many watchers, and `next` with many agents taking
# complaints prepared in bulk. The references:
#   - pgbench, in the same cluster, inserting a row like an interaction note
#     (same columns and index, same text size) at the same concurrency;
#     a second time at calldeskd's pool size;
#   - pgbench calling the SQL functions behind ADVISE (cd_facts) and NEXT
#     (cd_next) in calldesk's own database, at the pool size;
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
# run), BENCH_RULES (conf/rules.conf), BENCH_CATEGORY (billing: the
# complaints' category and the agents' skill), BENCH_ADVISE ('action=refund
# amount=10.00'), BENCH_AGENTS (50: next's agents, one connection each),
# BENCH_NEXT_DEPTH (1), BENCH_COMPLAINTS (20000 waiting for next),
# BENCH_WATCHERS (100), BENCH_TOGGLES (500: the fanout driver's state
# changes), BENCH_INTERVAL_MS (10: its pause after each answer), BENCH_KEEP,
# CALLDESK_BUILDDIR, BENCH_BIN (the load generator, default
# bench/calldesk-bench in the build).
# Exit status: 0 when every calldesk and reference run gave figures,
# calldesk answered every measured request with OK (NEXT: or NO empty), no
# complaint was given twice and no event was missed; 1 otherwise.
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
category=${BENCH_CATEGORY:-billing}
advise_args=${BENCH_ADVISE:-action=refund amount=10.00}
agents=${BENCH_AGENTS:-50}
next_depth=${BENCH_NEXT_DEPTH:-1}
complaints=${BENCH_COMPLAINTS:-20000}
watchers=${BENCH_WATCHERS:-100}
toggles=${BENCH_TOGGLES:-500}
interval_ms=${BENCH_INTERVAL_MS:-10}
password=bench-secret-42
grace=15

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "$*"; exit 1; }

for v in conns depth seconds note_size nusers pool agents next_depth complaints watchers \
	toggles; do
	case "${!v}" in '' | *[!0-9]* | 0) die "BENCH_${v^^} must be a positive integer" ;; esac
	val=${!v}
	[ "${#val}" -le 9 ] || die "BENCH_${v^^} is too large"
done
case "$warmup" in '' | *[!0-9]*) die "BENCH_WARMUP must be an integer" ;; esac
case "$interval_ms" in '' | *[!0-9]*) die "BENCH_INTERVAL_MS must be an integer" ;; esac
case "$idem" in 0 | 1) ;; *) die "BENCH_IDEM must be 0 or 1" ;; esac
case "$category" in [a-z0-9]*) ;; *) die "BENCH_CATEGORY must be a category name" ;; esac
case "$category" in *[!a-z0-9._-]*) die "BENCH_CATEGORY must be a category name" ;; esac
[ "$agents" -le 1000 ] || die "BENCH_AGENTS is at most 1000"
[ "$watchers" -le 1900 ] || die "BENCH_WATCHERS is at most 1900 (max_clients is 2000)"
[ "$complaints" -le 10000000 ] || die "BENCH_COMPLAINTS is at most 10000000"
[ "$toggles" -le 1000000 ] || die "BENCH_TOGGLES is at most 1000000"
[ "$interval_ms" -le 10000 ] || die "BENCH_INTERVAL_MS is at most 10000"
# Every benchmark program runs under `timeout`, should it hang.
limit=$((3 * (seconds + warmup) + 60))
# fanout ends after its changes; this bounds it should they be slow.
fanout_bound=$((toggles * (interval_ms + 40) / 1000 + 30))

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

[ -x "$pg_bindir/psql" ] || die "$pg_bindir/psql not found"

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
grep -Eq "^[[:space:]]*\[category[[:space:]]+$category\]" "$tmp/rules.conf" ||
	die "the rules define no category '$category' (BENCH_CATEGORY)"
# next's agents hold hundreds of complaints each: a tier of their own, the
# highest the rules leave free, with the largest capacity.
big_tier=""
for t in 9 8 7 6 5 4 3 2; do
	if ! grep -Eq "^[[:space:]]*\[tier[[:space:]]+$t\]" "$tmp/rules.conf"; then
		big_tier=$t
		break
	fi
done
[ -n "$big_tier" ] || die "the rules define every tier; next needs a free one for its agents"
cat >>"$tmp/rules.conf" <<EOF

# Added by scripts/bench.sh: the next workload's agents.
[tier $big_tier]
capacity = 1000
EOF

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
# add_user NAME ROLE [OPTIONS...]
add_user() {
	local name=$1 role=$2
	shift 2
	printf '%s\n' "$password" |
		"$server_bin" -c "$conf" --add-user "$name" --role "$role" "$@" >>"$log" 2>&1 ||
		die "calldeskd --add-user $name failed"
}
say "adding $nusers + $agents + 2 users"
users=""
for ((i = 1; i <= nusers; i++)); do
	add_user "bench$i" agent
	users=${users:+$users,}bench$i
done
# next: agents of the large tier, skilled for the category's complaints.
agent_users=""
for ((i = 1; i <= agents; i++)); do
	add_user "benchnext$i" agent --tier "$big_tier" --skills "$category"
	agent_users=${agent_users:+$agent_users,}benchnext$i
done
# fanout: the watchers' supervisor, and the agent whose state changes.
add_user benchsup supervisor
add_user benchdrv agent

"$server_bin" -c "$conf" </dev/null >>"$log" 2>&1 &
server_pid=$!
wait_port "$port" "$server_pid" calldeskd

pg_sql() {
	timeout --foreground -k 5 "$limit" \
		"$pg_bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg" -p "$pgport" -U postgres "$@"
}
# cd_sql SQL: one value (or rows, |-separated) from calldesk's database.
cd_sql() {
	pg_sql -d calldesk -At -c "$1"
}

# These run in $(...): they report failure by printing nothing.

# run_calldesk WORKLOAD [OPTIONS...]: prints the RESULT line (empty on
# failure). The options come after the defaults, and win over them.
run_calldesk() {
	local out rc=0 shown="$*"
	[ "${#shown}" -le 150 ] || shown="${shown:0:147}..."
	say "calldesk-bench $shown"
	out=$(CALLDESK_BENCH_PASSWORD=$password timeout --foreground -k 5 "${run_limit:-$limit}" \
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

# ---- preparing complaints ------------------------------------------------
# One complaint is opened through the server, which takes its queue and
# service levels from the rules; the others are copies of it, made in
# SQL: for advise one assigned to each bench user, for next many waiting.
uid1=$(cd_sql "SELECT id FROM users WHERE name = 'bench1'") || die "no user bench1"
cust=$(cd_sql "INSERT INTO customers (name, created_by) VALUES ('bench template', $uid1)
	RETURNING id" | head -n 1) || die "cannot add the template's customer"
template_open=$(run_calldesk request --users bench1 --conns 1 --depth 1 --warmup 0 \
	--requests 1 --request "COMPLAINT OPEN customer=$cust category=$category severity=4 summary=bench-template")
[ -n "$template_open" ] || die "COMPLAINT OPEN category=$category failed"
template=$(cd_sql "SELECT max(id) FROM complaints WHERE customer_id = $cust")
queue=$(cd_sql "SELECT queue FROM complaints WHERE id = ${template:-0}")
if [ -z "$template" ] || [ -z "$queue" ]; then
	die "the template complaint is not in the database"
fi
# The template stays out of next's way: bench1 holds it.
cd_sql "UPDATE complaints SET state = 'assigned', assignee_id = $uid1 WHERE id = $template;
	INSERT INTO complaint_history (complaint_id, by_id, event) VALUES ($template, $uid1, 'assigned')" \
	>/dev/null || die "cannot assign the template"

# copy_complaints FROM_USERS_SQL N: N copies of the template per user of the
# query, each with a customer of its own; assigned to that user when the
# query's second column is true, waiting in the queue otherwise.
copy_complaints() {
	pg_sql -d calldesk >/dev/null <<EOF
WITH t AS (SELECT * FROM complaints WHERE id = $template),
u AS ($1),
cu AS (INSERT INTO customers (name, created_by)
       SELECT 'bench customer', u.uid FROM u, generate_series(1, $2)
       RETURNING id, created_by),
c AS (INSERT INTO complaints (customer_id, category, severity, queue, state, assignee_id,
                              summary, respond_within, resolve_within, calendar,
                              respond_by, resolve_by, created_by)
      SELECT cu.id, t.category, t.severity, t.queue,
             CASE WHEN u.assign THEN 'assigned' ELSE 'new' END,
             CASE WHEN u.assign THEN cu.created_by END,
             'bench complaint', t.respond_within, t.resolve_within, t.calendar,
             t.respond_by, t.resolve_by, cu.created_by
        FROM cu JOIN u ON u.uid = cu.created_by, t
      RETURNING id, created_by, state)
INSERT INTO complaint_history (complaint_id, by_id, event)
SELECT c.id, c.created_by, e.event
  FROM c, LATERAL (VALUES ('opened'), ('assigned')) AS e(event)
 WHERE e.event = 'opened' OR c.state = 'assigned';
EOF
}
copy_complaints "SELECT id AS uid, true AS assign FROM users WHERE name ~ '^bench[0-9]+\$'" 1 ||
	die "cannot prepare the advise complaints"
# For the reference: the bench users' ids, and each one's complaint.
read -r advise_uids advise_cids <<<"$(cd_sql "SELECT string_agg(u.id::text, ',' ORDER BY u.id),
	string_agg(c.id::text, ',' ORDER BY u.id)
	FROM users u JOIN complaints c ON c.assignee_id = u.id AND c.summary = 'bench complaint'
	WHERE u.name ~ '^bench[0-9]+\$'" | tr '|' ' ')"
agent_ids=$(cd_sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM users
	WHERE name ~ '^benchnext[0-9]+\$'")
waiting_sql="SELECT count(*) FROM complaints WHERE state IN ('new', 'reopened') AND queue = '$queue'"
assigned_sql="SELECT count(*) FROM complaints WHERE assignee_id = ANY ('{$agent_ids}'::bigint[])"

# ---- calldesk runs ------------------------------------------------------
ping_result=$(run_calldesk ping)
check_result ping "$ping_result"
advise_result=$(run_calldesk advise --advise "$advise_args")
check_result advise "$advise_result"
note_result=$(run_calldesk note --note-size "$note_size")
check_result note "$note_result"
idem_result=""
if [ "$idem" = 1 ]; then
	idem_result=$(run_calldesk note --note-size "$note_size" --idem)
	check_result note+idem "$idem_result"
	[ -n "$idem_result" ] || status=1
fi

# fanout: watchers of one supervisor, and the driver; the warm-up lets the
# events of their own logins pass.
fanout_result=$(run_limit=$((fanout_bound + 90)) run_calldesk fanout --users benchsup \
	--driver benchdrv --conns "$watchers" --toggles "$toggles" --interval "$interval_ms" \
	--seconds "$fanout_bound" --warmup 1 --drain-timeout 5)
check_result fanout "$fanout_result"
fanout_missed=$(field missed "$fanout_result")
if [ -n "$fanout_result" ] && [ "${fanout_missed:-0}" != 0 ]; then
	say "warning: fanout: $fanout_missed events missed"
	status=1
fi

# next: the waiting complaints, copied in bulk (the server then digests
# one NOTIFY per complaint: a pause lets it), then every agent takes until
# the time is up or the queue is empty.
say "next: preparing $complaints complaints in queue $queue"
copy_complaints "SELECT id AS uid, false AS assign FROM users WHERE name = 'bench1'" \
	"$complaints" || die "cannot prepare the complaints for next"
sleep 2
next_waiting=$(cd_sql "$waiting_sql")
next_result=$(run_calldesk next --users "$agent_users" --conns "$agents" --depth "$next_depth")
check_result next "$next_result"

# The server is done; the references get the machine to themselves.
stop_pid "$server_pid"
server_pid=""

# next: nothing given twice. The bench compares the ids it was given; the
# database must hold exactly as many complaints assigned to the agents,
# each with one assignment in its history.
next_db=""
next_twice=""
next_check="-"
if [ -n "$next_result" ]; then
	next_db=$(cd_sql "$assigned_sql")
	next_twice=$(cd_sql "SELECT count(*) FROM (SELECT complaint_id FROM complaint_history
		WHERE event = 'assigned' AND by_id = ANY ('{$agent_ids}'::bigint[])
		GROUP BY complaint_id HAVING count(*) > 1) x")
	if [ "$(field assigned "$next_result")" = "$next_db" ] &&
		[ "$(field duplicates "$next_result")" = 0 ] && [ "$next_twice" = 0 ]; then
		next_check=ok
	else
		next_check=FAILED
		say "warning: next: the bench was given $(field assigned "$next_result") complaints" \
			"($(field duplicates "$next_result") twice), the database assigned $next_db" \
			"($next_twice twice)"
		status=1
	fi
fi

# pgbench: a table shaped like calldesk's notes (without the foreign keys,
# whose parents it does not have) and the same text, one INSERT per
# transaction, committed with the same durability settings.
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

# The SQL behind ADVISE: the facts of one complaint for one agent, as the
# server reads them (the decision itself is made in memory, in calldeskd).
cat >"$tmp/facts.sql" <<EOF
\\set i random(1, $(awk -F, '{print NF}' <<<"$advise_uids"))
SELECT * FROM cd_facts(('{$advise_uids}'::bigint[])[:i], ('{$advise_cids}'::bigint[])[:i], 'UTC');
EOF
# The SQL behind NEXT, with the arguments calldeskd passes (the caller,
# the skills, the tier's capacity, next_aging's default, the states NEXT
# takes from).
cat >"$tmp/next.sql" <<EOF
\\set a random(1, $agents)
SELECT * FROM cd_next(('{$agent_ids}'::bigint[])[:a], 'agent', '$category', 1000, 1800,
                      '{new,reopened}');
EOF

# run_pgbench CLIENTS SCRIPT DATABASE: prints "tps p50_us p99_us" (empty on
# failure).
run_pgbench() {
	local c=$1 script=$2 db=$3 jobs=2 out tps logs rc=0
	[ "$c" -lt "$jobs" ] && jobs=$c
	say "pgbench $script: $c clients, $jobs threads, ${seconds}s"
	rm -f "$tmp"/pgbench_log*
	out=$(cd "$tmp" && timeout --foreground -k 5 "$limit" "$pg_bindir/pgbench" \
		-n -M prepared -c "$c" -j "$jobs" -T "$seconds" -f "$script" -l --log-prefix=pgbench_log \
		-h "$tmp/pg" -p "$pgport" -U postgres "$db" 2>&1) || rc=$?
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
pgbench_same=$(run_pgbench "$pg_clients" insert.sql benchref)
pgbench_pool=$(run_pgbench "$pool" insert.sql benchref)
pgbench_facts=$(run_pgbench "$pool" facts.sql calldesk)
# cd_next: from the same number of waiting complaints as calldesk had (the
# queue topped up), with the agents ready again. Its rate is the number of
# complaints assigned per second: an empty queue would answer faster.
pgbench_next=""
next_ref_rps=""
next_ref_what="pgbench cd_next(), $pool clients (pool)"
if [ -n "$next_result" ]; then
	left=$(cd_sql "$waiting_sql")
	if [ "$left" -lt "$next_waiting" ]; then
		copy_complaints "SELECT id AS uid, false AS assign FROM users WHERE name = 'bench1'" \
			$((next_waiting - left)) || die "cannot top up the complaints"
	fi
	cd_sql "UPDATE agent_state SET state = 'ready', since = now()
		WHERE user_id = ANY ('{$agent_ids}'::bigint[])" >/dev/null ||
		die "cannot set the agents ready"
	before=$(cd_sql "$assigned_sql")
	pgbench_next=$(run_pgbench "$pool" next.sql calldesk)
	after=$(cd_sql "$assigned_sql")
	[ -z "$pgbench_next" ] || next_ref_rps=$(awk -v n=$((after - before)) -v s="$seconds" \
		'BEGIN { printf "%.1f", n / s }')
	if [ -n "$pgbench_next" ] && [ "$(cd_sql "$waiting_sql")" -eq 0 ]; then
		# Its rate is then a lower bound: no ratio.
		say "warning: pgbench emptied the queue: its NEXT rate is a lower bound"
		next_ref_what="pgbench cd_next(), emptied the queue"
	fi
fi
[ -n "$ping_result" ] && [ -n "$note_result" ] && [ -n "$pgbench_same" ] &&
	[ -n "$pgbench_pool" ] && [ -n "$advise_result" ] && [ -n "$pgbench_facts" ] &&
	[ -n "$fanout_result" ] && [ -n "$next_result" ] && [ -n "$pgbench_next" ] || status=1

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
	printf '%-9s %10s %8s %8s  %-38s %10s %8s %8s %6s\n' "${cells[@]}"
}

ping_rps=$(field rps "$ping_result")
advise_rps=$(field rps "$advise_result")
note_rps=$(field rps "$note_result")
next_rps=$(field rps "$next_result")
read -r redis_rps _ _ redis_p50 _ redis_p99 _ <<<"$(echo "$redis_result" | tr , ' ')" || true
read -r pg_rps pg_p50 pg_p99 <<<"$pgbench_same" || true
read -r pgp_rps pgp_p50 pgp_p99 <<<"$pgbench_pool" || true
read -r pgf_rps pgf_p50 pgf_p99 <<<"$pgbench_facts" || true
read -r _ pgn_p50 pgn_p99 <<<"$pgbench_next" || true

echo
echo "calldesk bench: $conns connections, depth $depth, ${seconds}s per run," \
	"note text $note_size bytes, pool $pool, $(nproc) CPUs (${cpu:-unknown})"
row workload rps p50_us p99_us reference ref_rps ref_p50 ref_p99 ratio
row ping "$(num "$ping_rps")" "$(field p50_us "$ping_result")" "$(field p99_us "$ping_result")" \
	"redis-benchmark PING_INLINE (TLS)" "$(num "${redis_rps:-}")" "$(ms_to_us "${redis_p50:-}")" \
	"$(ms_to_us "${redis_p99:-}")" "$(ratio "$ping_rps" "${redis_rps:-}")"
row advise "$(num "$advise_rps")" "$(field p50_us "$advise_result")" \
	"$(field p99_us "$advise_result")" "calldesk ping (above)" "$(num "$ping_rps")" \
	"$(field p50_us "$ping_result")" "$(field p99_us "$ping_result")" \
	"$(ratio "$advise_rps" "$ping_rps")"
row advise "$(num "$advise_rps")" "$(field p50_us "$advise_result")" \
	"$(field p99_us "$advise_result")" "pgbench cd_facts(), $pool clients (pool)" \
	"$(num "${pgf_rps:-}")" "${pgf_p50:--}" "${pgf_p99:--}" "$(ratio "$advise_rps" "${pgf_rps:-}")"
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
next_ratio=$(ratio "$next_rps" "$next_ref_rps")
case "$next_ref_what" in *emptied*) next_ratio="-" ;; esac
row next "$(num "$next_rps")" "$(field p50_us "$next_result")" "$(field p99_us "$next_result")" \
	"$next_ref_what" "$(num "$next_ref_rps")" "${pgn_p50:--}" "${pgn_p99:--}" "$next_ratio"
row fanout "$(num "$(field eps "$fanout_result")")" "$(field p50_us "$fanout_result")" \
	"$(field p99_us "$fanout_result")" "events/s to $watchers watchers" - - - -
echo
if [ -n "$advise_result" ]; then
	echo "advise: $advise_args, as bench1..bench$nusers: decisions allow" \
		"$(field allow "$advise_result"), escalate $(field escalate "$advise_result")," \
		"deny $(field deny "$advise_result")"
else
	echo "advise: no figures (see above)"
fi
if [ -n "$next_result" ]; then
	echo "next: $agents agents (depth $next_depth), $next_waiting complaints waiting:" \
		"$(field assigned "$next_result") given by NEXT in all phases" \
		"($(field duplicates "$next_result") twice), $next_db assigned in the database" \
		"($next_twice twice): $next_check; NO empty $(field empty "$next_result")"
else
	echo "next: no figures (see above)"
fi
if [ -n "$fanout_result" ]; then
	echo "fanout: $(field watchers "$fanout_result") watchers x" \
		"$(field toggles "$fanout_result") state changes ${interval_ms} ms apart:" \
		"$(field events "$fanout_result") of $(field expected "$fanout_result") events," \
		"missed $(field missed "$fanout_result"), stray $(field stray "$fanout_result");" \
		"the changes' own answers p50 $(field req_p50_us "$fanout_result") us," \
		"p99 $(field req_p99_us "$fanout_result") us"
else
	echo "fanout: no figures (see above)"
fi
echo
for r in "$ping_result" "$advise_result" "$note_result" "$idem_result" "$fanout_result" \
	"$next_result"; do
	[ -z "$r" ] || echo "$r"
done
exit "$status"
