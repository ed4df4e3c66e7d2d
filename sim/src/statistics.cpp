// column_stats: mean and type-7 quantiles across paths, on the hot path (once
// per step for every series column), hence the hand-written selection.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "capsim/results.hpp"

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

}  // namespace

StatsRow column_stats(const Eigen::Ref<const Eigen::ArrayXXd>& values) {
  constexpr std::size_t kLevels = kQuantiles.size();
  const Index n = values.rows();
  const Index m = values.cols();
  StatsRow out(4, m);
  if (n == 0) {
    out.setConstant(std::numeric_limits<double>::quiet_NaN());
    return out;
  }

  // The ranks below h = (n-1) q for each level; the same for every column.
  std::array<Index, kLevels> lower{};
  std::array<double, kLevels> frac{};
  std::array<Index, kLevels> ranks{};
  std::size_t rank_count = 0;
  for (std::size_t q = 0; q < kLevels; ++q) {
    const double h = static_cast<double>(n - 1) * kQuantiles[q];
    lower[q] = static_cast<Index>(std::floor(h));
    frac[q] = h - static_cast<double>(lower[q]);
    if (rank_count == 0 || ranks[rank_count - 1] != lower[q]) ranks[rank_count++] = lower[q];
  }

  std::vector<double> scratch(static_cast<std::size_t>(n));
  double* const s = scratch.data();
  for (Index j = 0; j < m; ++j) {
    Eigen::Map<Eigen::ArrayXd>(s, n) = values.col(j);
    const double sum = fixed_order_sum(s, n);
    out(0, j) = sum / static_cast<double>(n);

    // NaN breaks the ordering selection relies on; a column with a NaN has
    // no meaningful quantiles, so they propagate it. A NaN always makes the
    // sum NaN, so only then is the column searched for one.
    if (std::isnan(sum) && std::any_of(s, s + n, [](double x) { return std::isnan(x); })) {
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
    multi_select(s, 0, n, ranks.data(), rank_count);
    for (std::size_t q = 0; q < kLevels; ++q) {
      const Index k = lower[q];
      const double x_lo = s[k];
      double x_hi = x_lo;
      if (frac[q] > 0.0 && k + 1 < n) {
        // The next order statistic is the smallest value after k up to and
        // including the next selected rank.
        const Index* next = std::upper_bound(ranks.data(), ranks.data() + rank_count, k);
        const Index end = next == ranks.data() + rank_count ? n : *next + 1;
        x_hi = range_min(s + k + 1, s + end);
      }
      out(static_cast<Index>(q) + 1, j) = interpolate(x_lo, x_hi, frac[q]);
    }
  }
  return out;
}

}  // namespace capsim
