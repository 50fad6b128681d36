#!/bin/bash
# tests/ui/repl_test.sh: the interactive client at a real terminal (tmux),
# against a real server: login, answers shown as fields, Tab completion,
# the history kept between sessions (~/.calldesk_history under a temporary
# HOME), the password asked without echo.
#
# By hand, after a build, from the top of the tree: tests/ui/repl_test.sh
# (see tests/ui/lib.sh for the environment it reads). Ends with a line
# "N passed, N failed"; exit 1 when a check failed, 77 without tmux, 99
# when the set-up failed.
prog=ui/repl_test.sh
# shellcheck source=tests/ui/lib.sh
. "$(dirname "$0")/lib.sh" || exit 99

ui_setup

# ---- first session ---------------------------------------------------------
start_pane repl 120 40 "env $client_env $client_bin $client_args -u agent1"
check_pane=repl
check "the prompt follows the login" \
	wait_screen repl '^Logged in as agent1 \(agent\)'
check "the prompt shows the user and the state" \
	wait_screen repl '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?>$'

key repl PING Enter
check "PING is answered OK" wait_screen repl '^OK$'
check "the prompt counts the complaints waiting in agent1's queues" \
	wait_screen repl '^agent1 \(not-ready\) \[[0-9]+ waiting\]>'

keys repl 'CUSTOMER ADD name="Ada Lovelace" phone=+441234567 vip=yes'
key repl Enter
check "CUSTOMER ADD answers with a labelled field" \
	wait_screen repl '^customer: +[0-9]+$'
id=$(screen repl | sed -n 's/^customer: *\([0-9][0-9]*\)$/\1/p' | tail -n 1)

# Tab completes the verb, the subverb, then the only argument name.
keys repl 'CUST'
key repl Tab
check "Tab completes a verb" wait_screen repl '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?> CUSTOMER$'
keys repl 'G'
key repl Tab
check "Tab completes a subverb" \
	wait_screen repl '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?> CUSTOMER GET$'
keys repl 'i'
key repl Tab
check "Tab completes an argument name" \
	wait_screen repl '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?> CUSTOMER GET id=$'
keys repl "${id:-0}"
key repl Enter
check "CUSTOMER GET shows the customer as labelled fields" \
	wait_screen repl '^name: +Ada Lovelace$'
check "... with every field on its own line" \
	wait_screen repl '^phone: +\+441234567$'
check "... the VIP flag too" wait_screen repl '^vip: +yes$'

# Tab on an ambiguous start lists the candidates.
keys repl 'COMPLAINT '
key repl Tab
check "Tab lists the subverbs when several fit" \
	wait_screen repl 'OPEN +.*RESOLVE'
key repl C-u
keys repl 'quit'
key repl Enter
check "quit leaves" wait_dead repl
check "... with status 0" exited_with repl 0

hist=$home/.calldesk_history
check "the history file is written" test -s "$hist"
check "... readable by its owner only" \
	test "$(stat -c %a "$hist" 2>/dev/null)" = 600
check "... with the requests typed" grep -q 'PING' "$hist"

# ---- second session: the history is back -----------------------------------
start_pane repl2 120 40 "env $client_env $client_bin $client_args -u agent1"
check_pane=repl2
check "a second session starts" wait_screen repl2 '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?>$'
key repl2 Up
check "Up recalls the last line of the first session" \
	wait_screen repl2 '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?> quit$'
key repl2 Up
check "Up again recalls the one before" \
	wait_screen repl2 "^agent1 \\(not-ready\\)( \\[[0-9]+ waiting\\])?> CUSTOMER GET id=${id:-0}\$"
key repl2 Up Up
check "... back to the first request" \
	wait_screen repl2 '^agent1 \(not-ready\)( \[[0-9]+ waiting\])?> PING$'
key repl2 Enter
check "a recalled request runs" wait_screen repl2 '^OK$'
key repl2 C-d
check "Ctrl-D on an empty line leaves" wait_dead repl2

# ---- the password, asked without echo -------------------------------------
start_pane pw 120 20 "env HOME=$home CALLDESK_CA=$tmp/tls/ca.crt TERM=screen $client_bin $client_args -u agent2"
check_pane=pw
check "without CALLDESK_PASSWORD the password is asked for" \
	wait_screen pw '^Password for agent2:'
keys pw "$password"
key pw Enter
check "the password logs in" wait_screen pw '^Logged in as agent2'
check "... and was not echoed" wait_gone pw "$password" 2
key pw C-d
check "the session ends" wait_dead pw

finish
