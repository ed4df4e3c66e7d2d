#!/usr/bin/env bash
# The progress bar ends its line before the table is printed: run and sweep
# on a pseudo-terminal (util-linux `script`), so that the bar is drawn, and
# check that the line holding the bar's last state (100%) ends with the bar.
set -euo pipefail
capsim=$1
scenario=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

check() {
  local what=$1 output=$2
  local last
  last=$(printf '%s' "$output" | tr '\r' '\n' | grep -a '100%' | tail -n 1 || true)
  if [ -z "$last" ]; then
    echo "progress_line: $what drew no bar at 100%"
    exit 1
  fi
  if ! printf '%s' "$last" | grep -aqE 'left *$'; then
    echo "progress_line: after $what's bar the next output runs onto its line: '$last'"
    exit 1
  fi
}

out=$(script -qec "'$capsim' run '$scenario' --paths 20 --threads 1" /dev/null)
check "capsim run" "$out"
out=$(script -qec "'$capsim' sweep '$scenario' --paths 10 --threads 1 --vary finance.usdjpy=140,160" /dev/null)
check "capsim sweep" "$out"
echo "progress_line: the bar's line ends before the output of run and sweep"
