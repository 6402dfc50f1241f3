#!/usr/bin/env bash
# pack.sh BUILD_DIR OUT_DIR: what tools/gpu/run_checks.sh needs on the GPU machine, which has the
# NVIDIA driver, the CUDA toolkit, PyTorch and TensorBoard but none of our Debian libraries and no
# network: the engine's test programs, the examples, bench_cuda and the gradboard CLI (stripped),
# every library they need that the machine lacks (../shared/tools/device-bundle finds them), in
# one tar.xz, and the Fashion-MNIST files. Name OUT_DIR (git-ignored, e.g. .device) in the
# device tool's `carry` (64 MiB at most).
set -euo pipefail
build=$(cd "$1" && pwd) out=$2
here=$(cd "$(dirname "$0")" && pwd)
bundler=${GB_DEVICE_BUNDLE:-$here/../../../shared/tools/device-bundle}
stage=$(mktemp -d "${TMPDIR:-/tmp}/gradboard-gpu-XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/build/tests/engine" "$stage/build/examples" "$stage/build/tools/bench"
for f in "$build"/tests/engine/test_*; do [ -x "$f" ] && cp "$f" "$stage/build/tests/engine/"; done
cp "$build"/examples/{fashion_mnist,seed_optimize,seed_gradients} "$stage/build/examples/"
cp "$build"/tools/bench/bench_cuda "$stage/build/tools/bench/"
cp "$build"/tools/gradboard "$stage/build/tools/"
find "$stage/build" -type f -exec strip --strip-debug {} \;
rm -rf "$out"
"$bundler" "$stage/build" "$stage/bundle" > /dev/null
mkdir -p "$out/data"
tar -C "$stage/bundle" -cJf "$out/bundle.tar.xz" build lib
cp /usr/share/datasets/fashion-mnist/*.gz "$out/data/"
echo "packed for the GPU machine: $(du -sh "$out" | cut -f1) in $out (build: $build)"
