#!/bin/sh
# run.sh: build the libFuzzer harnesses of tests/fuzz and run each for a
# bounded time. Not part of `make check`.
#
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]
#
# SECONDS defaults to $FUZZ_TIME or 60 (libFuzzer -max_total_time);
# HARNESS is any of proto values pan (default: all three). Environment:
#   CC          a clang with libFuzzer (default: clang)
#   BUILD_DIR   where binaries, the working corpora and crash artefacts go
#               (default: tests/fuzz/build, ignored by git)
#   FUZZ_ARGS   extra libFuzzer flags (e.g. "-jobs=2 -workers=2")
#   FUZZ_BUILD_ONLY=1  only build
#   FUZZ_PAN_SKIP_IDEMPOTENCE=1  leave property P7 out of fuzz_pan
# Exit status: 0 when every harness ran clean, 1 otherwise.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${CC:-clang}
BUILD_DIR=${BUILD_DIR:-$here/build}
time=${FUZZ_TIME:-60}
case ${1:-} in
[0-9]*) time=$1; shift ;;
esac
harnesses=${*:-proto values pan}

CFLAGS="-g -O1 -fno-omit-frame-pointer -std=c11 -D_DEFAULT_SOURCE \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 -Wall -Wextra -I$top/server"

mkdir -p "$BUILD_DIR" || exit 1

build() {
	name=$1; shift
	echo "== build fuzz_$name"
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$BUILD_DIR/fuzz_$name" "$here/fuzz_$name.c" "$@" ||
		exit 1
}

for h in $harnesses; do
	case $h in
	proto)  build proto "$top/server/proto.c" "$top/server/values.c" \
			"$top/server/codes.c" ;;
	values) build values "$top/server/values.c" ;;
	pan)    build pan "$top/server/pan.c" ;;
	*) echo "unknown harness: $h" >&2; exit 2 ;;
	esac
done
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

status=0
for h in $harnesses; do
	work="$BUILD_DIR/corpus/$h"
	art="$BUILD_DIR/artifacts/$h"
	mkdir -p "$work" "$art"
	echo "== run fuzz_$h for ${time}s (corpus $work, artefacts $art)"
	# The seed corpus is read-only input; new units go to $work.
	# shellcheck disable=SC2086
	if ! "$BUILD_DIR/fuzz_$h" -max_total_time="$time" -print_final_stats=1 \
		-dict="$here/$h.dict" -artifact_prefix="$art/" \
		${FUZZ_ARGS:-} "$work" "$here/corpus/$h" \
		>"$BUILD_DIR/fuzz_$h.log" 2>&1; then
		status=1
		echo "   FAILED: see $BUILD_DIR/fuzz_$h.log and $art/"
	fi
	# the stats, and what failed with the line of detail after it
	awk '/^stat::(number_of_executed_units|average_exec_per_sec)/ ||
	     /^(==[0-9]+==|SUMMARY|fuzz_)/ { print; prev = $0; next }
	     prev ~ /property failed/ { print }
	     { prev = $0 }' "$BUILD_DIR/fuzz_$h.log" | head -20
done
exit $status
