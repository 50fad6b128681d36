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
make -j2 check VERBOSE=1 || rc=$?

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
	echo
	echo "test.sh: test programs of make check, sanitizers=$sanitizers:"
	echo "check: $pass passed, $fail failed, $skip skipped"
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		cat test-suite.log
	fi
else
	echo "test.sh: make check failed before running tests (no test-suite.log)" >&2
fi
exit "$rc"
