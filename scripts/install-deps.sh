#!/usr/bin/env bash
# Installs the Debian 12 packages pathos needs to build and test (run as root, or with sudo).
# Why each one is there: see "Dependencies" in README.md.
set -euo pipefail
PKGS=(cmake build-essential pkg-config
      libopenblas-dev   # GEMM for the TabPFN forward pass
      libxgboost-dev    # gradient-boosted trees (C API)
      libcjson-dev      # JSON: configs, safetensors headers, --json output
      libutf8proc-dev)  # Unicode normalisation and case folding for text
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi
