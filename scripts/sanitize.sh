#!/usr/bin/env bash
# twshim — build the sanitizer variants and run the tests under them.
#
#   scripts/sanitize.sh [asan] [tsan]     (default: both)
#
# asan: build-asan, -fsanitize=address,undefined (UBSan fatal).  Unit tests
#       with leak checking; end-to-end, security and stress suites with the
#       instrumented library loaded by every host (python3, curl and our own
#       instrumented programs; see run_asan for what that covers).  Leaks
#       are not checked in hosts we do not own; our own stress programs turn
#       leak checking back on for themselves.
# tsan: build-tsan, -fsanitize=thread.  Unit tests and the stress suite,
#       whose hosts are our own instrumented multi-threaded programs (TSan
#       inside an uninstrumented host would see nothing).
#
# SANITIZE_NO_UNIT=1 leaves the unit tests out (scripts/soak.sh --e2e-only).
#
# Fails on any failed test and on any sanitizer report: reports go to
# per-process files under the build directory (log_path), which must stay
# empty, and the test logs are searched for "runtime error" and
# "Sanitizer" headers too.  Exit 0 only when everything ran clean.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

variants=("$@")
((${#variants[@]})) || variants=(asan tsan)

# On 2 cores the e2e suites dominate; sanitizers slow them ~2-5x.
jobs=${SANITIZE_JOBS:-2}
timeout_mult=${SANITIZE_TIMEOUT_MULTIPLIER:-4}

log() { printf 'sanitize: %s\n' "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}

keep_going_or_die() {
	[[ ${SANITIZE_KEEP_GOING:-0} == 1 ]] || die "$1"
	log "FAIL: $1 (going on: SANITIZE_KEEP_GOING=1)"
	build_failed=1
}

command -v meson >/dev/null || die "meson not found (scripts/deps.sh)"
command -v ninja >/dev/null || die "ninja not found (scripts/deps.sh)"

# setup DIR SANITIZE: configure (or reconfigure) and build.
setup() {
	local dir=$1 san=$2 cargs=$3
	local opts=(-Dtests=enabled "-Db_sanitize=$san" -Db_lundef=false
		"-Dc_args=$cargs" --buildtype=debugoptimized)
	if [[ -f $dir/build.ninja ]]; then
		meson configure "$dir" "${opts[@]}" >/dev/null || die "meson configure $dir"
	else
		meson setup "$dir" "${opts[@]}" >/dev/null || die "meson setup $dir"
	fi
	# SANITIZE_KEEP_GOING=1: build what builds and run the tests anyway
	# (for looking around while someone else's target is broken; the run
	# still fails at the end).
	local k=()
	[[ ${SANITIZE_KEEP_GOING:-0} == 1 ]] && k=(-k 0)
	ninja -C "$dir" "${k[@]}" >"$dir/sanitize-build.log" 2>&1 || {
		grep -E '^FAILED:|error:' "$dir/sanitize-build.log" | head -n 20 >&2
		[[ ${SANITIZE_KEEP_GOING:-0} == 1 ]] || die "build of $dir failed"
		log "build of $dir failed; going on (SANITIZE_KEEP_GOING=1), the run will fail"
		build_failed=1
	}
}

# Suites that exist in this build directory, among the wanted ones.
present_suites() {
	local dir=$1
	shift
	local list s
	list=$(meson test -C "$dir" --list 2>/dev/null) || die "meson test --list in $dir"
	for s in "$@"; do
		if grep -q "^twshim:$s / " <<<"$list"; then
			printf '%s\n' "$s"
		fi
	done
}

# run_suites DIR WRAPPER-or-empty SUITE...: meson test with the current
# *SAN_OPTIONS; returns meson's status.
run_suites() {
	local dir=$1 wrapper=$2
	shift 2
	local args=(-C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs"
		--timeout-multiplier "$timeout_mult")
	local s
	for s in "$@"; do
		args+=(--suite "$s")
	done
	[[ -n $wrapper ]] && args+=(--wrapper "$wrapper")
	rm -f -- "$dir"/meson-logs/testlog*.txt
	log "meson test ${args[*]}"
	meson test "${args[@]}"
}

# Reports written through log_path (one file per reporting process) plus
# anything a test printed into its log.
check_reports() {
	local dir=$1 logdir=$2 bad=0 f
	for f in "$logdir"/*; do
		[[ -e $f ]] || continue
		log "sanitizer report in $f:"
		head -n 60 "$f" >&2
		bad=1
	done
	# meson names the log testlog-<wrapper>.txt when a wrapper is used.
	if grep -E -n 'runtime error:|ERROR: (Address|Leak|Thread|UndefinedBehavior)Sanitizer|WARNING: ThreadSanitizer' \
		"$dir"/meson-logs/testlog*.txt >"$logdir.grep" 2>/dev/null; then
		log "sanitizer output in the test logs of $dir:"
		head -n 40 "$logdir.grep" >&2
		bad=1
	fi
	rm -f "$logdir.grep"
	return "$bad"
}

fresh_logdir() {
	rm -rf -- "$1"
	mkdir -p -- "$1"
}

run_asan() {
	local dir=build-asan rc=0
	setup "$dir" address,undefined "-fno-sanitize-recover=undefined -fno-omit-frame-pointer"
	local logdir=$root/$dir/sanitizer-reports
	local rt
	rt=$(gcc -print-file-name=libasan.so)
	[[ -f $rt ]] || die "libasan.so not found (gcc -print-file-name=libasan.so gave '$rt')"
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

	# Unit tests: everything is ours, so leaks count.
	if [[ ${SANITIZE_NO_UNIT:-0} != 1 ]]; then
		fresh_logdir "$logdir"
		export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:log_path=$logdir/asan"
		mapfile -t suites < <(present_suites "$dir" unit)
		((${#suites[@]})) || die "no unit tests in $dir"
		run_suites "$dir" "" "${suites[@]}" || rc=1
		check_reports "$dir" "$logdir" || rc=1
		((rc == 0)) || keep_going_or_die "asan: unit tests"
	fi

	# End-to-end, security and stress.  The runtime is not preloaded into
	# every process (curl deadlocks in setlocale with libasan preloaded):
	# a host that loads the library gets libasan as the library's own
	# dependency, after libc, hence verify_asan_link_order=0.  In such a
	# host UBSan and ASan's stack and global checks work and heap checks are
	# partial (malloc stays libc's); in our own instrumented hosts (stress,
	# security and helper programs) libasan precedes libc and every check
	# works.  Set SANITIZE_ASAN_PRELOAD=1 to preload the runtime into every
	# process anyway.
	fresh_logdir "$logdir"
	export ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=1:log_path=$logdir/asan"
	export TW_SANITIZER_VARIANT=asan
	local wrapper=
	[[ ${SANITIZE_ASAN_PRELOAD:-0} == 1 ]] && wrapper="env LD_PRELOAD=$rt"
	mapfile -t suites < <(present_suites "$dir" e2e stress)
	((${#suites[@]})) || die "no e2e/stress tests in $dir"
	run_suites "$dir" "$wrapper" "${suites[@]}" || rc=1
	check_reports "$dir" "$logdir" || rc=1
	unset TW_SANITIZER_VARIANT
	((rc == 0)) || keep_going_or_die "asan: e2e/stress tests"
	log "asan: clean"
}

run_tsan() {
	local dir=build-tsan rc=0
	setup "$dir" thread "-fno-omit-frame-pointer"
	local logdir=$root/$dir/sanitizer-reports
	fresh_logdir "$logdir"
	export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logdir/tsan"
	export TW_SANITIZER_VARIANT=tsan
	local wanted=(unit stress)
	[[ ${SANITIZE_NO_UNIT:-0} == 1 ]] && wanted=(stress)
	mapfile -t suites < <(present_suites "$dir" "${wanted[@]}")
	((${#suites[@]})) || die "no ${wanted[*]} tests in $dir"
	run_suites "$dir" "" "${suites[@]}" || rc=1
	check_reports "$dir" "$logdir" || rc=1
	unset TW_SANITIZER_VARIANT
	((rc == 0)) || keep_going_or_die "tsan: unit/stress tests"
	log "tsan: clean"
}

build_failed=0
for v in "${variants[@]}"; do
	case $v in
	asan) run_asan ;;
	tsan) run_tsan ;;
	*) die "unknown variant '$v' (asan, tsan)" ;;
	esac
done
((build_failed == 0)) || die "a build failed (see above)"
log "all clean: ${variants[*]}"
