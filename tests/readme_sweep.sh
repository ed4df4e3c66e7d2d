#!/usr/bin/env bash
# Runs the README's sweep example as written (the code block after the
# "sweep-example" marker) and checks that it finishes and that its CSV is a
# plain table: one header row, one row per point, the same number of fields
# in every row. Usage: tests/readme_sweep.sh CAPSIM_EXE SOURCE_DIR
set -euo pipefail
exe=$1
root=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The block, joined across its line continuations, with the paths made to
# point at this build and source tree.
command=$(awk '/sweep-example/ {found = 1; next}
               found && /^```sh/ {inside = 1; next}
               inside && /^```/ {exit}
               inside {print}' "$root/README.md" | sed -e 's/\\$//' | tr '\n' ' ')
[[ -n $command ]] || { echo "no sweep example in README.md"; exit 1; }
command=${command//.\/build\/capsim/$exe}
command=${command//scenarios\//$root/scenarios/}
echo "running: $command"

cd "$work"
start=$(date +%s)
eval "$command --quiet" > stdout.txt
echo "finished in $(( $(date +%s) - start )) s"

samples=$(grep -o -- '--samples [0-9]*' <<< "$command" | awk '{print $2}')
csv=$(grep -o -- '--csv [^ ]*' <<< "$command" | awk '{print $2}')
[[ -s $csv ]] || { echo "no CSV file $csv"; exit 1; }
rows=$(wc -l < "$csv")
[[ $rows -eq $((samples + 1)) ]] || { echo "$csv has $rows lines, expected $((samples + 1))"; exit 1; }
head -1 "$csv" | grep -q '^point,' || { echo "the first line is not the header"; exit 1; }
headers=$(grep -vc '^[0-9]' "$csv" || true)
[[ $headers -eq 1 ]] || { echo "$headers header rows, expected 1"; exit 1; }
fields=$(awk -F, '{print NF}' "$csv" | sort -u | wc -l)
[[ $fields -eq 1 ]] || { echo "rows have different numbers of fields"; exit 1; }
lines=$(wc -l < stdout.txt)
[[ $lines -eq $((samples + 2)) ]] || { echo "summary has $lines lines, expected $((samples + 2))"; exit 1; }
echo "ok: $samples points, $(head -1 "$csv" | awk -F, '{print NF}') columns"
