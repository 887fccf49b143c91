#!/usr/bin/env bash
# Installs the reference tools the benchmark scripts compare against (Debian packages), if
# missing: scikit-learn, xgboost and pandas for /usr/bin/python3, PyTorch (bookworm's 1.13.1, the
# version of the TabPFN speed anchor; bench/tabpfn_torch.py) and the fastText CLI.
# Sourced or run by bench/*.sh; needs root (or sudo) only when something is missing.
set -euo pipefail
need=()
/usr/bin/python3 -c "import sklearn, xgboost, pandas, numpy" 2>/dev/null ||
  need+=(python3-sklearn python3-xgboost python3-pandas python3-numpy)
/usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch)
command -v fasttext >/dev/null 2>&1 || need+=(fasttext)
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "bench: installing ${need[*]}" >&2
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi
