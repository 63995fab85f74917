#!/usr/bin/env bash
# Build twshim with its tests and run every suite, then static analysis,
# fuzzing and the sanitizer builds; the exit status is the result.  Used by
# .ci/run.
#
# Nothing is skipped: a missing dependency, no permission to create network
# namespaces, or a test that reports "skipped" makes the run fail.
#
#   scripts/test.sh [extra meson test args...]
#   TWSHIM_BUILD_DIR=dir scripts/test.sh      (default: build)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${TWSHIM_BUILD_DIR:-build}

bash scripts/deps.sh

# The end-to-end tests run inside private network namespaces; say so up
# front rather than in every test log.
if ! unshare -n true 2>/dev/null; then
	echo "test.sh: cannot create a network namespace (unshare -n): run as root or with CAP_SYS_ADMIN" >&2
	exit 1
fi

if [[ -f $build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure "$build" -Dtests=enabled
else
	meson setup "$build" -Dtests=enabled
fi
ninja -C "$build"

rc=0
meson test -C "$build" --print-errorlogs "$@" || rc=$?

# Check's own summary lines ("100%: Checks: N, Failures: N, Errors: N"),
# from the unit tests' output kept in the log.
echo
echo "== Check summaries =="
grep -E '^[0-9]+%: Checks: [0-9]+' "$build/meson-logs/testlog.txt" || {
	echo "test.sh: no Check summary found in $build/meson-logs/testlog.txt" >&2
	rc=1
}

# One closing line, counted from meson's JSON log.
read -r passed failed skipped < <(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
with open(sys.argv[1]) as fh:
    for line in fh:
        line = line.strip()
        if not line:
            continue
        r = json.loads(line).get("result", "")
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
print(p, f, s)
PY
)
# Beyond meson's suites: static analysis, fuzzing and the sanitizer builds.
# Each stage counts as one test in the closing line.  TWSHIM_QUICK=1 leaves
# them out (a developer's fast loop; CI always runs them).
stages=(static-analysis fuzz sanitize)
if [[ ${TWSHIM_QUICK:-0} == 1 ]]; then
	echo "test.sh: TWSHIM_QUICK=1: static analysis, fuzzing and sanitizers not run" >&2
	stages=()
fi
for stage in "${stages[@]}"; do
	echo
	echo "== $stage =="
	args=()
	[[ $stage == fuzz ]] && args=("${TWSHIM_FUZZ_SECONDS:-60}")
	start=$SECONDS
	if bash "scripts/$stage.sh" "${args[@]}"; then
		echo "test.sh: $stage: passed ($((SECONDS - start)) s)"
		passed=$((passed + 1))
	else
		echo "test.sh: $stage: FAILED ($((SECONDS - start)) s)" >&2
		failed=$((failed + 1))
	fi
done

if ((passed + failed + skipped == 0)); then
	echo "test.sh: no test ran" >&2
	rc=1
fi
if ((skipped > 0)); then
	echo "test.sh: $skipped test(s) skipped; every test must run here" >&2
	rc=1
fi
((failed == 0)) || rc=1
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$rc"
