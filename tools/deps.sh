#!/usr/bin/env bash
# Installs the Debian packages gradboard needs (only those missing), with sudo when not root.
#   tools/deps.sh            the build and test dependencies
#   tools/deps.sh PKG...     those plus extra packages (CI adds clang for the sanitizer build)
set -euo pipefail

packages=(
  build-essential cmake pkg-config            # compiler and build
  protobuf-c-compiler libprotobuf-c-dev       # protoc-c and libprotobuf-c
  zlib1g-dev                                  # PNG images, IDX datasets
  libopenblas-dev                             # the engine's CPU matmul
  libsnappy-dev                               # Snappy blocks in TensorFlow-written checkpoints
  libcriterion-dev                            # unit tests
  valgrind                                    # the examples under memcheck
  dataset-fashion-mnist                       # the demo's data (IDX files)
  python3 python3-venv                        # the venv for the interop tests (tensorboard)
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "deps: missing Debian packages: ${missing[*]}" >&2
  echo "deps: not root and no sudo; install them with: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
