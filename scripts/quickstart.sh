#!/usr/bin/env bash
# Quickstart: install dependencies, build pathos, generate the bundled SYNTHETIC demo dataset
# and compare learners under subject-independent (grouped) and leaky (record-level) CV.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
export OMP_WAIT_POLICY=PASSIVE
build/pathos synth -o build/demo --seed 1 >/dev/null
# Per-recording summary statistics of gaze, head pose and action units, one row per recording.
build/pathos features --manifest build/demo/manifest.csv -o build/demo/features.csv
echo
echo "== SYNTHETIC demo data (42 subjects x 3 recordings), all learners, 5 folds x 3 repeats"
echo "== subject-independent (grouped) CV: no subject in both train and test"
build/pathos eval --table build/demo/features.csv --protocol grouped --folds 5 --repeats 3 --learners all
echo
echo "== record-level CV (LEAKY: the same subject's face in train and test), for comparison"
build/pathos eval --table build/demo/features.csv --protocol leaky --folds 5 --repeats 3 --learners all
