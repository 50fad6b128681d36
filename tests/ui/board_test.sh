#!/bin/bash
# tests/ui/board_test.sh: the supervisor board (calldesk --watch) at a real
# terminal (tmux), against a real server. Other clients (calldesk -e as an
# agent) change things; the board must show each change within seconds:
# an agent's state, a new complaint in its queue, an escalation. The
# supervisor approves and rejects from the board (the answer in the status
# line), the terminal is resized, the server restarted under it, and q
# quits.
#
# By hand, after a build, from the top of the tree: tests/ui/board_test.sh
# (see tests/ui/lib.sh for the environment it reads). Ends with a line
# "N passed, N failed"; exit 1 when a check failed, 77 without tmux, 99
# when the set-up failed.
prog=ui/board_test.sh
# shellcheck source=tests/ui/lib.sh
. "$(dirname "$0")/lib.sh" || exit 99

ui_setup

# no_colour TARGET: the screen has no colour, only bold, reverse, dim.
no_colour() {
	! tm capture-pane -e -p -t "$1" | grep -Eq $'\e\\[([0-9]+;)*(3[0-7]|4[0-7]|9[0-7])(;[0-9]+)*m'
}

# title_width TARGET WIDTH: polls until the title bar's text is WIDTH
# columns wide (the clock ends one column before the right edge).
title_width() {
	local i
	for ((i = 0; i < 25; i++)); do
		[ "$(screen "$1" | head -n 1 | awk '{ print length($0) }')" = "$2" ] &&
			return 0
		sleep 0.2
	done
	return 1
}

# answer_has USER REQUEST ERE: the --raw answer has a line matching ERE.
answer_has() {
	client "$1" --raw -e "$2" | grep -Eq -- "$3"
}

# ok_exec USER REQUEST...: runs requests as USER, --raw; prints the output,
# fails unless every answer was OK.
ok_exec() {
	local user=$1
	shift
	local args=()
	for r in "$@"; do
		args+=(-e "$r")
	done
	client "$user" --raw "${args[@]}"
}

# ok_run USER REQUEST...: the same, quietly.
ok_run() { ok_exec "$@" >/dev/null; }

# ---- the board comes up ----------------------------------------------------
start_pane board 120 40 "env $client_env NO_COLOR=1 $client_bin $client_args -u sup1 --watch"
check_pane=board
check "the board shows the queues" wait_screen board '^QUEUES \(4\) +AGENTS'
check "... one line each" wait_screen board '^billing +0 +- +0 '
check "the board shows the agents" wait_screen board ' agent1 +offline +idle'
check "the board is live" wait_screen board ' live +[0-9]{2}:[0-9]{2}:[0-9]{2}$'
check "no colours when NO_COLOR is set" no_colour board

# An agent at their desk: an interactive session keeps them logged in, so
# that what -e sets lasts after -e exits.
start_pane desk 100 20 "env $client_env $client_bin $client_args -u agent1"
check "agent1 logs in" wait_screen desk '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?>$'
check "the board shows the login (not-ready)" \
	wait_screen board ' agent1 +not-ready +idle +0:[0-9]{2}$'
check "the time in state counts" \
	wait_screen board ' agent1 +not-ready +idle +0:0[2-9]$' 8

check "STATE SET state=ready (calldesk -e)" \
	ok_run agent1 'STATE SET state=ready'
check "the board shows agent1 ready within seconds" \
	wait_screen board ' agent1 +ready +idle +0:0[0-9]$'
check "... and counts a ready agent in billing" \
	wait_screen board '^billing +0 +- +1 '

out=$(ok_exec agent1 'CUSTOMER ADD name="Board Test"') || true
customer=$(printf '%s\n' "$out" | field customer)
out=$(ok_exec agent1 "COMPLAINT OPEN customer=${customer:-0} category=billing severity=2 summary=\"Charged twice\"") || true
complaint=$(printf '%s\n' "$out" | field complaint)
check "a complaint is opened (calldesk -e)" test -n "$complaint"
check "the board shows it waiting in billing" \
	wait_screen board '^billing +1 +0:[0-9]{2} +1 '
# The complaint's event, then the queue's figures (debounced by the server).
check "... and says what changed last" \
	wait_screen board "^Last change at [0-9:]+: (complaint $complaint: new in billing|queue billing: 1 waiting, 1 ready)\$"

# ---- an escalation, approved from the board --------------------------------
out=$(ok_exec agent1 "COMPLAINT TAKE id=$complaint" \
	"COMPLAINT RESOLVE id=$complaint action=refund amount=50.00 resolution=\"Refund of the second charge\"") || true
esc1=$(printf '%s\n' "$out" | field escalation)
check "a refund beyond agent1's authority is escalated" test -n "$esc1"
check "the escalation appears on the board, selected, with its details" \
	wait_screen board "^> +$esc1 +$complaint +refund +50\\.00 +agent1 +role:supervisor +1 "
check "the board still counts agent1 ready" \
	wait_screen board ' agent1 +ready +idle ' 2
key board a
check "a asks for an optional note" \
	wait_screen board "^Approve escalation $esc1; note \\(optional"
keys board 'Checked the bank statement'
key board Enter
check "the approval is answered OK in the status line" \
	wait_screen board "^Escalation $esc1 approved: OK \\(complaint now resolved\\)\\.$"
check "the escalation leaves the list" \
	wait_screen board '^PENDING ESCALATIONS \(0\)'
check "the server has it approved" \
	answer_has sup1 'ESCALATION LIST state=approved' "escalation=$esc1 .*state=approved"

# ---- two pending: select, refuse (four-eyes), reject -----------------------
out=$(ok_exec agent1 "COMPLAINT OPEN customer=${customer:-0} category=billing severity=3 summary=\"Late delivery\"") || true
c2=$(printf '%s\n' "$out" | field complaint)
out=$(ok_exec agent1 "COMPLAINT TAKE id=$c2" \
	"COMPLAINT RESOLVE id=$c2 action=voucher amount=45.00 resolution=\"Voucher\"") || true
esc2=$(printf '%s\n' "$out" | field escalation)
out=$(ok_exec agent1 "COMPLAINT OPEN customer=${customer:-0} category=billing severity=3 summary=\"Rude call\"") || true
c3=$(printf '%s\n' "$out" | field complaint)
out=$(ok_exec sup1 "COMPLAINT TAKE id=$c3" "ESCALATE complaint=$c3 reason=\"Second opinion\"") || true
esc3=$(printf '%s\n' "$out" | field escalation)
check "two more escalations are pending" test -n "$esc2" -a -n "$esc3"
check "the board lists both" wait_screen board '^PENDING ESCALATIONS \(2\)'
check "... the first selected" wait_screen board "^> +$esc2 +$c2 +voucher +45\\.00 +agent1 "
check "... the other with its requester" wait_screen board "^ +$esc3 +$c3 +- +- +sup1 "
key board Down
check "Down selects the next one" wait_screen board "^> +$esc3 +$c3 "
key board a Enter
check "approving one's own request: the NO code and message" \
	wait_screen board "^Escalation $esc3 not approved: NO four-eyes: "
check "... and it stays pending" wait_screen board '^PENDING ESCALATIONS \(2\)'
key board Up
check "Up selects the previous one" wait_screen board "^> +$esc2 +$c2 "
key board r Enter
check "r wants a reason" wait_screen board '^A reason is needed to reject'
keys board 'Over the voucher policy'
key board Enter
check "the rejection is answered OK" \
	wait_screen board "^Escalation $esc2 rejected: OK \\(complaint now assigned\\)\\.$"
check "... and leaves the list" wait_screen board '^PENDING ESCALATIONS \(1\)'
key board r
check "r asks for a reason" wait_screen board "^Reject escalation $esc3; reason"
key board Escape
check "Esc cancels it" wait_screen board '^Cancelled\.$'
check "... back to the keys" wait_screen board '^ Up/Down select +a approve'

# ---- deadlines: the "fast" category's service levels are 5 s and 10 s ----
out=$(ok_exec agent1 "COMPLAINT OPEN customer=${customer:-0} category=fast severity=1 summary=\"No dial tone\"") || true
cf=$(printf '%s\n' "$out" | field complaint)
check "a complaint with short deadlines is opened" test -n "$cf"
check "its missed reply deadline shows as breached" \
	wait_screen board "^ +$cf +respond +breached +[0-9:]+ +urgent +- +new\$" 20
check "... then its resolve deadline" \
	wait_screen board "^ +$cf +resolve +breached +[0-9:]+ +urgent " 20
check "... counted in the title" \
	wait_screen board '^DEADLINES AT RISK OR BREACHED +2 breached, 0 at risk'
check "resolving it (calldesk -e)" ok_run agent1 "COMPLAINT TAKE id=$cf" \
	"COMPLAINT RESOLVE id=$cf action=apology resolution=\"Line repaired\""
check "... takes it off the deadlines" \
	wait_screen board '^DEADLINES AT RISK OR BREACHED +0 breached, 0 at risk'

# ---- resizing ----------------------------------------------------------------
tm resize-window -t board -x 80 -y 24
check "narrower: the sections stack" wait_screen board '^AGENTS +[0-9]+ ready'
check "... and the title spans the new width" title_width board 79
check "... still showing the pending escalation" \
	wait_screen board "^> +$esc3 +$c3 "
tm resize-window -t board -x 150 -y 45
check "wider: queues and agents side by side again" \
	wait_screen board '^QUEUES \(4\) +AGENTS'
check "... and the title spans the new width" title_width board 149

# ---- the server goes away and comes back -----------------------------------
server_stop
check "a lost connection is shown" wait_screen board 'DISCONNECTED'
server_start || fail_setup "the server did not restart"
check "the board reconnects by itself" \
	wait_screen board ' live +[0-9]{2}:[0-9]{2}:[0-9]{2}$' 20
check "... says so" wait_screen board '^Reconnected\.$'
check "... and shows the pending escalation again" \
	wait_screen board "^> +$esc3 +$c3 "

# ---- q quits -------------------------------------------------------------------
key board q
check "q quits" wait_dead board
check "... with status 0" exited_with board 0
check "... and gives the terminal back" wait_gone board 'PENDING ESCALATIONS' 2

finish
