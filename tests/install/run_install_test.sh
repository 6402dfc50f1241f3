#!/usr/bin/env bash
# run_install_test.sh BUILD_DIR WORK_DIR [CONFIG]
#
# Installs the build in BUILD_DIR into WORK_DIR/prefix, checks what was installed, then builds the
# programs in consumer/ against that tree the ways an outside project would and runs them:
#   1. CMake, find_package(gradboard) through CMAKE_PREFIX_PATH: shared, then static libraries;
#   2. pkg-config through PKG_CONFIG_PATH: shared, then static libraries.
# consumer_log links the logger alone, consumer_train and cpp_consumer (C++) the whole library.
# Environment: CC, CXX (compilers), CMAKE (cmake), GB_GENERATOR (CMake generator, optional).
set -euo pipefail

build=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
config=${3:-}
consumer=$(cd "$(dirname "$0")/consumer" && pwd)
cc=${CC:-cc}
cxx=${CXX:-c++}
cmake=${CMAKE:-cmake}
prefix=$work/prefix

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

rm -rf "$work"/*

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" ${config:+--config "$config"} > "$work/install.log" \
  || { cat "$work/install.log"; fail "cmake --install"; }

# The library directory GNUInstallDirs chose (lib, lib64 or lib/<multiarch>).
libdir=$(dirname "$(find "$prefix" -name gradboard.pc -path '*/pkgconfig/*' | head -1)")
libdir=${libdir%/pkgconfig}
[ -d "$libdir" ] || fail "no pkgconfig/gradboard.pc installed"

step "installed files"
for f in include/gradboard/summary.h include/gradboard/engine.h include/gradboard/version.h; do
  [ -f "$prefix/$f" ] || fail "missing $f"
done
for lib in gradboard_summary gradboard_engine; do
  [ -f "$libdir/lib$lib.a" ] || fail "missing lib$lib.a"
  [ -L "$libdir/lib$lib.so" ] || fail "missing lib$lib.so (development link)"
  soname=$(readelf -d "$libdir/lib$lib.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
  [ -e "$libdir/$soname" ] || fail "lib$lib.so: soname '$soname' is not installed"
  # Only gb_* is exported; the protobuf-c code and everything else stays inside.
  others=$(nm -D --defined-only "$libdir/lib$lib.so" | awk 'NF == 3 && $3 !~ /^gb_/ {print $3}')
  [ -z "$others" ] || fail "lib$lib.so exports symbols outside gb_*: $others"
done
for f in gradboardConfig.cmake gradboardConfigVersion.cmake; do
  [ -f "$libdir/cmake/gradboard/$f" ] || fail "missing cmake/gradboard/$f"
done
[ -f "$libdir/pkgconfig/gradboard-summary.pc" ] || fail "missing gradboard-summary.pc"

step "public headers: self-contained, C and C++, no private includes"
headers=("$prefix"/include/gradboard/*.h)
for h in "${headers[@]}"; do
  name=$(basename "$h")
  grep -q '^#ifdef __cplusplus' "$h" && grep -q 'extern "C" {' "$h" || fail "$name has no extern \"C\" guard"
  # Every gradboard header it includes is installed too (nothing from internal/ or the build).
  for inc in $(sed -n 's/^#include [<"]\(gradboard\/[^>"]*\)[>"].*/\1/p' "$h"); do
    [ -f "$prefix/include/$inc" ] || fail "$name includes $inc, which is not installed"
  done
  if grep -Eq '^#include [<"](protobuf-c/|.*\.pb-c\.h|internal/|zlib\.h|cblas\.h|snappy)' "$h"; then
    fail "$name includes a private or third-party header"
  fi
  echo "#include <gradboard/$name>" > "$work/hdr_$name.c"
  cp "$work/hdr_$name.c" "$work/hdr_$name.cpp"
done
# Each header alone, in C and in C++, two compilers at a time.
printf '%s\n' "${headers[@]##*/}" | xargs -P 2 -I{} sh -c '
  "$1" -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$3/include" "$4/hdr_{}.c" &&
  "$2" -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$3/include" "$4/hdr_{}.cpp"' \
  sh "$cc" "$cxx" "$prefix" "$work" || fail "a public header does not compile on its own"

# Runs the three programs in directory $1 (writing their runs under $2).
run_programs() {
  for exe in consumer_log consumer_train cpp_consumer; do
    "$1/$exe" "$2/$exe" || fail "$1/$exe exited with $?"
  done
}
# Fails when executable $1 needs (or does not need) a shared gradboard library: $2 is the list
# of gradboard libraries expected in its DT_NEEDED entries.
needs() {
  local got
  got=$(readelf -d "$1" | sed -n 's/.*NEEDED.*\[\(libgradboard[^.]*\)\..*/\1/p' | sort | tr '\n' ' ')
  [ "$got" = "$2" ] || fail "$1 needs '$got', expected '$2'"
}

generator=()
[ -n "${GB_GENERATOR:-}" ] && generator=(-G "$GB_GENERATOR")
for kind in shared static; do
  step "CMake find_package(gradboard), $kind libraries"
  dir=$work/cmake-$kind
  static=OFF
  [ $kind = static ] && static=ON
  CC=$cc CXX=$cxx "$cmake" -S "$consumer" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -Dgradboard_USE_STATIC_LIBS=$static > "$work/cmake-$kind.log" 2>&1 \
    || { cat "$work/cmake-$kind.log"; fail "configuring the consumer ($kind)"; }
  grep -q "^gradboard_DIR:PATH=$libdir/cmake/gradboard\$" "$dir/CMakeCache.txt" \
    || fail "find_package found another gradboard: $(grep ^gradboard_DIR "$dir/CMakeCache.txt")"
  "$cmake" --build "$dir" >> "$work/cmake-$kind.log" 2>&1 \
    || { cat "$work/cmake-$kind.log"; fail "building the consumer ($kind)"; }
  if [ $kind = shared ]; then
    needs "$dir/consumer_log" "libgradboard_summary "
    needs "$dir/consumer_train" "libgradboard_engine libgradboard_summary "
  else
    needs "$dir/consumer_log" ""
    needs "$dir/consumer_train" ""
  fi
  run_programs "$dir" "$work/runs-cmake-$kind"
done

export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
[ "$(pkg-config --variable=prefix gradboard)" = "$prefix" ] || fail "gradboard.pc has the wrong prefix"
[ "$(pkg-config --modversion gradboard)" = "$(pkg-config --modversion gradboard-summary)" ] \
  || fail "gradboard.pc and gradboard-summary.pc disagree on the version"

step "pkg-config, shared libraries"
dir=$work/pc-shared
mkdir -p "$dir"
rpath=-Wl,-rpath,$libdir
# shellcheck disable=SC2046  # pkg-config output is a list of words
{
  "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -o "$dir/consumer_log" "$consumer/log_scalars.c" \
    $(pkg-config --cflags --libs gradboard-summary) -lm "$rpath"
  "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -o "$dir/consumer_train" "$consumer/train.c" \
    $(pkg-config --cflags --libs gradboard) "$rpath"
  "$cxx" -std=c++17 -Wall -Wextra -Werror -pedantic -o "$dir/cpp_consumer" "$consumer/cpp_consumer.cpp" \
    $(pkg-config --cflags --libs gradboard) "$rpath"
} || fail "building with pkg-config (shared)"
needs "$dir/consumer_log" "libgradboard_summary "
run_programs "$dir" "$work/runs-pc-shared"

# The static archives by their -l names, then what `pkg-config --static` says they need: this
# checks Requires.private and Libs.private.
step "pkg-config --static, static libraries"
dir=$work/pc-static
mkdir -p "$dir"
static_libs() {
  echo "-L$libdir -Wl,-Bstatic $(pkg-config --libs-only-l "$1" | grep -o -- '-lgradboard_[a-z]*' | tr '\n' ' ') -Wl,-Bdynamic"
  pkg-config --static --libs "$1" | sed 's/-lgradboard_[a-z]*//g'
}
# shellcheck disable=SC2046
{
  "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -o "$dir/consumer_log" "$consumer/log_scalars.c" \
    $(pkg-config --cflags gradboard-summary) $(static_libs gradboard-summary) -lm
  "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -o "$dir/consumer_train" "$consumer/train.c" \
    $(pkg-config --cflags gradboard) $(static_libs gradboard)
  "$cxx" -std=c++17 -Wall -Wextra -Werror -pedantic -o "$dir/cpp_consumer" "$consumer/cpp_consumer.cpp" \
    $(pkg-config --cflags gradboard) $(static_libs gradboard)
} || fail "building with pkg-config --static"
needs "$dir/consumer_log" ""
needs "$dir/consumer_train" ""
run_programs "$dir" "$work/runs-pc-static"

echo "install test passed"
