#!/usr/bin/env bash
# run_checks.sh STAGE [OUT_DIR]: on the GPU machine, the checks of the CUDA issue that CI cannot
# run, with their output in OUT_DIR/gpu-<stage>.txt (OUT_DIR: $OUT, else /tmp) for
# docs/gpu-results.md. Run from the repository root with .device/ carried (tools/gpu/pack.sh):
#
#   here:  cmake --build build && tools/gpu/pack.sh build .device
#   there: bash tools/gpu/run_checks.sh tests      # CUDA vs CPU per op; the engine suite on CUDA
#          bash tools/gpu/run_checks.sh sanitizer  # compute-sanitizer memcheck (+ leaks), racecheck
#          bash tools/gpu/run_checks.sh mnist      # Fashion-MNIST, CPU and CUDA, same seed
#          bash tools/gpu/run_checks.sh bench      # bench_cuda against PyTorch on the same GPU
#
# Each stage fits the device tool's 10 minutes a command.
set -uo pipefail
stage=${1:?usage: run_checks.sh tests|sanitizer|mnist|bench [OUT_DIR]}
out=${2:-${OUT:-/tmp}}
repo=$(pwd)
work=/tmp/gradboard-gpu
if [ ! -x "$work/build/tools/gradboard" ] || [ "$repo/.device/bundle.tar.xz" -nt "$work/build/tools/gradboard" ]; then
  rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xJf "$repo/.device/bundle.tar.xz" || exit 1
fi
# GB_GPU_LIBS_FIRST: a directory searched before all (a dry run here: the CUDA emulator's)
export LD_LIBRARY_PATH=${GB_GPU_LIBS_FIRST:+$GB_GPU_LIBS_FIRST:}$work/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=/usr/local/cuda/bin:$PATH
# The test programs hold the absolute paths of the tree they were built in (/work/main).
if [ ! -e /work/main/build ]; then
  mkdir -p /work/main 2>/dev/null && ln -sfn "$work/build" /work/main/build && ln -sfn "$repo/tests" /work/main/tests ||
    echo "note: could not recreate /work/main; tests reading files by absolute path will fail"
fi
bin=$work/build
mkdir -p "$out"
exec > >(tee "$out/gpu-$stage.txt") 2>&1
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), stage $stage, commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1
nvcc --version 2>/dev/null | tail -1
failed=0
run() { echo "\$ $*"; "$@" || { echo "FAILED ($?): $*"; failed=1; }; }

case $stage in
tests)
  run "$bin/tests/engine/test_cuda_ops" --jobs=4 --short-filename
  for t in "$bin"/tests/engine/test_*; do
    # CPU-only subjects: the worker pool, OpenBLAS's threads, subnormals kept on request
    case $(basename "$t") in test_parallel|test_matmul_split|test_denormals|test_cuda_ops) continue ;; esac
    run env GB_FORCE_DEVICE=cuda "$t" --jobs=4 --short-filename
  done
  "$bin/examples/seed_optimize" > /tmp/seed_cpu.txt
  GB_FORCE_DEVICE=cuda "$bin/examples/seed_optimize" > /tmp/seed_cuda.txt 2>&1
  if cmp -s /tmp/seed_cpu.txt /tmp/seed_cuda.txt; then echo "seed_optimize: the CPU's 30-row table on CUDA"
  else echo "FAILED: seed_optimize on CUDA differs:"; diff /tmp/seed_cpu.txt /tmp/seed_cuda.txt; failed=1; fi
  ;;
sanitizer)
  sanitize=(compute-sanitizer --target-processes all --error-exitcode 3)
  run "${sanitize[@]}" --tool memcheck --leak-check full "$bin/tests/engine/test_cuda_ops" --jobs=1 --short-filename
  run "${sanitize[@]}" --tool memcheck --leak-check full "$bin/tests/engine/test_cuda_updates" --jobs=1 --short-filename
  run "${sanitize[@]}" --tool memcheck --leak-check full "$bin/tests/engine/test_cuda_gather" --jobs=1 --short-filename
  run "${sanitize[@]}" --tool racecheck "$bin/tests/engine/test_cuda_ops" --jobs=1 --short-filename --filter='cuda_ops/[rn]*'
  run "${sanitize[@]}" --tool memcheck --leak-check full "$bin/examples/fashion_mnist" --device cuda --epochs 1 \
    --train-size 2048 --test-size 512 --data "$repo/.device/data" --logdir /tmp/gb-sanitized --no-progress
  ;;
mnist)
  for device in cpu cuda; do
    run "$bin/examples/fashion_mnist" --device $device --data "$repo/.device/data" --logdir /tmp/gb-mnist-$device --no-progress
  done
  cpu=$(awk '/final test accuracy/ {print $4}' "$out/gpu-mnist.txt" | head -1)
  cuda=$(awk '/final test accuracy/ {print $4}' "$out/gpu-mnist.txt" | tail -1)
  echo "test accuracy: CPU $cpu, CUDA $cuda"
  awk -v a="$cpu" -v b="$cuda" 'BEGIN { d = a - b; exit !(d <= 0.005 && d >= -0.005) }' || { echo "FAILED: differ by more than 0.5%"; failed=1; }
  ;;
bench)
  ours=$("$bin/tools/bench/bench_cuda") || failed=1
  theirs=$(python3 "$repo/tools/bench/bench_cuda_torch.py") || failed=1
  echo "$ours"
  echo "$theirs"
  value() { awk -v n="$1" '$1 == n { print $2; exit }' <<< "$2"; }
  a=$(value cuda_mlp_small_adam "$ours") b=$(value cuda_mlp_small_adam "$theirs")
  awk -v a="$a" -v b="$b" 'BEGIN { printf "MLP 784-256-128-10 Adam: gradboard %.4f ms, PyTorch %.4f ms: %.1fx faster (target: <= 0.1 ms, >= 10x)\n", a, b, b / a }'
  for w in cuda_mlp_big_sgd cuda_mlp_big_sgd_tf32; do
    a=$(value $w "$ours") b=$(value $w "$theirs")
    awk -v w="$w" -v a="$a" -v b="$b" 'BEGIN { printf "%s: gradboard %.1f TFLOP/s, PyTorch %.1f: %.3fx (target >= 0.95x)\n", w, a, b, a / b }'
  done
  ;;
*) echo "unknown stage $stage"; exit 2 ;;
esac
echo "== stage $stage: $([ $failed = 0 ] && echo passed || echo FAILED)"
exit $failed
