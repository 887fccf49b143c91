#!/usr/bin/env bash
# CSV read throughput: pth_csv_read vs pandas.read_csv on the same wide numeric file.
#
#   bench/csv_throughput.sh [BUILD_DIR] [MB]
#
# BUILD_DIR: an existing build whose libpathos.a to use (use a Release build); default:
# configure and build a Release build in build-bench/.  MB: size of each generated file
# (default 200).  Two files are made in /tmp, both OpenFace-like (710 columns, header
# ", pose_R1, eye_lmk_x_2, ..." with leading spaces and an empty first name):
#   long:  values printed with %.17g (like the released hri-empathy "averaged" files)
#   short: values printed with %.6g (like raw OpenFace output)
# Each reader gets a warm-up read (page cache), then the best of 3 timed reads.  Wall time
# and CPU time are both reported: on a shared machine the CPU-time ratio is the steadier one.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/deps.sh
BUILD=${1:-build-bench}
MB=${2:-200}
PY=/usr/bin/python3
TMP=${TMPDIR:-/tmp}/pathos-csv-bench
mkdir -p "$TMP"

if [ -z "${1:-}" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPATHOS_WERROR=OFF >/dev/null
  nice make -C "$BUILD" -j2 pathos_static >/dev/null 2>&1 || { echo "build of $BUILD failed" >&2; exit 1; }
fi
[ -f "$BUILD/libpathos.a" ] || { echo "no $BUILD/libpathos.a" >&2; exit 1; }

cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/csv_bench.c "$BUILD/libpathos.a" \
   -lcjson -lutf8proc -lopenblas -lxgboost -fopenmp -lm -lpthread -o "$TMP/csv_bench"

cat > "$TMP/pandas_read.py" <<'PYEOF'
import os, sys, time
import numpy as np
import pandas as pd
path, reps = sys.argv[1], int(sys.argv[2])
best = best_cpu = 1e30
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    df = pd.read_csv(path)
    best = min(best, time.perf_counter() - t0)
    best_cpu = min(best_cpu, time.process_time() - c0)
mb = os.path.getsize(path) / 1e6
v = df.to_numpy(dtype=np.float64)
print("pandas %s rows=%d cols=%d size_MB=%.1f best_s=%.3f MB_per_s=%.1f cpu_s=%.3f cpu_MB_per_s=%.1f checksum=%.10g"
      % (pd.__version__, df.shape[0], df.shape[1], mb, best, mb / best, best_cpu, mb / best_cpu, np.nansum(v)))
PYEOF

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for kind in long short; do
  digits=$([ $kind = long ] && echo 17 || echo 6)
  f="$TMP/openface_${kind}_${MB}MB.csv"
  [ -f "$f" ] || nice "$TMP/csv_bench" gen "$f" "$MB" "$digits" 7
  echo "== $kind ($digits significant digits): $f"
  nice "$TMP/csv_bench" read "$f" 1 >/dev/null
  p=$(nice "$TMP/csv_bench" read "$f" 3)
  echo "$p"
  q=$(nice $PY "$TMP/pandas_read.py" "$f" 3)
  echo "$q"
  a=$(echo "$p" | sed 's/.* MB_per_s=\([0-9.]*\).*/\1/'); ac=$(echo "$p" | sed 's/.*cpu_MB_per_s=\([0-9.]*\).*/\1/')
  b=$(echo "$q" | sed 's/.* MB_per_s=\([0-9.]*\).*/\1/'); bc=$(echo "$q" | sed 's/.*cpu_MB_per_s=\([0-9.]*\).*/\1/')
  $PY -c "print('ratio pathos/pandas: wall %.2fx, cpu %.2fx' % ($a / $b, $ac / $bc))"
done
