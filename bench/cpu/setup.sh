#!/usr/bin/env bash
# Installs the CPU benchmark's peer once: Debian's PyTorch (python3-torch, numpy) and OpenBLAS built
# on OpenMP, which the benchmark puts first on LD_LIBRARY_PATH. Without an optimized BLAS Debian's
# torch calls the reference BLAS (~1 GFLOP/s); with the pthreads OpenBLAS its spinning threads fight
# torch's OpenMP threads on a small machine (elementwise ops 10x slower). Sharing OpenMP's pool, as
# the pip wheels' MKL does, is the peer at its best. A second run finds everything and does nothing.
# Uses Debian's interpreter, /usr/bin/python3 (a pyenv python3 on PATH cannot see its packages).
set -euo pipefail
PYTHON=/usr/bin/python3
have_peer() {
  "$PYTHON" -c 'import torch, numpy' 2>/dev/null && ls /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 >/dev/null 2>&1
}
if have_peer; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-numpy libopenblas0-openmp
"$PYTHON" -c 'import torch; print("torch", torch.__version__)'
