#!/usr/bin/env bash
# The real tools the test suite uses for interop and sandbox tests, from Debian's packages when missing:
# bubblewrap (the build room), faketime (clock variation), disorderfs (directory-order variation), git.
# A tool that cannot be installed fails here, loudly: the tests that need it never skip.
set -euo pipefail
declare -A want=([bwrap]=bubblewrap [faketime]=faketime [disorderfs]=disorderfs [git]=git)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
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
