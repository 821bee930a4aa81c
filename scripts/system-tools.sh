#!/usr/bin/env bash
# The real tools the test suite uses for interop and sandbox tests, from Debian's packages when missing:
# bubblewrap (the build room), faketime (clock variation), disorderfs (directory-order variation), git,
# chromium (the report page is opened, screenshotted and printed in a real browser: test/report/).
# A tool that cannot be installed fails here, loudly: the tests that need it never skip.
set -euo pipefail
declare -A want=([bwrap]=bubblewrap [faketime]=faketime [disorderfs]=disorderfs [git]=git [chromium]=chromium)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
# Ubuntu 24.04 (GitHub-hosted runners) restricts unprivileged user namespaces through AppArmor: bwrap and
# unshare cannot make the build room there, and the room tests fail. In CI (a throwaway machine) the
# restriction is lifted; elsewhere this says how, and fails.
if [ "$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns 2>/dev/null)" = 1 ]; then
  if [ -z "${CI:-}" ]; then
    echo "detbuild setup: unprivileged user namespaces are restricted (AppArmor); the build room tests need them:" >&2
    echo "  sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0   (or an AppArmor profile for bwrap, see docs/build.md)" >&2
    exit 1
  fi
  echo "detbuild setup: allowing unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=0) for the build room" >&2
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
  "${as_root[@]}" sysctl -qw kernel.apparmor_restrict_unprivileged_userns=0 ||
    { echo "detbuild setup: cannot allow user namespaces; the build room tests need them" >&2; exit 1; }
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "detbuild setup: installing ${missing[*]} from Debian's packages" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
  { "${sudo[@]}" apt-get update -qq >/dev/null && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
  { echo "detbuild setup: cannot install ${missing[*]} (apt-get failed); the tests need them" >&2; exit 1; }
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "detbuild setup: $cmd is still missing after installing ${want[$cmd]}" >&2; exit 1; }
done
