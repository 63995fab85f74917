#!/usr/bin/env bash
# twshim — static analysis and memcheck, each of which must come out clean.
#
#   scripts/static-analysis.sh [cppcheck] [clang-tidy] [valgrind]   (default: all)
#
# cppcheck    warning, performance and portability checks on lib/, tools/
#             and the hardening code (fuzz/, tests/e2e/stress, security);
#             suppressions only inline (--inline-suppr), each with a reason.
# clang-tidy  the checked-in .clang-tidy, with compile_commands.json from
#             the plain build in build-hard (so every flag and define is the
#             real one); every finding is an error.
# valgrind    memcheck over the Check unit test binaries with CK_FORK=no
#             (one process, so leaks and errors in any test are seen).
#
# Exit 0 only when every selected tool ran and reported nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=${STATIC_BUILD_DIR:-build-hard}
jobs=${STATIC_JOBS:-$(nproc)}

tools=("$@")
((${#tools[@]})) || tools=(cppcheck clang-tidy valgrind)

log() { printf 'static-analysis: %s\n' "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}
need() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found (scripts/deps.sh installs it)"
}

# The C sources analysed: the product plus the hardening code.  Unit tests
# are left out: Check's macros expand into code that trips bug-pattern
# checks without telling anything about twshim.
src_dirs=(lib tools fuzz tests/e2e/stress tests/e2e/security)

existing_dirs() {
	local d
	for d in "${src_dirs[@]}"; do
		[[ -d $d ]] && printf '%s\n' "$d"
	done
}

# configure: enough for compile_commands.json (cppcheck, clang-tidy).
configure() {
	need meson
	need ninja
	if [[ -f $dir/build.ninja ]]; then
		meson setup --reconfigure "$dir" -Dtests=enabled >/dev/null || die "meson setup --reconfigure $dir"
	else
		meson setup "$dir" -Dtests=enabled >/dev/null || die "meson setup $dir"
	fi
}

# build: everything, for the unit test binaries (valgrind).
build() {
	ninja -C "$dir" >"$dir/static-build.log" 2>&1 || {
		tail -n 40 "$dir/static-build.log" >&2
		die "build of $dir failed"
	}
}

run_cppcheck() {
	need cppcheck
	local dirs
	mapfile -t dirs < <(existing_dirs)
	log "cppcheck on ${dirs[*]}"
	# No --library=posix: its mmap() rule rejects fd -1, which MAP_ANONYMOUS
	# requires on Linux.  -D_GNU_SOURCE as in meson.build.
	cppcheck --enable=warning,performance,portability --error-exitcode=1 \
		--inline-suppr --quiet --std=c11 \
		-D_GNU_SOURCE -Iinclude -Ilib/core -Ilib/runtime -Ilib/hooks -Itools -Itools/kernel -Itools/supervise -j "$jobs" \
		"${dirs[@]}" || die "cppcheck reported findings (above)"
	log "cppcheck: clean"
}

run_clang_tidy() {
	need clang-tidy
	need python3
	[[ -f $dir/compile_commands.json ]] || die "$dir/compile_commands.json missing"
	local files
	# Only files the build compiles: a file missing from the database
	# would be analysed with guessed flags.
	mapfile -t files < <(python3 - "$dir/compile_commands.json" "$root" "${src_dirs[@]}" <<'EOF'
import json, os, sys
db, root, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
seen = set()
for e in json.load(open(db)):
    path = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(path, root)
    if rel.endswith(".c") and any(rel.startswith(d + "/") for d in dirs) and rel not in seen:
        seen.add(rel)
        print(rel)
EOF
	)
	((${#files[@]})) || die "no sources found in $dir/compile_commands.json"
	log "clang-tidy on ${#files[@]} files"
	local out=$dir/clang-tidy.log
	# One process per file, $jobs at a time; clang-tidy exits non-zero on
	# any finding (WarningsAsErrors: '*').
	if ! printf '%s\n' "${files[@]}" |
		xargs -P "$jobs" -n 1 clang-tidy -p "$dir" --quiet >"$out" 2>&1; then
		grep -E -A4 'error:|warning:' "$out" >&2 || cat "$out" >&2
		die "clang-tidy reported findings (full log: $out)"
	fi
	log "clang-tidy: clean"
}

run_valgrind() {
	need valgrind
	build
	local list
	list=$(meson test -C "$dir" --list 2>/dev/null) || die "meson test --list in $dir"
	grep -q '^twshim:unit / ' <<<"$list" || die "no unit tests in $dir (is check installed?)"
	log "valgrind memcheck on the unit tests (CK_FORK=no)"
	# --errors-for-leak-kinds: definite and indirect leaks fail; memory
	# still reachable at exit (the policy of a process) does not.
	CK_FORK=no meson test -C "$dir" --no-rebuild --suite unit --print-errorlogs \
		--timeout-multiplier 10 \
		--wrapper "valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --track-origins=yes" ||
		die "unit tests under valgrind failed (see $dir/meson-logs/testlog.txt)"
	log "valgrind: clean"
}

configure
for t in "${tools[@]}"; do
	case $t in
	cppcheck) run_cppcheck ;;
	clang-tidy) run_clang_tidy ;;
	valgrind) run_valgrind ;;
	*) die "unknown tool '$t' (cppcheck, clang-tidy, valgrind)" ;;
	esac
done
log "all clean: ${tools[*]}"
