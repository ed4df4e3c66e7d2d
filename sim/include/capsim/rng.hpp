// Counter-based random streams (Random123 Philox4x32-10).
//
// Every random number is a pure function of (seed, path, step, stream, index,
// draw): the key is the 64-bit seed, the counter is
//   {path, step, stream << 20 | index, draw}.
// Results therefore do not depend on threads, chunking, MPI ranks or the
// number of paths: path p of a 1,000-path run equals path p of a 10,000-path
// run. `index` separates instances of one stream (e.g. class c, region r);
// `draw` separates several numbers taken for the same (path, step, stream).
// `draw` must stay below 2^23: the bit 2^23 marks blocks that serve four
// consecutive paths (FourPaths), and normals that need more than one block
// take the further blocks with the top byte of the draw word set.
#pragma once

#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <boost/random/normal_distribution.hpp>

#include <Eigen/Core>
#include <cstdint>

namespace capsim {

enum class Stream : std::uint32_t {
  growth_rate = 1,
  demand_noise = 2,
  demand_shock = 3,
  failure = 4,
  repair = 5,
  outage = 6,
  delivery_delay = 7,
  fx = 8,
  electricity_price = 9,
  policy = 10,
};

// Step value used for draws that are made once per path (not per step).
inline constexpr std::uint32_t kOncePerPath = 0xFFFFFFFFu;

class Rng {
  using Philox = r123::Philox4x32;

 public:
  explicit Rng(std::uint64_t seed) {
    key_ = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  }

  // Two independent uniforms in (0, 1] with 64-bit resolution.
  struct Pair {
    double a, b;
  };
  Pair uniform2(std::int64_t path, std::uint32_t step, Stream stream, std::uint32_t index,
                std::uint32_t draw = 0) const {
    const auto r = block(path, step, stream, index, draw);
    return {r123::u01<double>(join(r[0], r[1])), r123::u01<double>(join(r[2], r[3]))};
  }

  // Bit of the draw word that marks a block shared by four paths.
  static constexpr std::uint32_t kFourPaths = 1u << 23;

  // The uniform of `path` among four consecutive paths that share one block
  // (32-bit resolution, in (0, 1)): word path mod 4 of the block with
  // counter {path / 4, step, stream << 20 | index, draw | kFourPaths}. Still
  // a pure function of the path; a caller walking paths in order computes
  // the block once per four paths (FourPaths).
  class FourPaths {
   public:
    FourPaths(const Rng& rng, std::uint32_t step, Stream stream, std::uint32_t index,
              std::uint32_t draw)
        : rng_(rng), step_(step), stream_(stream), index_(index), draw_(draw | kFourPaths) {}
    double uniform(std::int64_t path) {
      const std::int64_t group = path >> 2;
      if (group != group_) {
        block_ = rng_.block(group, step_, stream_, index_, draw_);
        group_ = group;
      }
      return r123::u01<double>(block_[static_cast<std::size_t>(path & 3)]);
    }

   private:
    const Rng& rng_;
    std::uint32_t step_;
    Stream stream_;
    std::uint32_t index_, draw_;
    std::int64_t group_ = -1;
    Philox::ctr_type block_{};
  };

  // Two independent standard normals: Boost.Random's ziggurat
  // (boost::random::normal_distribution), which takes one 64-bit word of the
  // block per normal. In about one normal in 80 the ziggurat asks for more
  // words; they come from the blocks with the top byte of the draw word set
  // to 1, 2, ...
  Pair normal2(std::int64_t path, std::uint32_t step, Stream stream, std::uint32_t index,
               std::uint32_t draw = 0) const {
    Words words(*this, path, step, stream, index, draw);
    boost::random::normal_distribution<double> normal;
    const double a = normal(words);
    return {a, normal(words)};
  }

  // Fill out[i] with a uniform for path path0 + i.
  void fill_uniform(std::int64_t path0, std::uint32_t step, Stream stream, std::uint32_t index,
                    std::uint32_t draw, Eigen::Ref<Eigen::ArrayXd> out) const {
    for (Eigen::Index i = 0; i < out.size(); ++i)
      out[i] = uniform2(path0 + i, step, stream, index, draw).a;
  }

  // Fill out[i] with a standard normal for path path0 + i.
  void fill_normal(std::int64_t path0, std::uint32_t step, Stream stream, std::uint32_t index,
                   std::uint32_t draw, Eigen::Ref<Eigen::ArrayXd> out) const {
    for (Eigen::Index i = 0; i < out.size(); ++i)
      out[i] = normal2(path0 + i, step, stream, index, draw).a;
  }

 private:
  static std::uint64_t join(std::uint32_t hi, std::uint32_t lo) {
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
  }

  Philox::ctr_type block(std::int64_t path, std::uint32_t step, Stream stream, std::uint32_t index,
                         std::uint32_t draw) const {
    const Philox::ctr_type ctr = {{static_cast<std::uint32_t>(path), step,
                                   (static_cast<std::uint32_t>(stream) << 20) | index, draw}};
    return Philox()(ctr, key_);
  }

  // The 64-bit words of a (path, step, stream, index, draw) block and its
  // continuation blocks, as a uniform random bit generator.
  class Words {
   public:
    using result_type = std::uint64_t;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }
    Words(const Rng& rng, std::int64_t path, std::uint32_t step, Stream stream, std::uint32_t index,
          std::uint32_t draw)
        : rng_(rng), path_(path), step_(step), stream_(stream), index_(index), draw_(draw) {
      block_ = rng_.block(path_, step_, stream_, index_, draw_);
    }
    result_type operator()() {
      if (next_ == 2) {
        ++more_;
        block_ = rng_.block(path_, step_, stream_, index_, draw_ | (more_ << 24));
        next_ = 0;
      }
      const int w = 2 * next_++;
      return join(block_[static_cast<std::size_t>(w)], block_[static_cast<std::size_t>(w) + 1]);
    }

   private:
    const Rng& rng_;
    std::int64_t path_;
    std::uint32_t step_;
    Stream stream_;
    std::uint32_t index_, draw_;
    std::uint32_t more_ = 0;
    int next_ = 0;
    Philox::ctr_type block_;
  };

  Philox::key_type key_{};
};

}  // namespace capsim
