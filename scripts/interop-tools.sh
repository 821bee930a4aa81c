#!/usr/bin/env bash
# The independent sigstore verifiers the interop tests run (test/interop/): cosign and sigstore-go's
# verifier CLI, from Debian's own packages, without touching the machine's apt configuration:
#  - apt-get reads a PRIVATE sources list (Dir::Etc::sourcelist, sourceparts=-) with its own state and cache
#    folders under .tools/debs/apt/; the machine's /etc/apt and /var/lib/apt are neither read nor written;
#  - apt checks the suite's signed InRelease against the Debian archive keyring (signed-by) and the .deb
#    against the signed Packages index; this script then checks each .deb against the sha256 pinned below
#    and refuses anything else;
#  - `dpkg -x` unpacks each package into .tools/interop/<package>/ (git-ignored; nothing is installed).
# Nothing is skipped: a missing tool, a changed package or an unreachable mirror fails here, loudly.
# A re-run with the same pins and an intact unpack does nothing (the stamp holds the pinned sha256).
#
# Updating a pin (sid moves on and deb.debian.org drops the old version): run
#   ./scripts/interop-tools.sh --show    which prints the candidates' versions and sha256 from the signed index,
# put the new version and sha256 below, then run the interop tests (node --test test/interop/*.test.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MIRROR=http://deb.debian.org/debian
SUITE=sid
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ARCH=amd64
# package  version  sha256 of the .deb (amd64)
PINS=(
  "cosign 3.1.1-2 d8622ebffce1d69197288fc030ff06a4c247af5507107f85c5a878870b686b23"
  "sigstore-go 1.3.0-1 9a316dbb069b370ffd47c1a0cd0b07b42d45575f1f623c0301ebdad4bb19d83d"
)
# the binary each package must provide (checked after unpacking)
declare -A BINARY=([cosign]=usr/bin/cosign [sigstore-go]=usr/bin/sigstore-go-verification)

TOOLS="$PWD/.tools"
DEBS="$TOOLS/debs"
OUT="$TOOLS/interop"
fail() { echo "detbuild interop-tools: $*" >&2; exit 1; }

command -v apt-get >/dev/null && command -v dpkg >/dev/null && command -v sha256sum >/dev/null ||
  fail "apt-get, dpkg and sha256sum are needed (a Debian or Ubuntu machine)"
arch="$(dpkg --print-architecture)"
[ "$arch" = "$ARCH" ] || fail "the pins are for $ARCH .debs; this machine is $arch (add pins for it)"

up_to_date() { # package sha256
  [ -f "$OUT/$1/.sha256" ] && [ "$(cat "$OUT/$1/.sha256")" = "$2" ] && [ -x "$OUT/$1/${BINARY[$1]}" ]
}
if [ "${1:-}" != --show ]; then
  all=1
  for pin in "${PINS[@]}"; do
    read -r name _ sha <<<"$pin"
    up_to_date "$name" "$sha" || all=0
  done
  [ "$all" = 1 ] && exit 0
fi

if [ ! -f "$KEYRING" ]; then
  # Ubuntu (GitHub-hosted runners) packages Debian's archive keyring too; only CI installs it unasked
  [ -n "${CI:-}" ] || fail "$KEYRING is missing: install the package debian-archive-keyring (it verifies Debian's signed index)"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
  echo "detbuild interop-tools: installing debian-archive-keyring" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get install -y --no-install-recommends debian-archive-keyring >/dev/null 2>&1 ||
    { "${as_root[@]}" apt-get update -qq >/dev/null &&
      "${as_root[@]}" apt-get install -y --no-install-recommends debian-archive-keyring >/dev/null; } ||
    fail "cannot install debian-archive-keyring"
  [ -f "$KEYRING" ] || fail "debian-archive-keyring is installed but $KEYRING is missing"
fi

apt_dir="$DEBS/apt"
mkdir -p "$apt_dir/empty" "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$DEBS" "$OUT"
echo "deb [arch=$ARCH signed-by=$KEYRING] $MIRROR $SUITE main" >"$apt_dir/sources.list"
: >"$apt_dir/status"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::Etc::preferences=/dev/null" -o "Dir::Etc::preferencesparts=$apt_dir/empty"
  -o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=$ARCH" -o "APT::Architectures=$ARCH" -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)" -o "Acquire::Retries=3"
)
echo "detbuild interop-tools: reading Debian $SUITE's signed package index from $MIRROR" >&2
# a fresh index every time, and any failure (a bad or missing signature included) is an error: plain
# `apt-get update` only warns and keeps using the old index
rm -rf "$apt_dir/state/lists" && mkdir -p "$apt_dir/state/lists/partial"
apt-get "${apt_opts[@]}" -qq --error-on=any update >&2 || fail "apt-get update against $MIRROR $SUITE failed (network, or a bad signature)"

if [ "${1:-}" = --show ]; then
  for pin in "${PINS[@]}"; do
    read -r name _ <<<"$pin"
    apt-cache "${apt_opts[@]}" show "$name" | grep -E '^(Package|Version|SHA256):'
  done
  exit 0
fi

for pin in "${PINS[@]}"; do
  read -r name version sha <<<"$pin"
  up_to_date "$name" "$sha" && continue
  deb="$DEBS/${name}_${version}_$ARCH.deb"
  if [ ! -f "$deb" ] || [ "$(sha256sum "$deb" | cut -d' ' -f1)" != "$sha" ]; then
    rm -f "$deb"
    echo "detbuild interop-tools: downloading $name $version" >&2
    dl="$DEBS/.download"
    rm -rf "$dl" && mkdir -p "$dl"
    (cd "$dl" && apt-get "${apt_opts[@]}" -qq download "$name=$version" >&2) ||
      fail "cannot download $name=$version from $MIRROR $SUITE (gone from the mirror? see --show and update the pin in $0)"
    got=("$dl"/*.deb)
    [ ${#got[@]} -eq 1 ] && [ -f "${got[0]}" ] || fail "apt-get download of $name wrote no single .deb"
    mv "${got[0]}" "$deb" && rm -rf "$dl"
  fi
  found="$(sha256sum "$deb" | cut -d' ' -f1)"
  if [ "$found" != "$sha" ]; then
    rm -f "$deb"
    fail "$name $version: sha256 $found is not the pinned $sha (refused)"
  fi
  rm -rf "$OUT/$name"
  mkdir -p "$OUT/$name"
  dpkg -x "$deb" "$OUT/$name" || fail "dpkg -x $deb failed"
  [ -x "$OUT/$name/${BINARY[$name]}" ] || fail "$name $version has no ${BINARY[$name]}"
  echo "$sha" >"$OUT/$name/.sha256"
  echo "detbuild interop-tools: $name $version → .tools/interop/$name/${BINARY[$name]}" >&2
done
