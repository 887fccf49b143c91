#!/usr/bin/env bash
# GoEmotions training speed on 2 cores, side by side in one run: pathos' linear model
# (`text eval --task goemotions --model linear -j 2`) against Debian's fastText CLI
# (`fasttext supervised -loss ova -thread 2`, bench/goemotions_fasttext.py) and scikit-learn
# (one-vs-rest LogisticRegression, labels in 2 processes, bench/goemotions_sklearn.py).
# The pathos and fastText runs alternate ROUNDS times; scikit-learn runs once (it takes
# minutes; SKIP_SKLEARN=1 skips it).  Not part of ctest.
#
#   bench/goemo_train_speed.sh [BUILD_DIR] [DATA_DIR] [ROUNDS]   (defaults: build ../shared/data 3)
#
# PATHOS_BENCH_RT=1 runs every timed program at real-time priority (chrt -f 50, needs root),
# so that other jobs on a shared machine do not take its cores.  Writes
# bench/RESULTS-text-speed.md (overwritten) and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/deps.sh
BUILD=${1:-build}
DATA=$(cd "${2:-../shared/data}" && pwd)
ROUNDS=${3:-3}
PATHOS=$BUILD/pathos
OUT=bench/RESULTS-text-speed.md
[ -x "$PATHOS" ] || { echo "goemo_train_speed: $PATHOS not built" >&2; exit 1; }
RT=
if [ "${PATHOS_BENCH_RT:-0}" = 1 ]; then
  command -v chrt >/dev/null && chrt -f 50 true 2>/dev/null && RT="chrt -f 50" ||
    echo "PATHOS_BENCH_RT=1: chrt -f 50 is not available here; timing at normal priority" >&2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
timed() { # name, command...: JSON on stdout to $TMP/name.json, "wall rss user sys" to name.time
  local name=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$TMP/$name.time" $RT "$@" > "$TMP/$name.json"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: pathos" >&2
  timed "pathos-$r" "$PATHOS" text eval --task goemotions --data "$DATA/goemotions" --model linear -j 2 --json
  echo "round $r/$ROUNDS: fastText CLI" >&2
  (cd bench && FT_THREADS=2 timed "fasttext-$r" /usr/bin/python3 goemotions_fasttext.py "$DATA/goemotions")
done
if [ "${SKIP_SKLEARN:-0}" != 1 ]; then
  echo "scikit-learn (a few minutes)" >&2
  (cd bench && SK_JOBS=2 timed sklearn /usr/bin/python3 goemotions_sklearn.py "$DATA/goemotions")
fi

/usr/bin/python3 - "$TMP" "$OUT" "$ROUNDS" "$BUILD" "$DATA" "${RT:+yes}" <<'PY'
import json, os, sys, statistics, subprocess, datetime, platform
tmp, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def load(name):
    j = json.loads(open(os.path.join(tmp, name + ".json")).read().strip().splitlines()[-1])
    wall, rss, usr, sy = open(os.path.join(tmp, name + ".time")).read().split()[-4:]
    return dict(f1=j.get("test_macro_f1", j.get("macro_f1")), train=j["train_seconds"], wall=float(wall),
                cpu=float(usr) + float(sy), rss=int(rss) / 1024)
runs = {"pathos linear (-j 2)": [load(f"pathos-{r}") for r in range(1, rounds + 1)],
        "fastText CLI (-thread 2)": [load(f"fasttext-{r}") for r in range(1, rounds + 1)]}
if os.path.exists(os.path.join(tmp, "sklearn.json")):
    runs["scikit-learn (2 processes)"] = [load("sklearn")]
med = lambda v: statistics.median(v)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
L = ["# GoEmotions training speed on 2 cores (issue 4)\n",
     f"Command: `{'PATHOS_BENCH_RT=1 ' if sys.argv[6] else ''}bench/goemo_train_speed.sh {sys.argv[4]} {sys.argv[5]} {rounds}` "
     f"(pathos commit {commit}; {datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
     f"load average at the end {os.getloadavg()[0]:.1f}{', real-time priority' if sys.argv[6] else ''}).\n",
     "Same protocol for all: fit on GoEmotions train (43,410 texts), per-label thresholds on dev, "
     "macro-F1 over the 28 labels on test.  *Train s* is what each tool reports as training: "
     "featurising plus fitting for pathos and scikit-learn, `fasttext supervised` for the CLI "
     "(its input file is prepared before the clock starts).  *Process* columns cover the whole "
     "run (loading, training, dev tuning, test scoring).  Medians over the rounds, ranges in brackets.\n",
     "| tool | test macro-F1 | train s | process wall s | process CPU s | peak RSS MB | runs |",
     "|---|---|---|---|---|---|---|"]
for name, rs in runs.items():
    rng = lambda k: f"{med([r[k] for r in rs]):.1f}" + (f" [{min(r[k] for r in rs):.1f}-{max(r[k] for r in rs):.1f}]" if len(rs) > 1 else "")
    L.append(f"| {name} | {med([r['f1'] for r in rs]):.4f} | {rng('train')} | {rng('wall')} | {rng('cpu')} | "
             f"{med([r['rss'] for r in rs]):.0f} | {len(rs)} |")
p = runs["pathos linear (-j 2)"]
L.append("")
for name, rs in runs.items():
    if name.startswith("pathos"):
        continue
    L.append(f"- {name} / pathos, median train time: **{med([r['train'] for r in rs]) / med([r['train'] for r in p]):.2f}x**; "
             f"process wall {med([r['wall'] for r in rs]) / med([r['wall'] for r in p]):.2f}x; "
             f"process CPU {med([r['cpu'] for r in rs]) / med([r['cpu'] for r in p]):.2f}x (>1: pathos faster).")
open(out, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
