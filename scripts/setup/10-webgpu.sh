#!/usr/bin/env bash
# WebGPU without a GPU: Dawn (npm `webgpu`) needs a Vulkan driver. Mesa's software driver, lavapipe,
# works from Mesa 25 on (bookworm-backports); bookworm's own Mesa 22 is rejected by Dawn
# ("shaderUniform*ArrayDynamicIndexing required"), so the adapter would be null.
# Idempotent: does nothing when a new enough mesa-vulkan-drivers is installed, and runs
# `apt-get update` only when the backports index has not been fetched yet.
set -euo pipefail

MIN_VERSION=25
SOURCES=/etc/apt/sources.list.d/bookworm-backports.sources

installed=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ -n "$installed" ] && dpkg --compare-versions "$installed" ge "$MIN_VERSION"; then
  echo "mesa-vulkan-drivers $installed already installed (lavapipe for WebGPU)"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "warning: no apt-get here; install a Vulkan driver (Mesa >= $MIN_VERSION lavapipe or a GPU driver) for the WebGPU backend" >&2
  exit 0
fi
if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" != bookworm ]; then
  echo "warning: not Debian bookworm; install mesa-vulkan-drivers >= $MIN_VERSION yourself for the WebGPU backend" >&2
  exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

if [ ! -f "$SOURCES" ]; then
  $SUDO tee "$SOURCES" >/dev/null <<'X'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
fi

# The backports index is missing until an update has fetched it; only then is an update needed.
if ! apt-cache policy mesa-vulkan-drivers | grep -q bookworm-backports; then
  $SUDO apt-get update -q
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers
echo "installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
