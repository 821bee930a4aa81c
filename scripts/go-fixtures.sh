#!/usr/bin/env bash
# The Go executables the Go binary reader is tested on (test/ecosystems/go/binary-*.test.ts), made into the
# git-ignored test/fixtures/go/.work/ (see test/fixtures/go/binary/README.md):
#  - builds test/fixtures/go/binary/src/app with the pinned Go (.tools/interop/go, from scripts/interop-tools.sh)
#    for several GOOS/GOARCH, stripped and not, with a private GOCACHE/GOPATH and a file-based module proxy
#    (GOPROXY=file://…, GOSUMDB=off, GOTOOLCHAIN=local): no network;
#  - downloads real Go executables shipped in npm packages from the npm registry, each checked against the
#    registry's sha512 integrity pinned below before it is unpacked (nothing else is trusted).
# Tests never run this (they have no network): CI runs it from scripts/setup.sh test. A re-run with the same
# inputs does nothing (the stamp is a hash of this script and the sources). Fails loudly on any problem.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="$PWD/.tools/interop/go/usr/lib/go-1.26/bin/go"
SRC="$PWD/test/fixtures/go/binary/src"
WORK="$PWD/test/fixtures/go/.work"
REGISTRY="${DETBUILD_FIXTURE_REGISTRY:-https://registry.npmjs.org}"
fail() { echo "detbuild go-fixtures: $*" >&2; exit 1; }

# name  version  sha512 integrity (as the registry's dist.integrity gives it)
NPM_PINS=(
  "@esbuild/linux-x64 0.19.12 sha512-B71g1QpxfwBvNrfyJdVDexenDIt1CiDN1TIXLbhOw0KhJzE78KIFGX6OJ9MrtC0oOqMWf+0xop4qEU8JrJTwCg=="
  "@esbuild/linux-x64 0.25.0 sha512-9yl91rHw/cpwMCNytUDxwj2XjFpxML0y9HAOH9pNVQDpQrBxHy01Dx+vaMu0N1CKa/RzBD2hB4u//nfc+Sd3Cw=="
  "@esbuild/darwin-arm64 0.25.0 sha512-mVwdUb5SRkPayVadIOI78K7aAnPamoeFR2bT5nszFUZ9P8UpK4ratOdYbZZXYSqPKMHfS1wdHCJk1P1EZpRdvw=="
  "@esbuild/win32-x64 0.25.0 sha512-ZENoHJBxA20C2zFzh6AI4fT6RraMzjYw4xKWemRTRmRVtN9c5DcH9r/f2ihEkMjOW5eGgrwCslG/+Y/3bL+DHQ=="
  "esbuild-linux-64 0.13.15 sha512-eCKzkNSLywNeQTRBxJRQ0jxRCl2YWdMB3+PkWFo2BBQYC5mISLIVIjThNtn6HUNqua1pnvgP5xX0nHbZbPj5oA=="
  "esbuild-linux-64 0.7.22 sha512-E47AzXNOvy8uPvOka9eSDn77wY64EgqmuA6x9jIgscDSroWrWCSA/0iAbGGGJhfQyYmMkExQxstsyVWIbfb2Ow=="
)
# GOOS/GOARCH the app is built for (each stripped and not)
TARGETS=(linux/amd64 linux/arm64 linux/386 darwin/arm64 windows/amd64)

[ -x "$GO" ] || fail "no pinned Go at $GO: run ./scripts/interop-tools.sh first"
for tool in curl tar git sha256sum openssl base64; do
  command -v "$tool" >/dev/null || fail "$tool is needed (curl, tar, git, sha256sum, openssl, base64)"
done

stamp="$( (cat "${BASH_SOURCE[0]}"; "$GO" version; find "$SRC" -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -d' ' -f1)"
if [ -f "$WORK/.stamp" ] && [ "$(cat "$WORK/.stamp")" = "$stamp" ] && [ -f "$WORK/manifest.txt" ]; then
  missing=0
  while read -r f; do [ -f "$WORK/$f" ] || missing=1; done <"$WORK/manifest.txt"
  [ -x "$WORK/parsebi" ] || missing=1
  [ -x "$WORK/sumdb-server" ] || missing=1
  [ "$missing" = 0 ] && exit 0
fi
echo "detbuild go-fixtures: building and downloading Go executables into test/fixtures/go/.work/" >&2

# keep the Go cache between runs (it makes a re-run take seconds); everything else is made anew
mkdir -p "$WORK/gocache"
rm -rf "$WORK/bin" "$WORK/npm" "$WORK/proxy" "$WORK/sumdb-server" "$WORK/app" "$WORK/vcs-app" "$WORK/oracle" "$WORK/.stamp" "$WORK/manifest.txt"
chmod -R u+w "$WORK/gopath" 2>/dev/null || true
rm -rf "$WORK/gopath"
mkdir -p "$WORK/bin" "$WORK/npm" "$WORK/proxy"

# GOPROXY is off except for the app's builds, which read the file-based proxy below (a local folder)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOCACHE="$WORK/gocache" GOPATH="$WORK/gopath" GOMODCACHE="$WORK/gopath/pkg/mod"
export GOPROXY=off GOSUMDB=off GOENV=off GOTELEMETRY=off GOWORK=off CGO_ENABLED=0 GONOSUMDB= GOPRIVATE=

# the file-based module proxy: example.com/greet v1.2.3 and example.com/colour v1.0.1
(cd "$SRC/mkzip" && "$GO" build -o "$WORK/mkzip" .) || fail "cannot build the zip helper"
# the oracle of the module-text parser test: Go's own runtime/debug.ParseBuildInfo
(cd "$SRC/parsebi" && "$GO" build -o "$WORK/parsebi" .) || fail "cannot build the ParseBuildInfo oracle"
# Go's own checksum-database server (x/mod/sumdb, vendored in Debian's Go: copied to .work/xmod as a module)
# for the sumdb client tests (test/ecosystems/go/sumdb*.test.ts, the toolchain and build tests)
rm -rf "$WORK/xmod"
cp -r "$(dirname "$GO")/../src/cmd/vendor/golang.org/x/mod" "$WORK/xmod"
chmod -R u+w "$WORK/xmod"
printf 'module golang.org/x/mod\n\ngo 1.23\n' >"$WORK/xmod/go.mod"
(cd "$SRC/sumdb" && "$GO" build -o "$WORK/sumdb-server" .) || fail "cannot build the checksum database server"
serve() { # module version folder
  local dir="$WORK/proxy/$1/@v"
  mkdir -p "$dir"
  echo "$2" >"$dir/list"
  printf '{"Version":"%s","Time":"2024-01-02T03:04:05Z"}\n' "$2" >"$dir/$2.info"
  cp "$3/go.mod" "$dir/$2.mod"
  "$WORK/mkzip" "$3" "$1@$2" "$dir/$2.zip"
}
serve example.com/greet v1.2.3 "$SRC/proxy/greet"
serve example.com/colour v1.0.1 "$SRC/proxy/colour"
# a stand-in published as golang.org/x/net v0.15.0 (see its source): the govulncheck oracle's programs
serve golang.org/x/net v0.15.0 "$SRC/proxy/xnet-standin"

cp -r "$SRC/app" "$WORK/app"
manifest=()
build() { # GOOS/GOARCH name extra-flags...
  local target="$1" name="$2"
  shift 2
  local out="bin/$name"
  [ "${target%/*}" = windows ] && out="$out.exe"
  (cd "$WORK/app" && GOPROXY="file://$WORK/proxy" GOOS="${target%/*}" GOARCH="${target#*/}" \
    "$GO" build -buildvcs=false "$@" -o "$WORK/$out" .) || fail "go build $target $* failed"
  manifest+=("$out")
}
for target in "${TARGETS[@]}"; do
  name="app-${target%/*}-${target#*/}"
  build "$target" "$name" -trimpath
  build "$target" "$name-stripped" -trimpath -ldflags=-s\ -w
done
build linux/amd64 app-linux-amd64-no-trimpath -ldflags=-s\ -w

# from a git checkout with a fixed commit: the vcs.* settings
cp -r "$WORK/app" "$WORK/vcs-app"
(
  cd "$WORK/vcs-app"
  git init -q .
  git add -A
  GIT_AUTHOR_DATE=2024-01-02T03:04:05Z GIT_COMMITTER_DATE=2024-01-02T03:04:05Z \
    git -c user.name=fixture -c user.email=fixture@example.com -c commit.gpgsign=false commit -qm fixture
  GOPROXY="file://$WORK/proxy" GOOS=linux GOARCH=amd64 "$GO" build -trimpath -buildvcs=true -o "$WORK/bin/app-vcs" .
) || fail "the -buildvcs build failed"
manifest+=(bin/app-vcs)

# the govulncheck oracle's two programs (test/scan/go-govulncheck-oracle.test.ts): one calls a symbol of
# GO-2023-2102, one only imports its package; not in the manifest (they are not build-info fixtures)
mkdir -p "$WORK/oracle"
for app in called uncalled; do
  cp -r "$SRC/oracle/$app" "$WORK/oracle/$app"
  (cd "$WORK/oracle/$app" && GOPROXY="file://$WORK/proxy" GOOS=linux GOARCH=amd64 \
    "$GO" build -trimpath -buildvcs=false -o "$WORK/oracle/$app/oracle-$app" .) || fail "the oracle program $app failed to build"
done

# npm packages: fetch, check the pinned sha512, unpack
integrity_of() { # file
  echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}
for pin in "${NPM_PINS[@]}"; do
  read -r name version integrity <<<"$pin"
  base="${name#*/}"
  dir="$WORK/npm/${name//\//+}@$version"
  tgz="$WORK/npm/${name//\//+}-$version.tgz"
  curl -fsSL --retry 2 -o "$tgz" "$REGISTRY/$name/-/$base-$version.tgz" || fail "cannot download $name@$version"
  got="$(integrity_of "$tgz")"
  [ "$got" = "$integrity" ] || fail "$name@$version: integrity $got, pinned $integrity (refusing it)"
  mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --no-same-owner
  rm -f "$tgz"
  for exe in "$dir/package/bin/esbuild" "$dir/package/esbuild.exe"; do
    [ -f "$exe" ] && manifest+=("${exe#"$WORK/"}")
  done
done

printf '%s\n' "${manifest[@]}" >"$WORK/manifest.txt"
want=$((2 * ${#TARGETS[@]} + 2 + ${#NPM_PINS[@]}))
[ "${#manifest[@]}" = "$want" ] || fail "${#manifest[@]} fixtures were made, not $want"
echo "$stamp" >"$WORK/.stamp"
echo "detbuild go-fixtures: ${#manifest[@]} Go executables ready" >&2
