#pragma once
// Zipf-distributed ids for benchmarks and the load generator: id k (0-based)
// is drawn with probability proportional to 1 / (k+1)^s. Sampling is a binary
// search over the cumulative weights; callers that need speed draw a batch
// up front and cycle through it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace pvc::bench {

class zipf_distribution {
 public:
  zipf_distribution(std::uint64_t n, double s) : cdf_(n) {
    double sum = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
      cdf_[k] = sum;
    }
    for (double& c : cdf_)
      c /= sum;
  }

  template <class Rng>
  std::uint64_t operator()(Rng& rng) const {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    if (it == cdf_.end()) --it;
    return static_cast<std::uint64_t>(it - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

// `count` draws from Zipf(n, s), reproducible from `seed`.
inline std::vector<std::uint32_t> zipf_sample(std::uint64_t n, double s, std::size_t count,
                                              std::uint64_t seed) {
  zipf_distribution z(n, s);
  std::mt19937_64 rng(seed);
  std::vector<std::uint32_t> out(count);
  for (auto& v : out)
    v = static_cast<std::uint32_t>(z(rng));
  return out;
}

}  // namespace pvc::bench
