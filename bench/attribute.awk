# Attributes perf samples to the parts of a path-step (used by
# profile-breakdown.sh). Inputs, in order:
#   1. sim/src/step_kernel.cpp: its numbered section comments ("// 1.
#      Deliveries", "// 6. Demand", ...) say which part each line belongs to;
#   2. "count address" lines: samples per instruction address of capsim;
#   3. `addr2line -i -f -a` output for those addresses: each address followed
#      by its inline chain, innermost first.
# A sample counts for the outermost frame of the chain that is in capsim's
# own sources, so Eigen's inlined loops count for the kernel line that wrote
# them. Prints "samples<TAB>part".

function kernel_part(line) {
  if (line in output_line) return "output: series values written by the kernel"
  if (line < first_section || line > last_kernel_line) return "engine: chunk start and end"
  return part_of[line]
}

function part(file, line) {
  if (file ~ /sim\/src\/step_kernel\.cpp$/) return kernel_part(line)
  if (file ~ /models\/failures\//) return "random: failures and repairs (binomial)"
  if (file ~ /models\/demand\//) return "random: demand models (growth, noise, shocks)"
  if (file ~ /models\/(prices|outages)\//) return "random: prices, FX, outages"
  if (file ~ /models\/procurement\//) return "procurement review"
  if (file ~ /models\/|Random123|boost\/random|capsim\/rng\.hpp/) return "random: generator"
  if (file ~ /sim\/src\/statistics\./) return "statistics"
  if (file ~ /sim\/io\//) return "output: HDF5 file"
  if (file ~ /sim\/src\/|sim\/include\//) return "engine: chunk start and end"
  return ""
}

function finish() {
  if (address == "") return
  if (best == "") best = "not attributed (Eigen or libc called out of line)"
  total[best] += samples[address]
}

FILENAME == ARGV[1] {
  if ($0 ~ /^void step_chunk\(/) in_step = 1
  if ($0 ~ /^void finish_chunk\(/) { in_step = 0; last_kernel_line = FNR - 1 }
  if (!in_step) next
  if ($0 ~ /^  \/\/ 1\. /) { first_section = FNR; current = "fleet: deliveries" }
  else if ($0 ~ /^  \/\/ 2\. /) current = "random: failures and repairs (binomial)"
  else if ($0 ~ /^  \/\/ 3\. /) current = "random: prices, FX, outages"
  else if ($0 ~ /^  \/\/ 4-5\. /) current = "fleet: power cap and capacity"
  else if ($0 ~ /^  \/\/ 6\. /) current = "demand"
  else if ($0 ~ /^  \/\/ 7\. /) current = "allocation"
  else if ($0 ~ /^  \/\/ 8\. /) current = "money, power, energy, carbon"
  else if ($0 ~ /^  \/\/ 11\. /) current = "procurement review"
  else if ($0 ~ /^  \/\/ Capex/) current = "money, power, energy, carbon"
  else if ($0 ~ /^  \/\/ Per-class outputs/) current = "output: series values written by the kernel"
  part_of[FNR] = current
  if ($0 ~ /out\.col\(/) output_line[FNR] = 1
  next
}
FILENAME == ARGV[2] { samples[$2] = $1; next }
/^0x/ {
  finish()
  address = $1
  sub(/^0x0*/, "0x", address)
  best = ""
  next
}
/:[0-9?]+( |$)/ {
  split($0, p, ":")
  s = part(p[1], p[2] + 0)
  if (s != "") best = s
}
END {
  finish()
  for (k in total) printf "%d\t%s\n", total[k], k
}
