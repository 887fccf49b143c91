#!/usr/bin/env bash
# Benchmark (not a test): pathos vs an equivalent Python pipeline on the same data.
#  1. CSV -> per-recording features throughput on the real hri-empathy recordings in ../shared.
#  2. `pathos eval` (5 folds x 10 repeats, all learners) on the synthetic dataset against
#     scikit-learn / xgboost fed the same features and the same folds (bench/eval_python.py):
#     metric agreement, max |dp| of out-of-fold probabilities, and the wall-time ratio.
# usage: bench/eval_vs_python.sh [BUILD_DIR]   (needs python3-sklearn, python3-xgboost, python3-pandas)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PY=/usr/bin/python3
SHARED=${PATHOS_SHARED_DIR:-../shared}
export OMP_WAIT_POLICY=PASSIVE
THREADS=$(nproc)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
bench/deps.sh
[ -x "$BUILD/pathos" ] || { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build "$BUILD" -j"$THREADS" >/dev/null; }
P="$BUILD/pathos"
now() { date +%s.%N; }

echo "## machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "## $(date -u +%Y-%m-%d) pathos $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

# 1. features throughput on the real recordings (8 files, ~4 MB each), best of 3 runs.
REAL="$SHARED/data/hri-empathy"
bytes=$(cat "$REAL"/dataset/video_features/*.csv | wc -c)
best=999
for i in 1 2 3; do
  t0=$(now)
  "$P" features --manifest "$REAL/derived/file_index.csv" --root "$REAL" --path-col path \
      --subject-col participant_id --label-col empathy_binary --skip-missing -q -o "$OUT/real.csv"
  t=$(echo "$(now) - $t0" | bc -l)
  best=$(echo "if ($t < $best) $t else $best" | bc -l)
done
tpy0=$(now)
$PY - "$REAL" <<'PYEOF'
import sys, glob, numpy as np, pandas as pd
for f in sorted(glob.glob(sys.argv[1] + "/dataset/video_features/*.csv")):
    df = pd.read_csv(f)
    df.columns = [c.strip() for c in df.columns]
    cols = [c for c in df.columns if c.startswith(("gaze_", "pose_", "AU"))]
    v = df[(df.iloc[:, 1:] != 0).any(axis=1)][cols]
    feats = [v.mean(), v.std(ddof=0), v.min(), v.max(), v.median(), v.quantile(0.1), v.quantile(0.9),
             v.diff().abs().mean()]
PYEOF
tpy=$(echo "$(now) - $tpy0" | bc -l)
printf "features: %d bytes in %.3f s = %.1f MB/s (pathos, best of 3, %d threads); pandas equivalent %.3f s; ratio %.1fx\n" \
  "$bytes" "$best" "$(echo "$bytes / $best / 1000000" | bc -l)" "$THREADS" "$tpy" "$(echo "$tpy / $best" | bc -l)"

# 2. eval on the synthetic dataset, same folds for both sides.
"$P" synth -o "$OUT/synth" --seed 1 >/dev/null
"$P" features --manifest "$OUT/synth/manifest.csv" -q -o "$OUT/feats.csv"
t0=$(now)
"$P" eval --table "$OUT/feats.csv" --protocol grouped --folds 5 --repeats 10 --learners all --seed 42 \
    --bootstrap 0 -q --folds-out "$OUT/folds.csv" --predictions-out "$OUT/preds.csv" --json-out "$OUT/res.json" \
    > "$OUT/table.txt"
tp=$(echo "$(now) - $t0" | bc -l)
# The same run one learner at a time (same seed, hence the same folds), for per-learner times.
: > "$OUT/per_learner.txt"
for l in xgboost logreg knn majority; do
  t1=$(now)
  "$P" eval --table "$OUT/feats.csv" --protocol grouped --folds 5 --repeats 10 --learners "$l" --seed 42 \
      --bootstrap 0 -q > /dev/null
  echo "$l $(echo "$(now) - $t1" | bc -l)" >> "$OUT/per_learner.txt"
done
$PY bench/eval_python.py "$OUT/feats.csv" "$OUT/folds.csv" "$OUT/preds.csv" 42 "$THREADS" > "$OUT/py.json"
$PY - "$OUT/res.json" "$OUT/py.json" "$tp" "$OUT/per_learner.txt" <<'PYEOF'
import json, sys
ours, py, tp = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), float(sys.argv[3])
secs = dict((l.split()[0], float(l.split()[1])) for l in open(sys.argv[4]))
print("eval: synthetic 126 recordings, grouped 5-fold x 10 repeats, all learners")
print(f"| learner | AUC pathos | AUC python | bal_acc pathos | bal_acc python | max abs dp | pathos s | python s | python/pathos |")
print(f"|---|---|---|---|---|---|---|---|---|")
for L in ours["learners"]:
    n = L["learner"]; s = L["summary"]; q = py[n]["metrics"]
    print(f"| {n} | {s['roc_auc']['mean']:.4f} | {q['auc']:.4f} | {s['balanced_accuracy']['mean']:.4f} | {q['bal_acc']:.4f} | {py[n]['max_abs_dp']:.2e} | {secs[n]:.2f} | {py[n]['seconds']:.2f} | {py[n]['seconds']/secs[n]:.1f}x |")
print(f"wall time: pathos eval {tp:.2f} s (incl. loading), python fit+predict loop {py['_seconds']:.2f} s; python/pathos = {py['_seconds']/tp:.1f}x")
PYEOF
