#!/bin/bash
# test.sh: the README's "test" command. Installs what is missing, builds
# from scratch and runs `make check`: the unit tests, then the end-to-end
# tests (tests/e2e/run.sh starts its own PostgreSQL cluster and server in a
# temporary folder). Exits with make check's status.
#
#   scripts/test.sh                 plain build
#   scripts/test.sh --sanitizers    ASan + UBSan build (./configure
#                                   --enable-sanitizers)
#
# The build is in the source tree. When the tree was configured the other
# way, it is cleaned first (make distclean), so no object of one kind is
# linked with the other.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sanitizers=no
for arg in "$@"; do
	case "$arg" in
	--sanitizers) sanitizers=yes ;;
	*)
		echo "usage: scripts/test.sh [--sanitizers]" >&2
		exit 2
		;;
	esac
done

say() { printf '\ntest.sh: %s\n' "$*"; }

scripts/deps.sh

configure_args=()
if [ "$sanitizers" = yes ]; then
	configure_args+=(--enable-sanitizers)
fi

if [ -f Makefile ] && [ -x config.status ]; then
	was=no
	case "$(./config.status --config)" in
	*--enable-sanitizers*) was=yes ;;
	esac
	if [ "$was" != "$sanitizers" ]; then
		say "cleaning a build made with sanitizers=$was"
		make distclean >/dev/null || true
	fi
fi

say "autoreconf"
autoreconf -fi
say "configure ${configure_args[*]:-}"
./configure "${configure_args[@]}"
say "make"
make -j2

say "make check (sanitizers=$sanitizers)"
rc=0
# One test program at a time: the end-to-end suites each run a PostgreSQL
# cluster and a server, and their timeouts are honest on two cores only
# when they do not compete.
make -j1 check VERBOSE=1 || rc=$?

# The unit tests once more under valgrind (the sanitizer build already
# checks them with ASan and UBSan).
vg_pass=0
vg_fail=0
if [ "$sanitizers" = no ] && command -v valgrind >/dev/null 2>&1; then
	say "unit tests under valgrind"
	for t in tests/unit/test_*; do
		[ -x "$t" ] && [ -f "$t.c" ] || continue
		if (cd tests/unit && CALLDESK_UNIT_DIR="$top/tests/unit" srcdir="$top" \
			valgrind -q --error-exitcode=1 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "./$(basename "$t")") \
			>"$t.valgrind.log" 2>&1; then
			vg_pass=$((vg_pass + 1))
		else
			vg_fail=$((vg_fail + 1))
			echo "valgrind: $t failed:"
			tail -n 30 "$t.valgrind.log"
			rc=1
		fi
	done
	echo "valgrind: $vg_pass passed, $vg_fail failed"
fi

# A closing line that counts test programs, for people and for CI logs.
# (On failure VERBOSE=1 has already printed test-suite.log and the logs of
# the failed tests.)
if [ -f test-suite.log ]; then
	count() {
		local n
		n=$(sed -n "s/^# $1: *\([0-9][0-9]*\).*/\1/p" test-suite.log | head -n 1)
		echo "${n:-0}"
	}
	pass=$(count PASS)
	skip=$(count SKIP)
	fail=$(($(count FAIL) + $(count XPASS) + $(count ERROR)))
	if [ "$rc" -ne 0 ]; then
		# The failed cases by name, close to the end where CI logs show them.
		echo
		echo "test.sh: failed cases (from test-suite.log):"
		grep -E '^(FAIL|ERROR):|^\[  FAILED  \]|^\[  ERROR   \]|^\[   LINE   \]|run.sh: (FAILED|the server)' \
			test-suite.log | awk '!seen[$0]++' | tail -n 40 || true
	fi
	echo
	echo "test.sh: test programs of make check, sanitizers=$sanitizers:"
	echo "check: $((pass + vg_pass)) passed, $((fail + vg_fail)) failed, $skip skipped"
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		cat test-suite.log
	fi
else
	echo "test.sh: make check failed before running tests (no test-suite.log)" >&2
fi
exit "$rc"
