#!/usr/bin/env bash
# Screenshots of TensorBoard's pages for the README, from a real demo run in runs/:
#   make demo DEMO_SERVE=0 && tools/screenshots.sh        (needs Debian's chromium)
set -euo pipefail
port=${PORT:-6123}
out=${OUT:-docs}
command -v chromium >/dev/null || { echo "screenshots: install Debian's chromium first" >&2; exit 1; }
mkdir -p "$out"
.venv/bin/tensorboard --logdir runs --host 127.0.0.1 --port "$port" >/dev/null 2>&1 &
tb=$!
trap 'kill $tb' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/data/runs" >/dev/null && break; sleep 1; done
shot() {  # PAGE FILE
  timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 \
    --virtual-time-budget=20000 --screenshot="$2" "http://127.0.0.1:$port/?darkMode=false#$1" >/dev/null 2>&1
  echo "wrote $2"
}
run=$(ls -d runs/fashion_mnist/* | tail -1)
shot "timeseries" "$out/demo-scalars.png"
shot "graphs&run=fashion_mnist%2F$(basename "$run")" "$out/demo-graph.png"
