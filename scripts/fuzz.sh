#!/usr/bin/env bash
# Fuzzes the scenario loader and its --set overrides with libFuzzer (clang,
# ASan + UBSan) for N seconds (default 60) over a seed corpus made of
# scenarios/, tests/bad/ and fuzz/seeds/ (lines "#set key=value" of an input
# are also given as --set; see fuzz/scenario_loader_fuzz.cpp).
#   bash scripts/fuzz.sh [SECONDS]
# Any crash is saved as build-fuzz/crash-* and the script fails; turn it into
# a tests/bad/ case once fixed. Set FUZZ_BUILD_DIR to build elsewhere.
# Warnings are not errors here: clang warns about things GCC (the project's
# compiler) does not, and this build is for finding crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAPSIM_BUILD_TESTS=OFF -DCAPSIM_FUZZ=ON -DCAPSIM_SANITIZE=ON -DCAPSIM_WERROR=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
cmake --build "$build" -j2 --target capsim_fuzz_loader

# Seeds: every scenario and bad case, flattened into one folder; `extend:`
# targets resolve there (catalogs keep their own folder name).
seeds="$build/fuzz-seeds"
corpus="$build/fuzz-corpus"
rm -rf "$seeds"
mkdir -p "$seeds/catalog" "$corpus"
cp scenarios/catalog/*.yaml "$seeds/catalog/"
find scenarios tests/scenarios tests/bad fuzz/seeds -name '*.yaml' -print0 |
  while IFS= read -r -d '' f; do cp "$f" "$seeds/$(echo "$f" | tr '/' '_')"; done
cp scenarios/catalog/*.yaml tests/scenarios/base-and-extend/base.yaml "$seeds/"
# tests/bad cases extend ../scenarios/*.yaml
rm -rf "$build/scenarios" && cp -r tests/scenarios "$build/scenarios"

cd "$build"
CAPSIM_FUZZ_BASE_DIR="$PWD/fuzz-seeds" \
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ./capsim_fuzz_loader -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 fuzz-corpus fuzz-seeds
