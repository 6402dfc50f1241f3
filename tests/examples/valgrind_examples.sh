#!/usr/bin/env bash
# Every example under valgrind (memcheck): no invalid access, no uninitialised value used, and
# no memory lost (definite or indirect leaks; the OpenBLAS and engine worker threads live for the
# whole process, and valgrind reports their blocks as "still reachable" or "possibly lost"). fashion_mnist runs on a 300-image slice of the
# dataset so it finishes in seconds.
#   valgrind_examples.sh EXAMPLES_DIR
set -euo pipefail
examples=$(cd "$1" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gradboard-valgrind-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

python3 - "$scratch/data" <<'PY'
import gzip, os, struct, sys
src, out = "/usr/share/datasets/fashion-mnist", sys.argv[1]
os.makedirs(out)
for split, count in (("train", 256), ("t10k", 64)):
    images = gzip.open(f"{src}/{split}-images-idx3-ubyte.gz").read()
    labels = gzip.open(f"{src}/{split}-labels-idx1-ubyte.gz").read()
    with gzip.open(f"{out}/{split}-images-idx3-ubyte.gz", "wb") as f:
        f.write(images[:4] + struct.pack(">I", count) + images[8:16] + images[16:16 + count * 784])
    with gzip.open(f"{out}/{split}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(labels[:4] + struct.pack(">I", count) + labels[8:8 + count])
PY

failed=0
check() { # name, command...
  local name=$1
  shift
  if valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
       --errors-for-leak-kinds=definite,indirect --track-origins=yes "$@" > "$scratch/$name.out" 2> "$scratch/$name.err"; then
    echo "ok      $name"
  else
    echo "FAILED  $name (exit $?)"
    cat "$scratch/$name.err"
    failed=1
  fi
}
cd "$scratch"
check seed_gradients "$examples/seed_gradients"
check seed_optimize "$examples/seed_optimize" "$scratch/seed_optimize"
check linear_regression "$examples/linear_regression" "$scratch/linear_regression"
check triangle "$examples/triangle" "$scratch/triangle"
check log_scalars "$examples/log_scalars" "$scratch/log_scalars"
check fashion_mnist "$examples/fashion_mnist" --data "$scratch/data" --epochs 2 --layers 32,16 --batch 64 \
  --no-progress --logdir "$scratch/fashion_mnist"
check fashion_mnist_eval "$examples/fashion_mnist" --data "$scratch/data" --eval-only --layers 32,16 \
  --logdir "$scratch/fashion_mnist"
exit $failed
