#!/usr/bin/env bash
# The real tools the interop and Go tests run, from Debian's own packages, without touching the machine's apt
# configuration: the independent sigstore verifiers (test/interop/: cosign and sigstore-go's verifier CLI) and
# a Go toolchain (builds Go fixtures and Go projects; bookworm's own golang-go is 1.19) and govulncheck (the Go
# team's own scanner: the oracle for detbuild's symbol-level Go findings):
#  - apt-get reads a PRIVATE sources list (Dir::Etc::sourcelist, sourceparts=-) with its own state and cache
#    folders under .tools/debs/apt/; the machine's /etc/apt and /var/lib/apt are neither read nor written;
#  - apt checks the suite's signed InRelease against the Debian archive keyring (signed-by) and the .deb
#    against the signed Packages index; this script then checks each .deb against the sha256 pinned below
#    and refuses anything else;
#  - `dpkg -x` unpacks each package into .tools/interop/<folder>/ (git-ignored; nothing is installed); the Go
#    compiler and its sources share one folder (GOROOT is .tools/interop/go/usr/lib/go-<version>).
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
# folder  package  version  sha256 of the .deb (amd64)
PINS=(
  "cosign cosign 3.1.1-2 d8622ebffce1d69197288fc030ff06a4c247af5507107f85c5a878870b686b23"
  "sigstore-go sigstore-go 1.3.0-1 9a316dbb069b370ffd47c1a0cd0b07b42d45575f1f623c0301ebdad4bb19d83d"
  "go golang-1.26-src 1.26.10-1 c535cfd05d879c7cb2b28577fc9011fe1639d36e957d5077bb5c862b07b87c02"
  "go golang-1.26-go 1.26.10-1 497c936cb5050aaeb52021e757aafc8c959248a4c7015615f40390882b76683c"
  "govulncheck govulncheck 1.9.0-1 7558c6bec296e53c73d8c36962876efb54e310eb48a23915978df598a4db8513"
)
# the file each folder must provide once all its packages are unpacked
declare -A BINARY=([cosign]=usr/bin/cosign [sigstore-go]=usr/bin/sigstore-go-verification
  [go]=usr/lib/go-1.26/bin/go [govulncheck]=usr/bin/govulncheck)

TOOLS="$PWD/.tools"
DEBS="$TOOLS/debs"
OUT="$TOOLS/interop"
fail() { echo "detbuild interop-tools: $*" >&2; exit 1; }

command -v apt-get >/dev/null && command -v dpkg >/dev/null && command -v sha256sum >/dev/null ||
  fail "apt-get, dpkg and sha256sum are needed (a Debian or Ubuntu machine)"
arch="$(dpkg --print-architecture)"
[ "$arch" = "$ARCH" ] || fail "the pins are for $ARCH .debs; this machine is $arch (add pins for it)"

# a folder's stamp: the pinned sha256 of every package unpacked into it, in PINS order
stamp_of() { # folder
  local pin folder sha
  for pin in "${PINS[@]}"; do
    read -r folder _ _ sha <<<"$pin"
    if [ "$folder" = "$1" ]; then echo "$sha"; fi
  done
  return 0
}
up_to_date() { # folder
  [ -f "$OUT/$1/.sha256" ] && [ "$(cat "$OUT/$1/.sha256")" = "$(stamp_of "$1")" ] && [ -x "$OUT/$1/${BINARY[$1]}" ]
}
if [ "${1:-}" != --show ]; then
  all=1
  for folder in "${!BINARY[@]}"; do
    up_to_date "$folder" || all=0
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
    read -r _ name _ <<<"$pin"
    apt-cache "${apt_opts[@]}" show "$name" | grep -E '^(Package|Version|SHA256):'
  done
  exit 0
fi

for pin in "${PINS[@]}"; do
  read -r folder name version sha <<<"$pin"
  up_to_date "$folder" && continue
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
done
# unpack each folder that is not up to date, all its packages together (a stale folder is removed first)
for folder in "${!BINARY[@]}"; do
  up_to_date "$folder" && continue
  rm -rf "${OUT:?}/$folder"
  mkdir -p "$OUT/$folder"
  for pin in "${PINS[@]}"; do
    read -r f name version _ <<<"$pin"
    [ "$f" = "$folder" ] || continue
    dpkg -x "$DEBS/${name}_${version}_$ARCH.deb" "$OUT/$folder" || fail "dpkg -x of $name $version failed"
  done
  [ -x "$OUT/$folder/${BINARY[$folder]}" ] || fail "$folder: the packages unpacked give no ${BINARY[$folder]}"
  stamp_of "$folder" >"$OUT/$folder/.sha256"
  echo "detbuild interop-tools: $folder → .tools/interop/$folder/${BINARY[$folder]}" >&2
done
