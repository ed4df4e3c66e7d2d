#!/usr/bin/env bash
# Runs the benchmark series of SPEC 8 and writes CSV files to bench/results/:
#
#   paths.csv, kernel.csv      run / bare kernel of the baseline, paths x threads
#   steps.csv                  daily and hourly steps over several horizons
#   regions.csv, skus.csv, classes.csv   generated scenarios
#   end_to_end.csv, sweep.csv  the SPEC 8 "under 1 s" figure, 20-point sweep
#   memory.csv                 `capsim run` under /usr/bin/time -v: 1,000,000
#                              paths, and a fixed number of paths over longer
#                              horizons (memory must not grow with steps)
#   breakdown.csv              where a path-step's time goes (see README.md)
#   fits.txt                   log-log slopes of time in paths and in steps
#   raw-*.csv                  Google Benchmark's own CSV output
#
# Series CSV columns: series,paths,steps,regions,skus,classes,threads,
#   path_steps_per_s,ns_per_path_step,peak_rss_mb,bytes_per_path,ms_per_run,
#   cpu_ms_per_run (CPU time of the main thread: on a shared machine, a check
#   on the wall figures)
#
# Usage: bench/run-series.sh [BUILD_DIR]      (default: build-bench)
# Environment: MAX_PATHS (default 100000) ends the series in paths;
#   MEMORY_PATHS (default 1000000; 0 skips the memory run); MIN_TIME
#   (seconds per benchmark, default 0.5); ONLY (a regular expression of
#   series names to run, e.g. 'paths|steps'; default all).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${1:-$top/build-bench}
bench=$build/capsim_bench
capsim=$build/capsim
out=$here/results
max_paths=${MAX_PATHS:-100000}
memory_paths=${MEMORY_PATHS:-1000000}
min_time=${MIN_TIME:-0.5}
only=${ONLY:-.}
mkdir -p "$out"

if [[ ! -x $bench ]]; then
  echo "run-series.sh: $bench not found; configure with -DCAPSIM_BUILD_BENCH=ON and build" >&2
  exit 2
fi

header="series,paths,steps,regions,skus,classes,threads,path_steps_per_s,ns_per_path_step,peak_rss_mb,bytes_per_path,ms_per_run,cpu_ms_per_run"

# raw NAME FILTER: runs the benchmarks matching FILTER into raw-NAME.csv.
raw() {
  echo "== $1" >&2
  "$bench" --max-paths="$max_paths" --benchmark_filter="$2" \
    --benchmark_min_time="$min_time" \
    --benchmark_out="$out/raw-$1.csv" --benchmark_out_format=csv >&2
  # keep the table only (the context lines name the machine and its paths)
  awk '/^name,/ { table = 1 } table' "$out/raw-$1.csv" > "$out/raw-$1.csv.tmp"
  mv "$out/raw-$1.csv.tmp" "$out/raw-$1.csv"
}

# series NAME: converts raw-NAME.csv to NAME.csv (one row per benchmark).
series() {
  awk -F, -v series="$1" -v header="$header" '
    /^name,/ {
      started = 1
      for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); col[$i] = i }
      print header; next
    }
    !started { next }
    {
      if (col["error_occurred"] && $col["error_occurred"] == "true") next
      unit = $col["time_unit"]
      scale = unit == "ns" ? 1e-6 : unit == "us" ? 1e-3 : unit == "ms" ? 1 : 1000
      printf "%s,%d,%d,%d,%d,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", series,
        $col["paths"], $col["steps"], $col["regions"], $col["skus"], $col["classes"],
        $col["threads"], $col["path_steps_per_s"], $col["time_per_path_step"] * 1e9,
        $col["peak_rss_mb"], $col["bytes_per_path"], $col["real_time"] * scale, $col["cpu_time"] * scale
    }' "$out/raw-$1.csv" > "$out/$1.csv"
}

run_series() { # NAME FILTER
  [[ $1 =~ $only ]] || return 0
  raw "$1" "$2"
  series "$1"
}

run_series paths '^run/baseline/'
run_series kernel '^kernel/baseline/'
run_series requests '^run/requests/'
run_series kernel-requests '^kernel/requests/'
if [[ steps =~ $only ]]; then
  raw steps-daily "^scale/steps/step_hours:24/"
  raw steps-hourly "^scale/steps/step_hours:1/"
  series steps-daily
  series steps-hourly
  { cat "$out/steps-daily.csv"; tail -n +2 "$out/steps-hourly.csv"; } > "$out/steps.csv"
  rm -f "$out/steps-daily.csv" "$out/steps-hourly.csv"
fi
run_series regions '^scale/regions/'
run_series skus '^scale/skus/'
run_series classes '^scale/classes/'
run_series end_to_end '^end_to_end/'
run_series sweep '^sweep20/'
if [[ breakdown =~ $only ]]; then
  for part in breakdown/kernel breakdown/classes stats/column_stats output/hdf5 ceiling/fma rng/normal2; do
    raw "${part//\//-}" "^$part/"
  done
fi

# fit FILE X-COLUMN GROUP-COLUMN [Y-COLUMN]: least squares of log(Y) (default
# ms_per_run, the wall time) on log(X) per group; prints slope, R^2 and the largest deviation of
# ns_per_path_step from its mean in the group.
fit() {
  awk -F, -v xname="$2" -v gname="$3" -v yname="${4:-ms_per_run}" -v file="$(basename "$1")" '
    NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
    {
      g = $col[gname]; x = log($col[xname]); y = log($col[yname]); c = $col[yname] / ($col["paths"] * $col["steps"])
      n[g]++; sx[g] += x; sy[g] += y; sxx[g] += x * x; sxy[g] += x * y; syy[g] += y * y
      sc[g] += c; cs[g, n[g]] = c
    }
    END {
      for (g in n) {
        if (n[g] < 2) continue
        d = n[g] * sxx[g] - sx[g] * sx[g]
        b = (n[g] * sxy[g] - sx[g] * sy[g]) / d
        a = (sy[g] - b * sx[g]) / n[g]
        ss = syy[g] - sy[g] * sy[g] / n[g]
        res = 0
        # residual sum of squares from the sums
        res = syy[g] - 2 * a * sy[g] - 2 * b * sxy[g] + n[g] * a * a + 2 * a * b * sx[g] + b * b * sxx[g]
        r2 = ss > 0 ? 1 - res / ss : 1
        mean = sc[g] / n[g]; dev = 0
        for (i = 1; i <= n[g]; ++i) { e = cs[g, i] / mean - 1; if (e < 0) e = -e; if (e > dev) dev = e }
        printf "%s: %s ~ %s^b, %s %s: b = %.3f, R^2 = %.4f, n = %d; per path-step within %.1f %% of its mean\n",
          file, yname, xname, gname, g, b, r2, n[g], 100 * dev
      }
    }' "$1"
}

{
  for y in ms_per_run cpu_ms_per_run; do
    [[ -s $out/paths.csv ]] && fit "$out/paths.csv" paths threads $y
    [[ -s $out/kernel.csv ]] && fit "$out/kernel.csv" paths threads $y
    [[ -s $out/steps.csv ]] && fit "$out/steps.csv" steps series $y
  done
  true
} | tee "$out/fits.txt"

# Breakdown by difference (1 thread, baseline, ns per path-step).
if [[ -s $out/raw-breakdown-kernel.csv ]]; then
  for f in breakdown-kernel breakdown-classes stats-column_stats output-hdf5 ceiling-fma; do
    series "$f"
  done
  awk -F, '
    FNR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; file = FILENAME; sub(/.*\//, "", file); next }
    {
      ns = $col["ns_per_path_step"]
      if (file == "breakdown-kernel.csv") { if (++k == 1) random = ns; else det = ns }
      if (file == "breakdown-classes.csv") { x = $col["classes"]; n++; sx += x; sy += ns; sxx += x * x; sxy += x * ns }
      if (file == "stats-column_stats.csv" && $col["paths"] == 10000) stats = ns
      if (file == "output-hdf5.csv" && $col["paths"] == 10000) output = ns
      if (file == "ceiling-fma.csv" && $col["threads"] == 1) fma = ns
    }
    END {
      per_class = n > 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0
      demand = 5 * per_class; if (demand > det) demand = det
      print "part,ns_per_path_step,share"
      total = random + stats + output
      printf "random numbers and random models,%.4g,%.3f\n", random - det, (random - det) / total
      printf "demand and allocation (5 classes),%.4g,%.3f\n", demand, demand / total
      printf "fleet power and money,%.4g,%.3f\n", det - demand, (det - demand) / total
      printf "statistics,%.4g,%.3f\n", stats, stats / total
      printf "output (HDF5),%.4g,%.3f\n", output, output / total
      printf "total (1 thread),%.4g,1\n", total
      printf "ceiling: multiply-add pass over the output columns,%.4g,%.3f\n", fma, fma / total
    }' "$out/breakdown-kernel.csv" "$out/breakdown-classes.csv" "$out/stats-column_stats.csv" \
    "$out/output-hdf5.csv" "$out/ceiling-fma.csv" | tee "$out/breakdown.csv"
  awk -F, '/^name,/ { for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); col[$i] = i }; next }
    /^"?rng/ { printf "ceiling: Philox normals, 1 thread: %.4g ns per normal\n", 1e9 / $col["normals_per_s"] }' \
    "$out/raw-rng-normal2.csv" | tee -a "$out/fits.txt"
fi

# Memory: peak resident set of `capsim run` (no --save-paths).
if [[ memory =~ $only && $memory_paths -gt 0 ]]; then
  if [[ ! -x $capsim || ! -x /usr/bin/time ]]; then
    echo "run-series.sh: memory run needs $capsim and /usr/bin/time" >&2
  else
    echo "series,paths,horizon_months,threads,peak_rss_mb,wall_s" > "$out/memory.csv"
    measure() {  # PATHS MONTHS
      local log
      log=$(mktemp)
      /usr/bin/time -v "$capsim" run "$top/scenarios/msft-japan-2024.yaml" --paths "$1" \
        --threads 2 --quiet --set "time.horizon_months=$2" > /dev/null 2> "$log"
      awk -v p="$1" -v m="$2" -F': ' '
        /Maximum resident set size/ { rss = $2 / 1024 }
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + t[i] }
        END { printf "memory,%d,%d,2,%.1f,%.2f\n", p, m, rss, s }' "$log" | tee -a "$out/memory.csv"
      rm -f "$log"
    }
    step_paths=$((memory_paths / 10))
    for months in 12 18 24; do measure "$step_paths" "$months"; done
    measure "$memory_paths" 24
  fi
fi
