#!/usr/bin/env bash
# tool_examples: the deployment examples work as shipped.
#   - examples/env/*.env pass `twshim check` (status 0);
#   - examples/systemd/probe.service with each drop-in passes
#     `systemd-analyze verify` with no message (the binaries' install paths
#     are pointed at the built ones, since verify checks they exist);
#   - the Kubernetes snippet's TWSHIM_* values pass `twshim check`;
#   - each example directory has a README.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need systemd-analyze python3
EX=$TW_SRC/examples

for d in systemd env kubernetes; do
	assert_eq "examples/$d/README.md exists" "$([[ -s $EX/$d/README.md ]] && echo yes)" yes
done

shopt -s nullglob
for f in "$EX"/env/*.env; do
	rc=0
	"$TW_TOOL" check -q "$f" || rc=$?
	assert_eq "twshim check $(basename "$f")" "$rc" 0
done

# systemd: the unit alone and with each drop-in.
for dropin in none twshim-environment.conf twshim-run.conf; do
	dir=$TW_TMP/units.$dropin
	mkdir -p "$dir/probe.service.d"
	sed -e "s|/usr/local/bin/probe|$TW_PROBE|g" "$EX/systemd/probe.service" >"$dir/probe.service"
	if [[ $dropin != none ]]; then
		sed -e "s|/usr/local/bin/probe|$TW_PROBE|g" -e "s|/usr/local/bin/twshim|$TW_TOOL|g" \
			"$EX/systemd/$dropin" >"$dir/probe.service.d/twshim.conf"
	fi
	rc=0
	msg=$(systemd-analyze verify "$dir/probe.service" 2>&1) || rc=$?
	tw_log "verify $dropin: ${msg:-no message}"
	assert_eq "systemd-analyze verify with $dropin: status" "$rc" 0
	assert_eq "systemd-analyze verify with $dropin: messages" "$msg" ""
done

# The twshim run drop-in's command line is a valid `twshim run` invocation
# (everything up to "--", with the command replaced by true).
line=$(sed -n 's/^ExecStart=.*twshim run \(.*\) -- .*/\1/p' "$EX/systemd/twshim-run.conf")
[[ -n $line ]] || fail "no twshim run line in twshim-run.conf"
rc=0
# shellcheck disable=SC2086 # the options are words
TWSHIM_LIBRARY=$TW_LIB "$TW_TOOL" run $line -- true || rc=$?
assert_eq "twshim-run.conf options accepted by twshim run" "$rc" 0

# Same for the Environment= drop-in's variables.
vars=$(sed -n 's/^Environment=\(TWSHIM_.*\)/\1/p' "$EX/systemd/twshim-environment.conf")
rc=0
# shellcheck disable=SC2086
env -i $vars "$TW_TOOL" check -q || rc=$?
assert_eq "twshim-environment.conf variables pass twshim check" "$rc" 0

# Kubernetes: the env list's TWSHIM_* name/value pairs.
python3 - "$EX/kubernetes/probe-pod.yaml" >"$TW_TMP/k8s.env" <<'PY' || fail "cannot read the pod snippet"
import re, sys
text = open(sys.argv[1]).read()
for name, value in re.findall(r'- name: (TWSHIM_\w+)\s*\n\s*value: "?([^"\n]*)"?', text):
    print(f"{name}={value}")
PY
assert_ge "TWSHIM_ variables in the pod snippet" "$(wc -l <"$TW_TMP/k8s.env")" 2
rc=0
"$TW_TOOL" check -q "$TW_TMP/k8s.env" || rc=$?
assert_eq "pod snippet variables pass twshim check" "$rc" 0

tw_done
