#!/usr/bin/env bash
# Where a path-step's time goes, part by part: samples `capsim run` of the
# baseline with perf, and counts each sampled instruction for the part of the
# step that its outermost capsim source line belongs to (bench/attribute.awk;
# the kernel's parts are its numbered sections in sim/src/step_kernel.cpp).
# Time in the maths library (exp, log, pow) and other libraries is counted by
# symbol.
#
# Usage: bench/profile-breakdown.sh [BUILD_DIR]   (default: build-prof)
#   BUILD_DIR must be a Release build with line tables:
#     cmake -S . -B build-prof -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g
#     cmake --build build-prof --target capsim
#   (-g adds line tables only; the code is the same as without it).
# Environment: PATHS (default 10000), THREADS (default 1).
# Needs perf (Debian package linux-perf) and addr2line (binutils).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${1:-$top/build-prof}
capsim=$build/capsim
paths=${PATHS:-10000}
threads=${THREADS:-1}

for tool in perf addr2line; do
  if ! command -v "$tool" > /dev/null; then
    echo "profile-breakdown.sh: $tool not found (apt-get install linux-perf binutils)" >&2
    exit 2
  fi
done
if [[ ! -x $capsim ]]; then
  echo "profile-breakdown.sh: $capsim not found; see the usage at the top of this script" >&2
  exit 2
fi
capsim=$(cd "$(dirname "$capsim")" && pwd)/capsim  # perf names it by its absolute path

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
perf record -q -o "$work/perf.data" "$capsim" run "$top/scenarios/msft-japan-2024.yaml" \
  --paths "$paths" --threads "$threads" --quiet -o "$work/run.h5" > /dev/null

# Load address of capsim's code: sample addresses minus it plus the mapping's
# file offset are the addresses addr2line knows.
read -r start offset < <(perf script -i "$work/perf.data" --show-mmap-events 2> /dev/null |
  awk -v exe="$capsim" 'index($0, "r-xp " exe) {
    match($0, /\[0x[0-9a-f]+\(/); start = substr($0, RSTART + 1, RLENGTH - 2)
    match($0, /@ 0x[0-9a-f]+ /); offset = substr($0, RSTART + 2, RLENGTH - 3)
    print start, offset; exit }')
if [[ -z ${start:-} ]]; then
  echo "profile-breakdown.sh: perf recorded no mapping of $capsim" >&2
  exit 1
fi
perf script -i "$work/perf.data" -F ip,dso 2> /dev/null | awk '{ print $1, $2 }' | sort |
  uniq -c > "$work/ips"
total=$(awk '{ s += $1 } END { print s }' "$work/ips")
grep -F "($capsim)" "$work/ips" | while read -r count ip _; do
  printf '%s 0x%x\n' "$count" $((0x$ip - start + offset))
done > "$work/capsim-ips"
awk '{ print $2 }' "$work/capsim-ips" | addr2line -i -f -a -e "$capsim" > "$work/lines"

{
  awk -f "$here/attribute.awk" "$top/sim/src/step_kernel.cpp" "$work/capsim-ips" "$work/lines"
  # Libraries, by symbol.
  perf report -i "$work/perf.data" --stdio --sort dso,sym 2> /dev/null |
    awk -v exe="$(basename "$capsim")" -v total="$total" '
      /^ +[0-9.]+%/ && $2 != exe {
        share = $1; sub(/%/, "", share); n = share / 100 * total
        if ($4 ~ /exp|log|pow|sin|cos/) part = "random: maths library (exp, log, pow)"
        else part = "other libraries (libc, HDF5, zlib, kernel)"
        s[part] += n
      }
      END { for (p in s) printf "%d\t%s\n", s[p], p }'
} | awk -F'\t' -v total="$total" -v paths="$paths" -v threads="$threads" '
  { s[$2] += $1; sum += $1 }
  END {
    printf "part,samples,share (%d paths, %d thread(s), %d samples)\n", paths, threads, total
    n = asorti_fallback(s, order)
    for (i = 1; i <= n; ++i) printf "%s,%d,%.1f %%\n", order[i], s[order[i]], 100 * s[order[i]] / total
  }
  function asorti_fallback(a, out,   k, i, j, t, n) {  # keys by value, largest first
    n = 0
    for (k in a) out[++n] = k
    for (i = 2; i <= n; ++i)
      for (j = i; j > 1 && a[out[j]] > a[out[j - 1]]; --j) { t = out[j]; out[j] = out[j - 1]; out[j - 1] = t }
    return n
  }'
