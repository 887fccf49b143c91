#!/usr/bin/env bash
# TabPFN v2 forward speed vs the PyTorch anchor (shared/testdata/tabpfn-v2/timings.json).
#
#   bench/tabpfn_bench.sh [BUILD_DIR] [REPS] [CASES]
#
# BUILD_DIR: a build whose libpathos.a to use (default: configure and build a Release build
# in build-bench/).  REPS: timed runs per measurement after one warm-up (default 3; the median
# is reported).  CASES: default "c d".  Threads: OMP_NUM_THREADS (default 2, as the anchor's
# torch.set_num_threads(2)).  On a shared machine compare the CPU seconds as well as the wall
# seconds: the wall time includes waiting for the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
REPS=${2:-3}
CASES=${3:-c d}
DATA=${PATHOS_SHARED_DIR:-../shared}/testdata/tabpfn-v2
# PATHOS_BENCH_RT=1 runs the timed programs at real-time priority (chrt -f 50, needs root), so
# that other jobs on a shared machine do not take the CPUs away mid-measurement.
RT=
if [ "${PATHOS_BENCH_RT:-0}" = 1 ]; then
  command -v chrt >/dev/null && chrt -f 50 true 2>/dev/null && RT="chrt -f 50" ||
    echo "PATHOS_BENCH_RT=1: chrt -f 50 is not available here; timing at normal priority" >&2
fi
# PATHOS_BENCH_HUGEPAGES=1 backs malloc with transparent huge pages in both programs
# (glibc >= 2.35 tunable).  On the KVM guest here a first touch of a 4 KiB page costs ~7 us;
# PyTorch allocates fresh tensors for every operation (1.2 GB of attention scores per layer in
# case d) and spends most of its time in page faults without it.
if [ "${PATHOS_BENCH_HUGEPAGES:-0}" = 1 ]; then
  export GLIBC_TUNABLES=glibc.malloc.hugetlb=1
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# OpenBLAS 0.3.21 treats Zen 4 as Haswell (AVX2 kernels).  Its AVX-512 kernels are ~30% faster
# there; OPENBLAS_CORETYPE is read when the library loads, so it can only be set from outside.
# Run with OPENBLAS_CORETYPE=HASWELL (or "default") to measure with the kernels OpenBLAS picks itself.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SKYLAKEX
fi
[ "${OPENBLAS_CORETYPE:-}" = default ] && unset OPENBLAS_CORETYPE

if [ -z "${1:-}" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPATHOS_WERROR=OFF >/dev/null
  nice make -C "$BUILD" -j2 pathos_static >/dev/null 2>&1 || { echo "build of $BUILD failed" >&2; exit 1; }
fi
[ -f "$BUILD/libpathos.a" ] || { echo "no $BUILD/libpathos.a" >&2; exit 1; }
BIN=$BUILD/tabpfn_bench
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/tabpfn_bench.c "$BUILD/libpathos.a" \
   -lcjson -lutf8proc -lopenblas -lxgboost -fopenmp -lm -lpthread -o "$BIN"

echo "# $(date -u +%FT%TZ)  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
     "(family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nproc) cpus," \
     "load $(cut -d' ' -f1-3 /proc/loadavg), OMP_NUM_THREADS=$OMP_NUM_THREADS" \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}${RT:+, real-time priority}${GLIBC_TUNABLES:+, $GLIBC_TUNABLES}"
# Same-machine PyTorch reference (bench/tabpfn_torch.py; torch 1.13 via bench/deps.sh), when
# /usr/bin/python3 has torch: timed right after pathos as timings.json did (median of
# PATHOS_TORCH_REPS runs, default 5, after one warm-up; OMP_WAIT_POLICY left at its default).
TORCH_REPS=${PATHOS_TORCH_REPS:-5}
/usr/bin/python3 -c 'import torch' 2>/dev/null || TORCH_REPS=0
for c in $CASES; do
  case $c in
    c) args="300 100 50 2.4229" ;;
    d) args="1000 200 100 45.9384" ;;
    a) args="40 10 5 0" ;;
    b) args="120 30 13 0" ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
  $RT "$BIN" "$DATA/model_random.safetensors" "$DATA/case_$c" $args "$REPS" | tee "$BUILD/tabpfn_bench_$c.log"
  if [ "$TORCH_REPS" -gt 0 ]; then
    tout=$(env -u OMP_WAIT_POLICY $RT /usr/bin/python3 bench/tabpfn_torch.py --data "$DATA" --time "$c" \
           --reps "$TORCH_REPS" 2>&1) || true
    sed 's/^/    torch: /' <<<"$tout"
    awk -v t="$(awk '$1 == "torch_forward_s" {print $3}' <<<"$tout")" -v a="${args##* }" \
        '/one-shot forward/ && !done {done = 1; p = $3
         if (t == "") { print "  torch (same machine)    no timing (failed validation?)"; exit }
         printf "  torch (same machine)    %8.3f s; torch / pathos one-shot wall = %.2fx", t, t / p
         if (a > 0) printf "; stored anchor %.2f s / pathos = %.2fx", a, a / p
         printf "\n" }' "$BUILD/tabpfn_bench_$c.log"
  fi
done
