#!/usr/bin/env bash
# Run the test suites N times in a row and count failures per test: the
# proof that the suite is green every time, not once.
#
#   scripts/soak.sh N [--load K] [--e2e-only] [--asan] [--tsan] [--fresh]
#
#   (default)   the full scripts/test.sh, N times (unit, e2e, stress,
#               static analysis, fuzzing, ASan and TSan builds)
#   --e2e-only  only the e2e and stress suites of the normal build
#   --asan      with --e2e-only: also the e2e and stress suites of the ASan
#               build (scripts/sanitize.sh asan without its unit tests)
#   --tsan      with --e2e-only: also the stress suite of the TSan build
#   --load K    K busy CPU loops run beside the suites the whole time
#   --fresh     every run in a fresh `git clone` of HEAD (committed work
#               only; builds from scratch each time)
#
# Prints one line per run, then the failure count of every test that
# failed at least once (as VARIANT:SUITE/TEST, e.g. asan:e2e/reuse_reuseport)
# and a closing line "soak: N runs: P passed, F failed".  The output of a
# failed run, with the meson logs of its build directories, is kept under
# soak-logs/DATE/run-I/ (SOAK_LOG_DIR to change); passed runs leave none.
# Exit status 0 only when every run passed.
#
# The lead's proof runs:  scripts/soak.sh 10             (in a fresh clone)
#                         scripts/soak.sh 30 --load 2 --e2e-only --asan
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

usage() {
	echo "usage: scripts/soak.sh N [--load K] [--e2e-only] [--asan] [--tsan] [--fresh]" >&2
	exit 2
}

n=${1:-}
[[ $n =~ ^[1-9][0-9]*$ ]] || usage
shift
load=0 e2e_only=0 asan=0 tsan=0 fresh=0
while (($#)); do
	case $1 in
	--load)
		[[ ${2:-} =~ ^[0-9]+$ ]] || usage
		load=$2
		shift
		;;
	--e2e-only) e2e_only=1 ;;
	--asan) asan=1 ;;
	--tsan) tsan=1 ;;
	--fresh) fresh=1 ;;
	*) usage ;;
	esac
	shift
done
if ((e2e_only == 0 && (asan || tsan))); then
	echo "soak: --asan/--tsan select sanitizer builds for --e2e-only; the full run has them already" >&2
	usage
fi

logs=${SOAK_LOG_DIR:-$root/soak-logs}/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$logs" || exit 1
say() { printf 'soak: %s\n' "$*"; }

# --- the CPU load -------------------------------------------------------------
loaders=()
stop_load() {
	local p
	for p in "${loaders[@]}"; do
		kill "$p" 2>/dev/null
	done
	loaders=()
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT TERM
for ((i = 0; i < load; i++)); do
	bash -c 'while :; do :; done' &
	loaders+=($!)
done

# --- one run --------------------------------------------------------------------

# The failed tests of one run's output, one per line, VARIANT:SUITE/TEST.
# The variant follows the build directory meson ran in: test.sh's own run is
# "build", sanitize.sh announces "sanitize: meson test -C build-asan ...".
failed_tests() {
	python3 - "$1" <<'PY'
import re, sys
variant = {"build": "normal", "build-asan": "asan", "build-tsan": "tsan"}
cur = "normal"
failed = []
result = re.compile(r"^\s*\d+/\d+\s+(\S+?)\s+/\s+(\S+)\s+(OK|FAIL|TIMEOUT|SKIP|ERROR|UNEXPECTEDPASS|EXPECTEDFAIL)\b")
with open(sys.argv[1], errors="replace") as fh:
    for line in fh:
        m = re.search(r"^(?:soak|sanitize): meson test -C (\S+)", line)
        if m:
            cur = variant.get(m.group(1).rstrip("/").split("/")[-1], m.group(1))
            continue
        m = re.match(r"^test\.sh: (\S+): FAILED", line)
        if m:
            failed.append("stage:" + m.group(1))
            continue
        m = re.match(r"^sanitize: sanitizer (report in|output in the test logs)", line)
        if m:
            failed.append(cur + ":sanitizer-report")
            continue
        m = re.match(r"^sanitize: FAIL: build of (\S+) failed", line)
        if m:
            failed.append(cur + ":build")
            continue
        m = result.match(line)
        if m and m.group(3) not in ("OK", "EXPECTEDFAIL"):
            suite = m.group(1).split(":", 1)[-1].split("+")[0]
            failed.append(f"{cur}:{suite}/{m.group(2)}")
seen = set()
for f in failed:
    if f not in seen:
        seen.add(f)
        print(f)
PY
}

# run_e2e DIR: the e2e and stress suites of the normal build.
run_e2e() {
	echo "soak: meson test -C build --suite e2e --suite stress"
	meson test -C build --no-rebuild --print-errorlogs --suite e2e --suite stress
}

# one_run WORKDIR: the selected suites once, in WORKDIR; output on stdout.
one_run() {
	local dir=$1 rc=0
	cd "$dir" || return 1
	if ((e2e_only == 0)); then
		bash scripts/test.sh || rc=1
	else
		run_e2e || rc=1
		if ((asan)); then
			SANITIZE_NO_UNIT=1 bash scripts/sanitize.sh asan || rc=1
		fi
		if ((tsan)); then
			SANITIZE_NO_UNIT=1 bash scripts/sanitize.sh tsan || rc=1
		fi
	fi
	return "$rc"
}

# Builds for --e2e-only, once (the sanitizer builds are kept up to date by
# sanitize.sh itself).
prepare() {
	local dir=$1
	(
		cd "$dir" || exit 1
		bash scripts/deps.sh || exit 1
		if [[ -f build/meson-private/coredata.dat ]]; then
			meson setup --reconfigure build -Dtests=enabled
		else
			meson setup build -Dtests=enabled
		fi || exit 1
		ninja -C build
	)
}

what="full scripts/test.sh"
((e2e_only)) && what="e2e+stress (normal$( ((asan)) && echo ", asan")$( ((tsan)) && echo ", tsan"))"
say "$n runs of $what, $load busy CPU loops beside, $(nproc) CPUs; logs of failed runs: $logs"

head=$(git rev-parse HEAD 2>/dev/null || echo unknown)
say "commit $head$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"

if ((e2e_only && !fresh)); then
	prepare "$root" >"$logs/prepare.log" 2>&1 || {
		say "FAIL: building for the e2e runs failed; see $logs/prepare.log"
		tail -n 30 "$logs/prepare.log"
		exit 1
	}
	rm -f "$logs/prepare.log"
fi

declare -A count=()
passed=0 failed=0
start_all=$SECONDS
for ((run = 1; run <= n; run++)); do
	out=$logs/run-$run.log
	work=$root
	if ((fresh)); then
		work=$(mktemp -d "${TMPDIR:-/tmp}/twshim-soak.XXXXXX") || exit 1
		# Left 0700 on purpose: CI's clone may sit in a private directory,
		# and the tests that run programs as nobody must cope (tw_public).
		git clone -q "$root" "$work/twshim" || exit 1
		git -C "$work/twshim" checkout -q "$head" || exit 1
		work=$work/twshim
		if ((e2e_only)); then
			prepare "$work" >"$out" 2>&1 || say "run $run: build failed"
		fi
	fi
	t0=$SECONDS
	rc=0
	(one_run "$work") >>"$out" 2>&1 || rc=$?
	mapfile -t bad < <(failed_tests "$out")
	if ((rc != 0 && ${#bad[@]} == 0)); then
		bad=("(no failing test named; see the log)")
	fi
	if ((rc == 0 && ${#bad[@]} == 0)); then
		passed=$((passed + 1))
		say "run $run/$n: passed ($((SECONDS - t0)) s)"
		rm -f "$out"
	else
		failed=$((failed + 1))
		say "run $run/$n: FAILED ($((SECONDS - t0)) s): ${bad[*]}"
		for t in "${bad[@]}"; do
			count[$t]=$((${count[$t]:-0} + 1))
		done
		mkdir -p "$logs/run-$run"
		mv "$out" "$logs/run-$run/output.log"
		for b in build build-asan build-tsan; do
			[[ -d $work/$b/meson-logs ]] && cp -r "$work/$b/meson-logs" "$logs/run-$run/$b-meson-logs"
		done
	fi
	if ((fresh)); then
		rm -rf -- "$(dirname "$work")"
	fi
done

echo
if ((${#count[@]})); then
	say "failures per test (runs in which it failed, of $n):"
	for t in "${!count[@]}"; do
		printf '%6d  %s\n' "${count[$t]}" "$t"
	done | sort -k1,1nr -k2
else
	say "no test failed in any run"
fi
rmdir "$logs" 2>/dev/null
say "$n runs of $what with --load $load in $((SECONDS - start_all)) s: $passed passed, $failed failed"
((failed == 0))
