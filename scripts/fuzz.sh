#!/usr/bin/env bash
# twshim — build the libFuzzer targets with clang and run each for a while.
#
#   scripts/fuzz.sh [SECONDS]     (default 60: the total, split over targets)
#
# Builds build-fuzz (CC=clang, -Dfuzz=true), replays the seed corpus and
# fuzz/regressions once (meson suite 'fuzz'), then fuzzes each target with
# ASan+UBSan and leak detection, starting from a scratch copy of its seed
# corpus (fuzz/corpus/<target> is never modified).  Any crash, leak, timeout
# or sanitizer report fails the run; the input that caused it is copied to
# fuzz/regressions/<target>/ so that it becomes a regression test (replayed
# by the 'fuzz' suite and by the badinput unit test in every build):
# fix the bug, keep the file.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
total=${1:-60}
if ! [[ $total =~ ^[0-9]+$ ]] || ((total < 2)); then
	echo "usage: scripts/fuzz.sh [SECONDS>=2]" >&2
	exit 2
fi
dir=${FUZZ_BUILD_DIR:-build-fuzz}
targets=(env rules)

log() { printf 'fuzz: %s\n' "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}
command -v clang >/dev/null || die "clang not found (scripts/deps.sh)"

if [[ -f $dir/build.ninja ]]; then
	meson setup --reconfigure "$dir" -Dfuzz=true >/dev/null || die "meson setup --reconfigure $dir"
else
	CC=clang meson setup "$dir" -Dfuzz=true >/dev/null || die "meson setup $dir"
fi
grep -q "^C compiler for the host machine: clang" "$dir/meson-logs/meson-log.txt" ||
	die "$dir is not a clang build directory: remove it and rerun"
ninja -C "$dir" "${targets[@]/#/fuzz/fuzz-}" >"$dir/fuzz-build.log" 2>&1 || {
	tail -n 40 "$dir/fuzz-build.log" >&2
	die "build of the fuzz targets failed"
}

log "replaying seed corpus and regressions"
meson test -C "$dir" --no-rebuild --suite fuzz --print-errorlogs || die "a corpus or regression input fails"

per=$((total / ${#targets[@]}))
((per >= 1)) || per=1
rc=0
for t in "${targets[@]}"; do
	work=$dir/fuzz-work/$t
	art=$dir/fuzz-artifacts/$t
	rm -rf -- "$work" "$art"
	mkdir -p -- "$work" "$art"
	cp -- fuzz/corpus/"$t"/* "$work"/
	log "fuzzing $t for ${per}s"
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a leak or
	# blow-up; -max_len covers 100 KB-class values only partly, which the
	# badinput test covers directly.
	if ! ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$dir/fuzz/fuzz-$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$art/" "$work" \
		>"$dir/fuzz-$t.log" 2>&1; then
		rc=1
		tail -n 60 "$dir/fuzz-$t.log" >&2
		mkdir -p fuzz/regressions/"$t"
		for f in "$art"/*; do
			[[ -f $f ]] || continue
			cp -- "$f" fuzz/regressions/"$t"/
			log "$t: kept $(basename "$f") in fuzz/regressions/$t/ (a regression test from now on)"
		done
		log "$t: FAILED (log: $dir/fuzz-$t.log)"
	else
		log "$t: clean: $(grep -E '^stat::number_of_executed_units' "$dir/fuzz-$t.log" | awk '{print $2}') runs, corpus $(find "$work" -type f | wc -l) inputs"
	fi
done
((rc == 0)) || die "fuzzing found problems"
log "all targets clean"
