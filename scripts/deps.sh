#!/usr/bin/env bash
# Install what twshim's build and tests need on Debian 12, or with "demo"
# only what scripts/demo.sh needs (build tools, unshare, ip, ss, sysctl).
#
#   scripts/deps.sh [demo|test]     (default: test, the full set)
#
# As root: installs the missing packages (apt-get update only when something
# is missing).  Not root: lists what is missing and exits 1.  Idempotent and
# quick when everything is there (one dpkg-query per package, no network).
set -euo pipefail

set_name=${1:-test}
demo_packages=(
	meson ninja-build gcc libc6-dev pkg-config # build
	util-linux iproute2 procps                 # unshare, ip/ss, sysctl
)
packages=(
	meson ninja-build gcc libc6-dev pkg-config # build
	check                                      # unit tests (Check)
	util-linux iproute2 procps                 # unshare, ip/ss, sysctl
	curl wget python3                          # clients in the e2e tests
	binutils file                              # nm, readelf; file type checks
	golang-go                                  # Go target in the supervisor tests
	valgrind                                   # memory checks
	shellcheck                                 # lint of the scripts
	clang libclang-rt-14-dev                   # fuzzing (libFuzzer), sanitizer runtimes
	clang-tidy cppcheck                        # static analysis
	strace                                     # security tests (open flags)
	groff-base man-db                          # man page render checks
	systemd                                    # systemd-analyze verify of the examples
	libcap2-bin                                # setcap: file-capability refusal test
	debhelper dpkg-dev                         # the .deb (dpkg-buildpackage, tool_deb)
	python3-yaml                               # YAML parse of the Kubernetes examples
)

case $set_name in
demo) packages=("${demo_packages[@]}") ;;
test) ;;
*)
	echo "usage: scripts/deps.sh [demo|test]" >&2
	exit 2
	;;
esac

command -v dpkg-query >/dev/null 2>&1 || {
	echo "deps.sh: dpkg-query not found: this script supports Debian 12 only." >&2
	echo "deps.sh: needed: ${packages[*]}" >&2
	exit 1
}

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps.sh: all ${#packages[@]} packages of the $set_name set present"
	exit 0
fi

if ((EUID != 0)); then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

echo "deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
