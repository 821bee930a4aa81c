#!/usr/bin/env bash
# One entry for a fresh machine: brings Node >= 22.22 (Node 24 from the npm registry when the system
# node is older), installs dependencies from the lockfile, builds, then runs `npm run <script>`.
#   ./scripts/setup.sh demo    # the main job on the embedded default fixture
#   ./scripts/setup.sh test    # installs bubblewrap, faketime, disorderfs, chromium when missing, unpacks cosign and
#                              # sigstore-go and Go (scripts/interop-tools.sh), the Go executable fixtures
#                              # (scripts/go-fixtures.sh); lint, typecheck,
#                              # build and the test suite, then checks that dist/action.js is fresh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/node-env.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "detbuild setup: installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
# dist/ (tsc, the API) and dist/cli-bundle/ (the CLI the bin runs), both older than no source, script or lockfile
stale() { [ ! -f "$1" ] || [ -n "$(find src scripts package-lock.json -newer "$1" \( -name '*.ts' -o -name package-lock.json \) -print -quit)" ]; }
if stale dist/cli/main.js || stale dist/cli-bundle/detbuild.js; then
  echo "detbuild setup: building (npm run build)" >&2
  npm run --silent build
fi
[ $# -eq 0 ] && exit 0
script="$1"
shift
if [ "$script" = test ]; then
  # the tests use real sandbox and variation tools (bubblewrap, faketime, disorderfs) and a real browser
  # (chromium, for the HTML report): installed when missing
  ./scripts/system-tools.sh
  # cosign and sigstore-go's verifier for the interop tests: pinned Debian .debs unpacked into .tools/interop/
  ./scripts/interop-tools.sh
  # the Go executables the Go binary reader is tested on: built with that Go, and real ones from npm packages
  ./scripts/go-fixtures.sh
  # two steps, both always run, each failing on its own: the suite, then the committed Action bundle's
  # freshness (a stale dist/action.js is not a unit-test failure, but CI must not pass with one)
  status=0
  npm run --silent test -- "$@" || status=$?
  echo "detbuild setup: checking the Action bundle (node scripts/build-action.ts --check)" >&2
  node scripts/build-action.ts --check || status=1
  exit "$status"
fi
exec npm run --silent "$script" -- "$@"
