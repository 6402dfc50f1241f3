#!/usr/bin/env bash
# ctest cuda_emulated: the CUDA backend on the emulator (no GPU needed). Every engine unit test
# runs with all its sessions forced onto CUDA (GB_FORCE_DEVICE=cuda), the CUDA tests once more with
# the blocks run in reverse order; seed_optimize's table and
# a short Fashion-MNIST run must match the CPU's; a machine whose driver sees no GPU gives a
# clear error. A real GPU runs the same through tools/gpu/run_checks.sh.
#   run_on_emulator.sh BUILD_DIR EMULATOR_LIB_DIR
set -euo pipefail
build=$1 emu=$2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gradboard-cuda-emu-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export LD_LIBRARY_PATH=$emu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
failed=0
for test in "$build"/tests/engine/test_*; do
  [ -x "$test" ] || continue
  if GB_FORCE_DEVICE=cuda "$test" --jobs=2 --short-filename > "$scratch/out" 2>&1; then
    echo "cuda: $(basename "$test"): $(tail -1 "$scratch/out" | sed 's/.*Synthesis: //')"
  else
    echo "cuda: $(basename "$test") FAILED"; cat "$scratch/out"; failed=1
  fi
done

# The CUDA tests again with blocks and threads run last to first: a result that hangs on the
# order a GPU happens to schedule them (float atomics) differs from the usual order's.
for test in "$build"/tests/engine/test_cuda_*; do
  if GB_EMU_REVERSE=1 "$test" --jobs=2 --short-filename > "$scratch/out" 2>&1; then
    echo "cuda, blocks reversed: $(basename "$test"): $(tail -1 "$scratch/out" | sed 's/.*Synthesis: //')"
  else
    echo "cuda, blocks reversed: $(basename "$test") FAILED"; cat "$scratch/out"; failed=1
  fi
done

export GB_EMU_LEAKS=fail # device or pinned memory left allocated at exit fails a program
"$build"/examples/seed_optimize > "$scratch/cpu.txt"
GB_FORCE_DEVICE=cuda "$build"/examples/seed_optimize > "$scratch/cuda.txt"
if cmp -s "$scratch/cpu.txt" "$scratch/cuda.txt"; then echo "cuda: seed_optimize: the CPU's 30-row table"
else echo "cuda: seed_optimize differs from the CPU"; diff "$scratch/cpu.txt" "$scratch/cuda.txt" || true; failed=1; fi

fm=(--epochs 2 --train-size 2048 --test-size 1000 --no-progress --seed 3)
"$build"/examples/fashion_mnist "${fm[@]}" --logdir "$scratch/cpu" > "$scratch/fm_cpu.txt"
GB_CUDA_LOG=1 "$build"/examples/fashion_mnist "${fm[@]}" --device cuda --logdir "$scratch/cuda" > "$scratch/fm_cuda.txt" \
  2> "$scratch/fm_cuda.log"
cpu=$(awk '/final test accuracy/ {print $4}' "$scratch/fm_cpu.txt")
cuda=$(awk '/final test accuracy/ {print $4}' "$scratch/fm_cuda.txt")
echo "cuda: fashion_mnist (2 epochs, 2048 images): test accuracy CPU $cpu, CUDA $cuda"
grep -q "captured as a CUDA graph" "$scratch/fm_cuda.log" || { echo "cuda: the training step was not captured"; cat "$scratch/fm_cuda.log"; failed=1; }
awk -v a="$cpu" -v b="$cuda" 'BEGIN { d = a - b; exit !(a > 0 && d <= 0.005 && d >= -0.005) }' || { echo "cuda: accuracies differ by more than 0.5%"; failed=1; }

if GB_EMU_NO_DEVICE=1 "$build"/examples/fashion_mnist --device cuda --logdir "$scratch/none" > /dev/null 2> "$scratch/none.err"; then
  echo "cuda: a machine without a GPU did not fail"; failed=1
elif grep -q "GB_CUDA is not available: CUDA: the driver reports no GPU" "$scratch/none.err"; then
  echo "cuda: no GPU: $(cat "$scratch/none.err")"
else echo "cuda: unclear error without a GPU:"; cat "$scratch/none.err"; failed=1; fi
exit $failed
