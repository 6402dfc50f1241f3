#!/usr/bin/env bash
# make demo: trains Fashion-MNIST and the seed example into runs/, then serves TensorBoard.
#   tools/demo.sh BUILD_DIR PYTHON          (DEMO_SERVE=0 skips serving; DEMO_PORT, default 6006)
#   extra arguments for fashion_mnist go in DEMO_ARGS, e.g. DEMO_ARGS="--epochs 5"
set -euo pipefail
build=${1:?build directory}
python=${2:?python of the venv}
serve=${DEMO_SERVE:-1}
port=${DEMO_PORT:-6006}

stamp=$(date +%Y%m%d-%H%M%S)
fm_logdir=runs/fashion_mnist/$stamp
echo "== fashion_mnist: an MLP 784-384-192-10 on Fashion-MNIST, logged to $fm_logdir"
output=$(mktemp)
trap 'rm -f "$output"' EXIT
# shellcheck disable=SC2086  # DEMO_ARGS is a list of options
"$build/examples/fashion_mnist" --logdir "$fm_logdir" ${DEMO_ARGS:-} | tee "$output"

echo
echo "== seed_optimize: minimising x^2 + x - 1 by gradient descent, logged to runs/seed_optimize"
rm -rf runs/seed_optimize
"$build/examples/seed_optimize" runs/seed_optimize | tail -3

echo
"$build/tools/gradboard" events "$fm_logdir" | head -12
echo
checkpoint=$("$build/tools/gradboard" ckpt latest "$fm_logdir")
echo "== result"
grep '^final test accuracy' "$output"
echo "checkpoint: $checkpoint"
echo "  inspect:  $build/tools/gradboard ckpt ls $checkpoint"
echo "  evaluate: $build/examples/fashion_mnist --eval-only --logdir $fm_logdir"

if [ "$serve" = "0" ]; then
  echo "TensorBoard not started (DEMO_SERVE=0). Later: $(dirname "$python")/tensorboard --logdir runs"
  exit 0
fi
echo
echo "== TensorBoard on http://127.0.0.1:$port/  (Ctrl-C ends it)"
exec "$(dirname "$python")/tensorboard" --logdir runs --host 127.0.0.1 --port "$port"
