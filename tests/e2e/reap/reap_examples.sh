#!/usr/bin/env bash
# reap_examples: the reaper's deployment examples work as shipped.
#   examples/systemd/twshim-reap.service: `systemd-analyze verify` with no
#     message (ExecStart pointed at the built command, since verify checks
#     it exists); only CAP_NET_ADMIN (ambient and bounding), NoNewPrivileges,
#     ProtectSystem=strict, a dynamic or dedicated user; its command line
#     is a valid `twshim reap` invocation (one pass, exit 0);
#   examples/kubernetes/twshim-reap-daemonset.yaml: parsed with a YAML
#     parser: a DaemonSet, hostNetwork, capabilities exactly NET_ADMIN added
#     and ALL dropped, not privileged; its arguments are a valid reaper.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reap/lib_reap.sh
. "$(dirname "$0")/lib_reap.sh"
tw_need systemd-analyze python3
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml missing (run scripts/deps.sh)"
EX=${TWREAP_SRCDIR:?}/examples
UNIT=$EX/systemd/twshim-reap.service
YAML=$EX/kubernetes/twshim-reap-daemonset.yaml

# --- systemd ---------------------------------------------------------------
mkdir -p "$TW_TMP/units"
sed -e "s|/usr/local/bin/twshim|$RP_TOOL|g" "$UNIT" >"$TW_TMP/units/twshim-reap.service"
rc=0
# --man=no: the man page is not installed where verify looks
msg=$(systemd-analyze verify --man=no "$TW_TMP/units/twshim-reap.service" 2>&1) || rc=$?
tw_log "verify: ${msg:-no message}"
assert_eq "systemd-analyze verify: status" "$rc" 0
assert_eq "systemd-analyze verify: messages" "$msg" ""

key() { sed -n "s/^$1=//p" "$UNIT"; }
assert_eq "AmbientCapabilities" "$(key AmbientCapabilities)" CAP_NET_ADMIN
assert_eq "CapabilityBoundingSet" "$(key CapabilityBoundingSet)" CAP_NET_ADMIN
assert_eq "NoNewPrivileges" "$(key NoNewPrivileges)" yes
assert_eq "ProtectSystem" "$(key ProtectSystem)" strict
assert_match "a dynamic or dedicated user" "$(key DynamicUser)$(key User)" '^(yes|[a-z_][a-z0-9_-]*)$'
assert_eq "no private network (it must see the host's sockets)" "$(key PrivateNetwork)" ""

# its command line is accepted and runs a pass here (--once)
read -r -a cmd <<<"$(key ExecStart)"
[[ ${cmd[0]} == /usr/local/bin/twshim && ${cmd[1]} == reap ]] || fail "ExecStart is not twshim reap: ${cmd[*]}"
err=$("$RP_TOOL" "${cmd[@]:1}" --once 2>&1)
rc=$?
assert_eq "unit's command line --once: exit status" "$rc" 0
assert_match "unit's command line --once: totals" "$err" '^twshim: reap: totals: passes=1 '

# --- Kubernetes ----------------------------------------------------------------
out=$(python3 - "$YAML" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
print("daemonsets=%d" % len(ds))
spec = ds[0]["spec"]["template"]["spec"]
c = spec["containers"][0]
sc = c.get("securityContext", {})
caps = sc.get("capabilities", {})
print("hostNetwork=%s" % spec.get("hostNetwork"))
print("add=%s" % ",".join(caps.get("add", [])))
print("drop=%s" % ",".join(caps.get("drop", [])))
print("privileged=%s" % sc.get("privileged", False))
print("escalation=%s" % sc.get("allowPrivilegeEscalation", True))
print("volumes=%d" % len(spec.get("volumes", [])))
print("args=%s" % "\x1f".join(c.get("args", [])))
PY
) || fail "YAML parse of $YAML failed"
tw_log "daemonset: $(tr '\n\037' '  ' <<<"$out")"
val() { sed -n "s/^$1=//p" <<<"$out"; }
assert_eq "one DaemonSet" "$(val daemonsets)" 1
assert_eq "hostNetwork" "$(val hostNetwork)" True
assert_eq "capabilities added" "$(val add)" NET_ADMIN
assert_eq "capabilities dropped" "$(val drop)" ALL
assert_eq "privileged" "$(val privileged)" False
assert_eq "allowPrivilegeEscalation" "$(val escalation)" False
assert_eq "host volumes" "$(val volumes)" 0
IFS=$'\037' read -r -a args <<<"$(val args)"
assert_eq "container runs twshim reap" "${args[0]}" reap
err=$("$RP_TOOL" "${args[@]}" --once 2>&1)
rc=$?
assert_eq "DaemonSet's arguments --once: exit status" "$rc" 0
assert_match "DaemonSet's arguments --once: totals" "$err" '^twshim: reap: totals: passes=1 '

tw_done
