#!/usr/bin/env bash
# make bench: gradboard against the Python tools users compare it with, every ratio measured in
# this run: the event writer and reader (tensorboardX, torch.utils.tensorboard, TensorBoard's
# loader), histogram and image summaries (torch), checkpoints (TensorFlow), the engine and the
# Fashion-MNIST epoch (PyTorch).   tools/bench/run.sh BUILD_DIR PYTHON   (the table is also saved
# in BUILD_DIR/bench-results.txt)
set -euo pipefail
build=$1 python=$2
exec > >(tee "$build/bench-results.txt") 2>&1
"$python" -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements.txt"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gradboard-bench-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
scalars=${BENCH_SCALARS:-5000000}
python_scalars=${BENCH_PYTHON_SCALARS:-100000}

echo "gradboard $("$build"/tools/gradboard --version | cut -d' ' -f2), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), files in $scratch"
ours=$("$build"/tools/bench/bench_writer "$scratch/gb" "$build/tools/gradboard" "$scalars")
theirs=$("$python" "$(dirname "$0")/bench_python_writers.py" "$scratch" "$python_scalars" 2>"$scratch/python.err")
echo "$ours"
echo "$theirs"
echo
rate() { awk -v n="$1" '$1 == n { print $2 }' <<< "$2"; }
ours_rate=$(rate write_scalar "$ours")
printf '%-44s %14s %10s\n' "measurement" "per second" "ratio"
printf '%-44s %14.0f %10s\n' "gradboard gb_summary_scalar (scalars)" "$ours_rate" "1"
printf '%-44s %14.0f %10s\n' "gradboard gb_summary_scalars, 8 per event" "$(rate write_scalars8 "$ours")" ""
for writer in tensorboardX torch_tensorboard; do
  r=$(rate "$writer" "$theirs")
  [ -n "$r" ] && printf '%-44s %14.0f %9.0fx\n' "$writer add_scalar (gradboard is faster by)" "$r" \
    "$(awk -v a="$ours_rate" -v b="$r" 'BEGIN { print a / b }')"
done
sed "s/^/note: /" "$scratch/python.err" >&2

# ---- reading the one-tag file back: gradboard events against TensorBoard's Python loader ----
echo
one_tag_file=$(awk '$1 == "one_tag_file" { print $2 }' <<< "$ours")
readers=$("$python" "$(dirname "$0")/bench_python_readers.py" "$one_tag_file" "${BENCH_PYTHON_EVENTS:-200000}" 2>/dev/null)
echo "$readers"
printf '%-44s %14s %14s %10s\n' "reading (per second)" "gradboard" "TensorBoard" "faster by"
for pair in "check tb_raw_loader records: CRCs, framing" "read_events tb_event_loader events: parsed, values"; do
  set -- $pair
  a=$(rate "$1" "$ours") b=$(rate "$2" "$readers")
  printf '%-44s %14.0f %14.0f %9.0fx\n' "${*:3}" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
done

# ---- histogram and image summaries against torch.utils.tensorboard ----
echo
ours_s=$("$build"/tools/bench/bench_summaries "$scratch/gb_summaries")
theirs_s=$("$python" "$(dirname "$0")/bench_summaries_torch.py" "$scratch/torch_summaries" 2>/dev/null)
echo "$ours_s"
echo "$theirs_s"
printf '%-44s %14s %14s %10s\n' "summary (time per call)" "gradboard" "torch" "faster by"
for k in histogram_1m image_256; do
  a=$(rate $k "$ours_s") b=$(rate $k "$theirs_s")
  printf '%-44s %11.3f ms %11.3f ms %9.1fx\n' "$k" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
done

# ---- checkpoints against TensorFlow's saver (in the page cache: /dev/shm when there is one) ----
echo
ckpt_dir=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo "$scratch")/gradboard-ckpt-XXXXXX")
printf '%-44s %14s %14s %10s\n' "checkpoint (MB/s, higher is better)" "gradboard" "TensorFlow" "ratio"
for mb in 100 1024; do
  ours_c=$("$build"/tools/bench/bench_checkpoint "$ckpt_dir" $mb)
  rm -f "$ckpt_dir"/*
  theirs_c=$(TF_CPP_MIN_LOG_LEVEL=3 "$python" "$(dirname "$0")/bench_checkpoint_tf.py" "$ckpt_dir" $mb 2>/dev/null)
  rm -f "$ckpt_dir"/*
  for k in save_${mb}mb restore_${mb}mb; do
    a=$(rate $k "$ours_c") b=$(rate $k "$theirs_c")
    printf '%-44s %14.0f %14.0f %9.2fx\n' "$k" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
  done
  printf '%-44s %14.0f %14s %10s\n' "save_${mb}mb, durable (fsync; TensorFlow has none)" "$(rate save_durable_${mb}mb "$ours_c")" "-" ""
done
rm -rf "$ckpt_dir"

# ---- the engine against PyTorch (eager, CPU), same thread count ----
threads=${BENCH_THREADS:-$(nproc)}
rounds=${BENCH_ROUNDS:-5}
echo
echo "engine vs PyTorch, $threads threads (OpenBLAS and torch), $rounds interleaved rounds, best of each"
engine="" torch="" big_pairs="" gemm_shares=""
for round in $(seq "$rounds"); do
  e=$(OPENBLAS_NUM_THREADS=$threads "$build"/tools/bench/bench_engine)
  t=$(BENCH_THREADS=$threads "$python" "$(dirname "$0")/bench_engine_torch.py")
  engine+=$e$'\n' torch+=$t$'\n'
  # a round's own pair, taken minutes apart at most: the big MLP's throughput ratio and the
  # engine's GEMM rate over OpenBLAS's in that round (the machine's speed drifts between rounds)
  big_pairs+=$(awk -v a="$(rate mlp_big_sgd "$e")" -v b="$(rate mlp_big_sgd "$t")" 'BEGIN { printf "%.3f", b / a }')$'\n'
  gemm_shares+=$(awk -v a="$(rate big_mlp_rate "$e")" -v b="$(rate sgemm_rate "$e")" 'BEGIN { printf "%.3f", a / b }')$'\n'
done
echo "$engine"
echo "$torch"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# the best (lowest) time of each workload over the rounds; rates: the best (highest)
value() { awk -v n="$1" '$1 == n { v = $2; if (best == "" || (n ~ /rate|samples/ ? v > best : v < best)) best = v } END { print best }' <<< "$2"; }
printf '%-40s %14s %14s %12s\n' "workload" "gradboard" "PyTorch" "time ratio"
for w in seed_step mlp_small_adam mlp_big_sgd init_glorot_uniform init_glorot_normal; do
  a=$(value $w "$engine") b=$(value $w "$torch")
  unit=$(awk -v n="$w" '$1 == n { print $3; exit }' <<< "$engine")
  printf '%-40s %11.3f %-2s %11.3f %-2s %11.3fx\n' "$w (lower is better)" "$a" "$unit" "$b" "$unit" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
done
printf '%-40s %14.2f %14s %11.1f%%\n' "big MLP GEMM rate vs OpenBLAS (GFLOP/s)" "$(value big_mlp_rate "$engine")" \
  "$(value sgemm_rate "$engine")" "$(awk -v a="$(value big_mlp_rate "$engine")" -v b="$(value sgemm_rate "$engine")" 'BEGIN { print 100 * a / b }')"
# the pairs themselves: the best of each side can come from different rounds, and PyTorch's step
# and ours each drift by 5-10% from one round to the next on this shared machine
printf '%-40s %14s %14s %12s\n' "big MLP, round by round" "" "" "median"
printf '%-40s %29s %11.3fx\n' "  throughput ratio (PyTorch time / ours)" "$(echo $big_pairs)" "$(median <<< "$big_pairs")"
printf '%-40s %29s %11.1f%%\n' "  GEMM rate vs OpenBLAS, same round" "$(echo $gemm_shares)" \
  "$(awk -v m="$(median <<< "$gemm_shares")" 'BEGIN { print 100 * m }')"
# what is left of the gap: the BLAS each side multiplies with (OpenBLAS here, MKL in PyTorch's wheel)
printf '%-40s %14.2f %14.2f %11.1f%%\n' "GEMMs alone: OpenBLAS vs PyTorch's BLAS" "$(value sgemm_rate "$engine")" \
  "$(value sgemm_rate "$torch")" "$(awk -v a="$(value sgemm_rate "$engine")" -v b="$(value sgemm_rate "$torch")" 'BEGIN { print 100 * a / b }')"

# ---- Fashion-MNIST: one epoch of the demo's model against PyTorch training the same model ----
echo
fm_rounds=${BENCH_FASHION_ROUNDS:-2}
fm_ours="" fm_torch=""
for round in $(seq "$fm_rounds"); do
  rm -rf "$scratch/fm"
  fm_ours+=$(OPENBLAS_NUM_THREADS=$threads "$build"/examples/fashion_mnist --epochs 2 --no-progress --logdir "$scratch/fm" \
    | awk '/^epoch/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "s") print "epoch_seconds", $i }')$'\n'
  fm_torch+=$(BENCH_THREADS=$threads "$python" "$(dirname "$0")/bench_fashion_torch.py" /usr/share/datasets/fashion-mnist 2)$'\n'
done
echo "$fm_torch" | grep -v epoch_seconds | sort -u | grep .
printf '%-44s %14s %14s %10s\n' "Fashion-MNIST epoch (784-384-192-10, Adam)" "gradboard" "PyTorch" "time ratio"
a=$(value epoch_seconds "$fm_ours") b=$(value epoch_seconds "$fm_torch")
printf '%-44s %12.2f s %12.2f s %9.2fx\n' "training epoch, 468 steps of 128" "$a" "$b" \
  "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
