#!/usr/bin/env bash
# tool_deb: the debian/ directory builds a .deb with `dpkg-buildpackage
# -us -uc` from a copy of the source tree (issue 18, item 5), and the
# package works once unpacked into a fresh root.
#
# Contents (dpkg-deb -c): the library in the multiarch directory, the
# command, both man pages (naming the package's library path), the examples
# under /usr/share/doc/twshim/examples, the bash completion.
# Installed: `dpkg -x` into an empty directory.  (A chroot would need a
# Debian base system, which debootstrap cannot fetch offline; `dpkg --root`
# on an empty root has no dpkg database and no libc6 to satisfy Depends.
# The package has no maintainer scripts, so unpacking is all that an
# installation does.)  From there: `twshim doctor /bin/true`, the default
# library path is the package's, the bash completion completes options, and
# the packaged library removes TIME_WAIT (measured with ss) where the same
# probe without it leaves one per connection.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need dpkg-buildpackage dpkg-deb dpkg-architecture dh ss
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH) || fail "dpkg-architecture"
libpath=/usr/lib/$multiarch/libtwshim.so

# A copy of the tree: dpkg-buildpackage writes into the source directory
# and puts the .deb in its parent.
src=$TW_TMP/src/twshim
mkdir -p "$src"
if git -C "$TW_SRC" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$TW_SRC" ls-files -z --cached --others --exclude-standard |
		(cd "$TW_SRC" && xargs -0 cp --parents -t "$src") || fail "copying the tree"
else
	tar -C "$TW_SRC" --exclude='./build*' -cf - . | tar -C "$src" -xf - || fail "copying the tree"
fi
start=$SECONDS
rc=0
(cd "$src" && DEB_BUILD_OPTIONS="noddebs parallel=2" dpkg-buildpackage -us -uc) >"$TW_TMP/build.log" 2>&1 || rc=$?
tw_log "dpkg-buildpackage took $((SECONDS - start)) s"
((rc == 0)) || tail -n 40 "$TW_TMP/build.log" >&2
assert_eq "dpkg-buildpackage -us -uc: status" "$rc" 0
deb=$(find "$TW_TMP/src" -maxdepth 1 -name "twshim_*.deb" | head -n 1)
[[ -f $deb ]] || fail "no .deb built"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in "./usr/lib/$multiarch/libtwshim.so" ./usr/bin/twshim ./usr/share/man/man1/twshim.1.gz \
	./usr/share/man/man7/libtwshim.7.gz ./usr/share/doc/twshim/examples/systemd/twshim-environment.conf \
	./usr/share/doc/twshim/examples/env/probe.env ./usr/share/doc/twshim/examples/kubernetes/probe-pod.yaml \
	./usr/share/bash-completion/completions/twshim ./usr/share/doc/twshim/copyright; do
	assert_eq "package contains $f" "$(grep -cxF "$f" <<<"$contents")" 1
done
assert_match "Depends on libc6" "$(dpkg-deb -f "$deb" Depends)" "libc6"

root=$TW_TMP/root
mkdir -p "$root"
dpkg -x "$deb" "$root" || fail "dpkg -x"
tw=$root/usr/bin/twshim
rc=0
out=$("$tw" doctor /bin/true) || rc=$?
tw_log "doctor: $out"
assert_eq "twshim doctor /bin/true from the package: status" "$rc" 0
assert_match "twshim doctor /bin/true: reachable" "$out" "reachable"
out=$("$tw" --version)
assert_match "packaged twshim --version" "$out" "^twshim [0-9]"
# The packaged command defaults to the packaged library's path.
rc=0
out=$(env -u TWSHIM_LIBRARY "$tw" run --dry-run -- /bin/true 2>&1) || rc=$?
if [[ -f $libpath ]]; then
	assert_match "default library path" "$out" "LD_PRELOAD=$libpath"
else
	assert_match "default library path" "$out" "library $libpath: No such file"
fi
assert_eq "libtwshim(7) names the package's path" \
	"$(zcat "$root/usr/share/man/man7/libtwshim.7.gz" | grep -cF "LD_PRELOAD=$libpath")" 1
assert_eq "the systemd example names the package's path" \
	"$(grep -cF "LD_PRELOAD=$libpath" "$root/usr/share/doc/twshim/examples/systemd/twshim-environment.conf")" 1

# The bash completion completes from the command's own --help.
words=$(
	# shellcheck disable=SC1091
	. "$root/usr/share/bash-completion/completions/twshim"
	COMP_WORDS=("$tw" run --dry)
	COMP_CWORD=2
	_twshim
	printf '%s\n' "${COMPREPLY[@]}"
)
assert_eq "completion of 'twshim run --dry'" "$words" "--dry-run"
words=$(
	# shellcheck disable=SC1091
	. "$root/usr/share/bash-completion/completions/twshim"
	COMP_WORDS=("$tw" st)
	COMP_CWORD=1
	_twshim
	printf '%s\n' "${COMPREPLY[@]}"
)
assert_eq "completion of 'twshim st'" "$words" "stat"

# The packaged library at work.
tw_server_start P -p 7401 -m reply -n 8 -t 60
out=$("$TW_PROBE" -q -n 8 -s hi -r 127.0.0.1 7401)
tw_server_wait P
tw_settle 7401
assert_eq "without the library: TIME_WAIT" "$(tw_tw_count dport = :7401)" 8
tw_server_start Q -p 7402 -m reply -n 8 -t 60
out=$(TWSHIM_LIBRARY=$root$libpath "$tw" run --linger=0 -- "$TW_PROBE" -q -n 8 -s hi -r 127.0.0.1 7402)
tw_server_wait Q
tw_settle 7402
assert_eq "packaged library: connections ok" "$(tw_field "$out" ok)" 8
assert_eq "packaged library: TIME_WAIT" "$(tw_tw_count dport = :7402)" 0

tw_done
