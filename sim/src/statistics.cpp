// column_stats and SeriesStats: mean and type-7 quantiles across paths, on the
// hot path (once per step for every series column), hence the hand-written
// selection.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "capsim/results.hpp"
#include "statistics.hpp"

namespace capsim {

namespace {

using Index = Eigen::Index;

// Sum in a fixed order that does not depend on the data's address or on
// Eigen's packet size, so a column's mean is bit-identical however the array
// was allocated. Independent accumulators keep the adds pipelined.
double fixed_order_sum(const double* x, Index n) {
  constexpr Index kLanes = 8;
  std::array<double, kLanes> acc{};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (Index k = 0; k < kLanes; ++k) acc[k] += x[i + k];
  double tail = 0.0;
  for (; i < n; ++i) tail += x[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Minimum of a non-empty range without NaNs; lanes as in fixed_order_sum so
// the compiler can vectorize it.
double range_min(const double* first, const double* last) {
  constexpr std::ptrdiff_t kLanes = 8;
  const std::ptrdiff_t n = last - first;
  double result = first[0];
  std::ptrdiff_t i = 0;
  if (n >= kLanes) {
    std::array<double, kLanes> acc;
    std::copy(first, first + kLanes, acc.begin());
    for (i = kLanes; i + kLanes <= n; i += kLanes)
      for (std::ptrdiff_t k = 0; k < kLanes; ++k)
        acc[static_cast<std::size_t>(k)] = std::min(acc[static_cast<std::size_t>(k)], first[i + k]);
    result = *std::min_element(acc.begin(), acc.end());
  }
  for (; i < n; ++i) result = std::min(result, first[i]);
  return result;
}

// Moves the values below `pivot` (or not above it, with kOrEqual) to the
// front and returns where they end. Branch-free (the comparison only moves a
// pointer), because with random data a branch would mispredict half the time.
template <bool kOrEqual>
double* partition(double* first, double* last, double pivot) {
  double* split = first;
  for (double* i = first; i < last; ++i) {
    const double x = *i;
    const bool before = kOrEqual ? x <= pivot : x < pivot;
    *i = *split;
    *split = x;
    split += before;
  }
  return split;
}

double median3(double a, double b, double c) {
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

// A pivot whose rank is close to the target's, placed on the side that
// leaves the smaller part to search next (the idea of Floyd and Rivest's
// SELECT): the sample's order statistic near the target's relative rank,
// shifted by about two standard deviations of its sampling error.
double sample_pivot(const double* first, const double* nth, const double* last) {
  constexpr int kSample = 64;
  std::array<double, kSample> sample;
  const std::ptrdiff_t n = last - first;
  for (int i = 0; i < kSample; ++i) sample[static_cast<std::size_t>(i)] = first[(i * n) / kSample];
  const double f = static_cast<double>(nth - first) / static_cast<double>(n);
  // Near the middle either side is about half, and a shift would only make
  // the kept side larger.
  const double shift = (f > 0.3 && f < 0.7) ? 0.0 : 2.0 * std::sqrt(kSample * f * (1.0 - f)) + 1.0;
  const double position = f * (kSample - 1) + (f < 0.5 ? shift : -shift);
  const auto at = static_cast<std::size_t>(std::clamp(std::lround(position), 0L, kSample - 1L));
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(at), sample.end());
  return sample[at];
}

// Like std::nth_element (the same postcondition), several times faster
// on large random columns. Falls back to std::nth_element when pivots keep
// failing, which keeps the worst case O(n log n).
void select(double* first, double* nth, double* last) {
  constexpr std::ptrdiff_t kSmall = 32;
  int budget = 2 * std::bit_width(static_cast<std::size_t>(last - first)) + 4;
  // Every value in [first, last) is >= floor_value once a partition has
  // discarded the values below it; a pivot equal to it is the range's
  // minimum, and partitioning on `<=` then removes all its copies at once
  // (otherwise a column of ties, e.g. all zeros, would never shrink).
  bool has_floor = false;
  double floor_value = 0.0;
  while (last - first > kSmall) {
    if (budget-- == 0) break;
    const std::ptrdiff_t n = last - first;
    double pivot;
    if (n > 256) {
      pivot = sample_pivot(first, nth, last);
    } else {
      const std::ptrdiff_t e = n / 8;
      const double* mid = first + n / 2;
      pivot = median3(median3(first[0], first[e], first[2 * e]), median3(mid[-e], mid[0], mid[e]),
                      median3(last[-1 - 2 * e], last[-1 - e], last[-1]));
    }
    if (has_floor && pivot == floor_value) {
      double* split = partition<true>(first, last, pivot);
      if (nth < split) {
        *nth = pivot;  // [first, split) are all copies of the pivot
        return;
      }
      first = split;
      continue;
    }
    double* split = partition<false>(first, last, pivot);
    if (nth < split) {
      last = split;
    } else {
      first = split;
      has_floor = true;
      floor_value = pivot;
    }
  }
  std::nth_element(first, nth, last);
}

// Places the order statistics `ranks` (ascending, distinct, within
// [first, last)) at their positions with everything before each one not
// larger and everything after not smaller. The middle rank goes first so
// each side only searches its half.
void multi_select(double* data, Index first, Index last, const Index* ranks, std::size_t count) {
  if (count == 0) return;
  const std::size_t mid = count / 2;
  const Index k = ranks[mid];
  select(data + first, data + k, data + last);
  multi_select(data, first, k, ranks, mid);
  multi_select(data, k + 1, last, ranks + mid + 1, count - mid - 1);
}

// x_lo + frac * (x_hi - x_lo), exact when the two order statistics are equal
// (also when both are infinite, where the formula would give NaN).
double interpolate(double x_lo, double x_hi, double frac) {
  if (frac == 0.0 || x_lo == x_hi) return x_lo;
  return x_lo + frac * (x_hi - x_lo);
}

// Vectors of W doubles and the comparison masks between them (-1 in a true
// lane). The passes below are written once for any W and compiled for W = 2
// (the baseline x86-64 width, SSE2), 4 (AVX2) and 8 (AVX-512), chosen at run
// time by what the processor has. They give the same bits at every width:
// sums keep their eight lanes and their order, counts are exact, and values
// are gathered in the order of the paths.
template <int W>
struct VecTypes;
template <>
struct VecTypes<2> {
  using Vec = double __attribute__((vector_size(16)));
  using Mask = long long __attribute__((vector_size(16)));
};
template <>
struct VecTypes<4> {
  using Vec = double __attribute__((vector_size(32)));
  using Mask = long long __attribute__((vector_size(32)));
};
template <>
struct VecTypes<8> {
  using Vec = double __attribute__((vector_size(64)));
  using Mask = long long __attribute__((vector_size(64)));
};
template <int W>
struct Wide : VecTypes<W> {
  using Vec = typename VecTypes<W>::Vec;
  // (By reference: returning a vector wider than the baseline's would
  // change the calling convention, which -Wpsabi reports.)
  [[gnu::always_inline]] static void load(Vec& v, const double* x) { std::memcpy(&v, x, sizeof v); }
  // Keeps the sign of a zero, unlike Vec{} + a.
  [[gnu::always_inline]] static void broadcast(Vec& v, double a) {
    std::array<double, W> lanes;
    lanes.fill(a);
    std::memcpy(&v, lanes.data(), sizeof v);
  }
};

// The widths the processor can run, best first; CAPSIM_SIMD (sse2, avx2 or
// avx512) caps it, e.g. to compare the paths (every width gives the same
// results).
int detect_width() {
  int width = 2;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) width = 4;
  if (__builtin_cpu_supports("avx512f")) width = 8;
#endif
  if (const char* cap = std::getenv("CAPSIM_SIMD")) {
    const std::string_view v(cap);
    if (v == "sse2")
      width = 2;
    else if (v == "avx2")
      width = std::min(width, 4);
    else if (v != "avx512")
      std::fprintf(stderr, "capsim: CAPSIM_SIMD=%s ignored (sse2, avx2 or avx512)\n", cap);
  }
  return width;
}

int simd_width() {
  static const int width = detect_width();
  return width;
}

// Runs pass.operator()<W>() compiled for the widest width W the processor
// runs (simd_width()): the pass, a lambda marked CAPSIM_INLINE_PASS, is
// inlined into a function compiled for that instruction set.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define CAPSIM_INLINE_PASS __attribute__((always_inline))
template <class Pass>
[[gnu::target("avx2")]] auto run_avx2(const Pass& pass) {
  return pass.template operator()<4>();
}
template <class Pass>
[[gnu::target("avx512f")]] auto run_avx512(const Pass& pass) {
  return pass.template operator()<8>();
}
template <class Pass>
auto run_widest(const Pass& pass) {
  switch (simd_width()) {
    case 8:
      return run_avx512(pass);
    case 4:
      return run_avx2(pass);
    default:
      return pass.template operator()<2>();
  }
}
#else
#define CAPSIM_INLINE_PASS
template <class Pass>
auto run_widest(const Pass& pass) {
  return pass.template operator()<2>();
}
#endif

// Sum (fixed_order_sum's order and bits: lane k of the eight adds x[i + k]),
// minimum and maximum of a column in one pass. min and max are only
// meaningful without NaNs.
struct SumMinMax {
  double sum, min, max;
};
template <int W>
[[gnu::always_inline]] inline SumMinMax sum_min_max_w(const double* x, Index n) {
  using V = typename Wide<W>::Vec;
  constexpr Index kLanes = 8;
  constexpr int kChains = kLanes / W;
  std::array<V, kChains> acc{};
  // Independent minima and maxima per chain: one chain would wait on each min.
  std::array<V, kChains> lo, hi;
  V first;
  Wide<W>::broadcast(first, x[0]);
  lo.fill(first);
  hi = lo;
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kChains; ++k) {
      V v;
      Wide<W>::load(v, x + i + W * k);
      acc[static_cast<std::size_t>(k)] += v;
      lo[static_cast<std::size_t>(k)] =
          v < lo[static_cast<std::size_t>(k)] ? v : lo[static_cast<std::size_t>(k)];
      hi[static_cast<std::size_t>(k)] =
          v > hi[static_cast<std::size_t>(k)] ? v : hi[static_cast<std::size_t>(k)];
    }
  double tail = 0.0;
  double mn = x[0], mx = x[0];
  std::array<double, kLanes> lane{};
  for (int k = 0; k < kChains; ++k)
    for (int l = 0; l < W; ++l) {
      const auto kk = static_cast<std::size_t>(k);
      lane[static_cast<std::size_t>(k * W + l)] = acc[kk][l];
      mn = std::min(mn, static_cast<double>(lo[kk][l]));
      mx = std::max(mx, static_cast<double>(hi[kk][l]));
    }
  for (; i < n; ++i) {
    tail += x[i];
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  const double sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                     ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
  return {sum, mn, mx};
}

SumMinMax sum_min_max(const double* x, Index n) {
  return run_widest([&]<int W>() CAPSIM_INLINE_PASS { return sum_min_max_w<W>(x, n); });
}

// The ranks below h = (n-1) q for each level, the interpolation weights, and
// the distinct ranks to select; the same for every column of n rows.
struct Ranks {
  std::array<Index, kQuantiles.size()> lower{};
  std::array<double, kQuantiles.size()> frac{};
  std::array<Index, kQuantiles.size()> distinct{};
  std::size_t count = 0;

  explicit Ranks(Index n) {
    for (std::size_t q = 0; q < kQuantiles.size(); ++q) {
      const double h = static_cast<double>(n - 1) * kQuantiles[q];
      lower[q] = static_cast<Index>(std::floor(h));
      frac[q] = h - static_cast<double>(lower[q]);
      if (count == 0 || distinct[count - 1] != lower[q]) distinct[count++] = lower[q];
    }
  }
  // The highest rank level q needs: lower + 1 when it interpolates.
  Index upper(std::size_t q, Index n) const {
    return frac[q] > 0.0 && lower[q] + 1 < n ? lower[q] + 1 : lower[q];
  }
};

// Quantiles of a column without NaNs that is not constant, by selection on
// `s` (a copy of the column, reordered). Writes the order statistics at the
// lower ranks to `at_lower`.
void select_quantiles(double* s, Index n, const Ranks& r, double* quantiles, double* at_lower) {
  multi_select(s, 0, n, r.distinct.data(), r.count);
  for (std::size_t q = 0; q < kQuantiles.size(); ++q) {
    const Index k = r.lower[q];
    const double x_lo = s[k];
    double x_hi = x_lo;
    if (r.frac[q] > 0.0 && k + 1 < n) {
      // The next order statistic is the smallest value after k up to and
      // including the next selected rank.
      const Index* next = std::upper_bound(r.distinct.data(), r.distinct.data() + r.count, k);
      const Index end = next == r.distinct.data() + r.count ? n : *next + 1;
      x_hi = range_min(s + k + 1, s + end);
    }
    quantiles[q] = interpolate(x_lo, x_hi, r.frac[q]);
    at_lower[q] = x_lo;
  }
}

bool has_nan(const double* x, Index n) {
  return std::any_of(x, x + n, [](double v) { return std::isnan(v); });
}

// How many values lie below each lo[q] (x < lo[q]) and up to each hi[q]
// (x <= hi[q]).
struct BoundCounts {
  std::array<Index, 3> below{}, upto{};
  std::array<Index, 3> gathered{};  // values inside each bracket (lo < hi only)
};

// One pass over a column: counts the values below each bracket (x < lo[q])
// and up to its top (x <= hi[q]), and gathers the values inside the brackets
// that are not a single value (lo < hi), in the order of the paths.
template <int W>
[[gnu::always_inline]] inline BoundCounts count_and_gather_w(
    const double* x, Index n, const std::array<double, 3>& lo, const std::array<double, 3>& hi,
    std::array<std::vector<double>, 3>& cand) {
  using V = typename Wide<W>::Vec;
  using M = typename Wide<W>::Mask;
  std::array<V, 3> vlo{}, vhi{};
  std::array<M, 3> wide{};
  for (std::size_t q = 0; q < 3; ++q) {
    Wide<W>::broadcast(vlo[q], lo[q]);
    Wide<W>::broadcast(vhi[q], hi[q]);
    const long long on = lo[q] < hi[q] ? -1 : 0;
    wide[q] = M{} + on;
  }
  // Every value is written at the end of each bracket's candidates and kept
  // (the count advances) only when it is inside: no branch to mispredict.
  // Local pointers and counts, so the stores cannot alias them. The
  // candidate arrays grow when a block of W values might not fit (brackets
  // hold a few hundred values, so they rarely do).
  double* out0 = nullptr;
  double* out1 = nullptr;
  double* out2 = nullptr;
  Index room = 0;  // values that fit in every array
  Index g0 = 0, g1 = 0, g2 = 0;
  auto make_room = [&](Index at_least) {
    const auto size = std::max<std::size_t>(
        {cand[0].size(), static_cast<std::size_t>(2 * at_least), std::size_t{256}});
    for (auto& c : cand) c.resize(size);
    out0 = cand[0].data();
    out1 = cand[1].data();
    out2 = cand[2].data();
    room = static_cast<Index>(size);
  };
  make_room(0);
  std::array<M, 3> below_v{}, upto_v{};  // count down from 0
  Index i = 0;
  for (; i + W <= n; i += W) {
    V v;
    Wide<W>::load(v, x + i);
    const M b0 = v < vlo[0], b1 = v < vlo[1], b2 = v < vlo[2];
    const M u0 = v <= vhi[0], u1 = v <= vhi[1], u2 = v <= vhi[2];
    below_v[0] += b0;
    below_v[1] += b1;
    below_v[2] += b2;
    upto_v[0] += u0;
    upto_v[1] += u1;
    upto_v[2] += u2;
    const M in0 = ~b0 & u0 & wide[0], in1 = ~b1 & u1 & wide[1], in2 = ~b2 & u2 & wide[2];
    const M in = in0 | in1 | in2;
    long long any = 0;
    for (int k = 0; k < W; ++k) any |= in[k];
    if (any != 0) {
      if (std::max({g0, g1, g2}) + W > room) make_room(std::max({g0, g1, g2}) + W);
      for (int k = 0; k < W; ++k) {
        const double value = x[i + k];
        out0[g0] = value;
        g0 += in0[k] & 1;
        out1[g1] = value;
        g1 += in1[k] & 1;
        out2[g2] = value;
        g2 += in2[k] & 1;
      }
    }
  }
  BoundCounts counts;
  for (std::size_t q = 0; q < 3; ++q)
    for (int k = 0; k < W; ++k) {
      counts.below[q] -= static_cast<Index>(below_v[q][k]);
      counts.upto[q] -= static_cast<Index>(upto_v[q][k]);
    }
  counts.gathered = {g0, g1, g2};
  if (std::max({g0, g1, g2}) + W > room) make_room(std::max({g0, g1, g2}) + W);
  std::array<double*, 3> out{out0, out1, out2};
  for (; i < n; ++i) {
    const double value = x[i];
    for (std::size_t q = 0; q < 3; ++q) {
      counts.below[q] += value < lo[q] ? 1 : 0;
      counts.upto[q] += value <= hi[q] ? 1 : 0;
      out[q][counts.gathered[q]] = value;
      counts.gathered[q] += (lo[q] < hi[q]) & (value >= lo[q]) & (value <= hi[q]) ? 1 : 0;
    }
  }
  return counts;
}

BoundCounts count_and_gather(const double* x, Index n, const std::array<double, 3>& lo,
                             const std::array<double, 3>& hi,
                             std::array<std::vector<double>, 3>& cand) {
  return run_widest([&]<int W>()
                        CAPSIM_INLINE_PASS { return count_and_gather_w<W>(x, n, lo, hi, cand); });
}

}  // namespace

StatsRow column_stats(const Eigen::Ref<const Eigen::ArrayXXd>& values) {
  const Index n = values.rows();
  const Index m = values.cols();
  StatsRow out(4, m);
  if (n == 0) {
    out.setConstant(std::numeric_limits<double>::quiet_NaN());
    return out;
  }
  const Ranks ranks(n);
  std::vector<double> scratch(static_cast<std::size_t>(n));
  double* const s = scratch.data();
  for (Index j = 0; j < m; ++j) {
    Eigen::Map<Eigen::ArrayXd>(s, n) = values.col(j);
    const double sum = fixed_order_sum(s, n);
    out(0, j) = sum / static_cast<double>(n);

    // NaN breaks the ordering selection relies on; a column with a NaN has
    // no meaningful quantiles, so they propagate it. A NaN always makes the
    // sum NaN, so only then is the column searched for one.
    if (std::isnan(sum) && has_nan(s, n)) {
      out.block(1, j, 3, 1).setConstant(std::numeric_limits<double>::quiet_NaN());
      continue;
    }

    // A column that is the same on every path (a power cap, a class with no
    // demand in a region) needs no selection: every quantile is that value.
    const auto column = Eigen::Map<const Eigen::ArrayXd>(s, n);
    if ((column == s[0]).all()) {
      out.block(1, j, 3, 1).setConstant(s[0]);
      continue;
    }
    std::array<double, 3> q{}, at_lower{};
    select_quantiles(s, n, ranks, q.data(), at_lower.data());
    for (std::size_t l = 0; l < 3; ++l) out(static_cast<Index>(l) + 1, j) = q[l];
  }
  return out;
}

namespace detail {

namespace {
// Below this many paths a full selection is cheap enough.
constexpr Index kBracketMinRows = 256;
// Margin kept on each side of a quantile's ranks, in standard deviations of
// the sample quantile's rank (sqrt(n p (1-p))), plus 4: one step moves a
// quantile far less than its sampling error, since paths carry over.
constexpr double kMarginSd = 1.0;

// The quantiles of column x from the values inside [lo[q], hi[q]], or false
// when a needed rank is outside its bracket. A bracket with lo == hi is a
// value that many paths share (a count of GPUs, zero work): counting alone
// finds the quantile. Adapts the brackets for the next step.
bool bracketed(const double* x, Index n, const Ranks& ranks, const std::array<double, 3>& lo,
               const std::array<double, 3>& hi, StatsScratch& scratch, ColumnBracket& c,
               std::array<double, 3>& quantiles, std::array<double, 3>& at_lower) {
  // One pass counts the values below each bracket and up to its top and
  // gathers those inside the brackets that are not a single value (before
  // knowing whether the ranks fall inside: a miss wastes the few gathered).
  auto& cand = scratch.candidates;
  const BoundCounts counts = count_and_gather(x, n, lo, hi, cand);
  for (std::size_t q = 0; q < 3; ++q)
    if (ranks.lower[q] < counts.below[q] || ranks.upper(q, n) >= counts.upto[q]) return false;

  for (std::size_t q = 0; q < 3; ++q) {
    const Index below = counts.below[q];
    const Index upper = ranks.upper(q, n);
    const double p = kQuantiles[q];
    // Keep a margin of a few standard deviations of the sample quantile's
    // rank on both sides.
    const double wanted = kMarginSd * std::sqrt(static_cast<double>(n) * p * (1.0 - p)) + 4.0;
    const auto margin =
        static_cast<double>(std::min(ranks.lower[q] - below, counts.upto[q] - 1 - upper));
    if (!(lo[q] < hi[q])) {  // every value in the bracket is lo
      quantiles[q] = lo[q];
      at_lower[q] = lo[q];
      continue;
    }
    double* s = cand[q].data();
    const Index size = counts.gathered[q];
    const Index k = ranks.lower[q] - below;
    select(s, s + k, s + size);
    const double x_lo = s[k];
    const double x_hi = upper > ranks.lower[q] ? range_min(s + k + 1, s + size) : x_lo;
    quantiles[q] = interpolate(x_lo, x_hi, ranks.frac[q]);
    at_lower[q] = x_lo;

    // When the ranks around the quantile are all one value, follow that
    // value alone; otherwise narrow a bracket that holds far more than the
    // margin and widen one that holds less.
    bool shared = false;
    if (k + 1 < size && (x_hi == x_lo || range_min(s + k + 1, s + size) == x_lo)) {
      Index less = 0, equal = 0;
      for (Index r = 0; r < size; ++r) {
        less += s[r] < x_lo ? 1 : 0;
        equal += s[r] == x_lo ? 1 : 0;
      }
      shared = static_cast<double>(k - less) >= wanted &&
               static_cast<double>(less + equal - 1 - (upper - below)) >= wanted;
    }
    double w = c.half_width[q];
    if (shared)
      w = 0.0;
    else if (margin < wanted)
      w *= 1.5;
    else if (margin > 2.0 * wanted)
      w *= 0.8;
    c.center[q] = x_lo;
    c.half_width[q] = w;
  }
  return true;
}

}  // namespace

SeriesStats::SeriesStats(Index columns) : columns_(static_cast<std::size_t>(columns)) {}

void SeriesStats::update(const Eigen::Ref<const Eigen::ArrayXXd>& values, StatsScratch& scratch,
                         Eigen::ArrayXXd& dest, Index row) {
  const Index n = values.rows();
  const Index m = values.cols();
  if (n == 0) {
    for (Index j = 0; j < 4 * m; ++j) dest(row, j) = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  const Ranks ranks(n);
  auto put = [&](Index stat, Index j, double v) { dest(row, stat * m + j) = v; };
  for (Index j = 0; j < m; ++j) {
    ColumnBracket& c = columns_[static_cast<std::size_t>(j)];
    const double* x = values.col(j).data();
    const SumMinMax a = sum_min_max(x, n);
    const double mean = a.sum / static_cast<double>(n);
    put(0, j, mean);
    if (std::isnan(a.sum) && has_nan(x, n)) {
      for (Index q = 1; q < 4; ++q) put(q, j, std::numeric_limits<double>::quiet_NaN());
      c.valid = false;
      continue;
    }
    if (a.min == a.max) {  // the same on every path (column_stats: every value == x[0])
      for (Index q = 1; q < 4; ++q) put(q, j, x[0]);
      c = {true, mean, a.min, {x[0], x[0], x[0]}, {0.0, 0.0, 0.0}};
      continue;
    }

    std::array<double, 3> quantiles{}, at_lower{};
    bool found = false;
    if (c.valid && n >= kBracketMinRows) {
      // Predicted brackets: scaled with the mean for a positive column,
      // shifted with it otherwise.
      const bool positive = c.min > 0.0 && a.min > 0.0 && c.mean > 0.0;
      const double scale = positive ? mean / c.mean : 1.0;
      const double shift = positive ? 0.0 : mean - c.mean;
      std::array<double, 3> lo{}, hi{};
      bool finite = std::isfinite(scale) && std::isfinite(shift);
      for (std::size_t q = 0; q < 3; ++q) {
        // A shared value (half width 0) is followed as it is.
        const bool single = c.half_width[q] == 0.0;
        const double center = single ? c.center[q] : c.center[q] * scale + shift;
        const double w = c.half_width[q] * scale;
        lo[q] = center - w;
        hi[q] = center + w;
        finite = finite && std::isfinite(lo[q]) && std::isfinite(hi[q]);
      }
      if (finite) found = bracketed(x, n, ranks, lo, hi, scratch, c, quantiles, at_lower);
    }
    if (!found) {
      scratch.copy.assign(x, x + n);
      select_quantiles(scratch.copy.data(), n, ranks, quantiles.data(), at_lower.data());
      // A new bracket from the spread of the column, or twice the one
      // that missed.
      const double spread = 0.02 * (at_lower[2] - at_lower[0]);
      for (std::size_t q = 0; q < 3; ++q) {
        const double w = c.valid ? std::max(spread, 2.0 * c.half_width[q]) : spread;
        c.center[q] = at_lower[q];
        c.half_width[q] = std::isfinite(w) ? w : 0.0;
      }
      c.valid = std::isfinite(at_lower[0]) && std::isfinite(at_lower[2]);
    }
    c.mean = mean;
    c.min = a.min;
    for (std::size_t q = 0; q < 3; ++q) put(static_cast<Index>(q) + 1, j, quantiles[q]);
  }
}

}  // namespace detail

}  // namespace capsim
