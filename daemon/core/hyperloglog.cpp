#include "core/hyperloglog.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pvc {
namespace {

constexpr char format_tag = 'h';
constexpr char format_version = 1;

// Ertl 2017, algorithm 6: sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1).
double sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0;
  double z = x;
  for (;;) {
    x *= x;
    const double before = z;
    z += x * y;
    y += y;
    if (z == before) return z;
  }
}

// tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3.
double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  for (;;) {
    x = std::sqrt(x);
    const double before = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == before) return z / 3.0;
  }
}

}  // namespace

double hll_estimate(std::span<const std::uint32_t> counts, unsigned precision) {
  const double m = static_cast<double>(std::size_t{1} << precision);
  const std::size_t q = 64 - precision;
  // counts has q + 2 entries: 0..q+1.
  double z = m * tau(1.0 - counts[q + 1] / m);
  for (std::size_t k = q; k >= 1; --k)
    z = 0.5 * (z + counts[k]);
  z += m * sigma(counts[0] / m);
  constexpr double alpha_inf = 0.721347520444481703680;  // 1 / (2 ln 2)
  return alpha_inf * m * m / z;
}

hll_sketch::hll_sketch(unsigned precision)
    : p_(std::clamp(precision, 4u, 18u)), regs_(std::size_t{1} << p_, 0) {}

void hll_sketch::merge(const hll_sketch& other) noexcept {
  if (other.p_ != p_) return;
  for (std::size_t i = 0; i < regs_.size(); ++i)
    regs_[i] = std::max(regs_[i], other.regs_[i]);
}

void hll_sketch::clear() noexcept {
  std::fill(regs_.begin(), regs_.end(), 0);
}

bool hll_sketch::empty() const noexcept {
  return std::all_of(regs_.begin(), regs_.end(), [](std::uint8_t r) { return r == 0; });
}

double hll_sketch::estimate() const {
  std::vector<std::uint32_t> counts(64 - p_ + 2, 0);
  for (std::uint8_t r : regs_)
    ++counts[std::min<std::size_t>(r, counts.size() - 1)];
  return hll_estimate(counts, p_);
}

std::uint64_t hll_sketch::count() const {
  return static_cast<std::uint64_t>(std::llround(estimate()));
}

namespace {

std::size_t packed_size(std::size_t registers) {
  return (registers * 6 + 7) / 8;
}

}  // namespace

std::string hll_sketch::serialize() const {
  std::string out(3 + packed_size(regs_.size()), '\0');
  out[0] = format_tag;
  out[1] = format_version;
  out[2] = static_cast<char>(p_);
  std::size_t bit = 0;
  for (const std::uint8_t r : regs_) {
    // Six bits, least significant first, across byte boundaries.
    const std::size_t at = 3 + bit / 8;
    const unsigned shift = bit % 8;
    const unsigned v = static_cast<unsigned>(r & 0x3f) << shift;
    out[at] = static_cast<char>(static_cast<unsigned char>(out[at]) | (v & 0xff));
    if (shift > 2)
      out[at + 1] = static_cast<char>(static_cast<unsigned char>(out[at + 1]) | (v >> 8));
    bit += 6;
  }
  return out;
}

std::optional<hll_sketch> hll_sketch::parse(std::string_view bytes) {
  if (bytes.size() < 3 || bytes[0] != format_tag || bytes[1] != format_version) return std::nullopt;
  const auto p = static_cast<unsigned>(static_cast<unsigned char>(bytes[2]));
  if (p < 4 || p > 18 || bytes.size() != 3 + packed_size(std::size_t{1} << p)) return std::nullopt;
  hll_sketch s(p);
  const std::uint8_t max_rank = static_cast<std::uint8_t>(64 - p + 1);
  const auto byte = [&](std::size_t i) -> unsigned {
    return i < bytes.size() ? static_cast<unsigned char>(bytes[i]) : 0u;
  };
  std::size_t bit = 0;
  for (std::size_t i = 0; i < s.regs_.size(); ++i, bit += 6) {
    const std::size_t at = 3 + bit / 8;
    const unsigned word = byte(at) | (byte(at + 1) << 8);
    const auto r = static_cast<std::uint8_t>((word >> (bit % 8)) & 0x3f);
    if (r > max_rank) return std::nullopt;
    s.regs_[i] = r;
  }
  return s;
}

atomic_hll::atomic_hll(unsigned precision)
    : p_(std::clamp(precision, 4u, 18u)),
      regs_(std::make_unique<std::atomic<std::uint8_t>[]>(std::size_t{1} << p_)) {}

void atomic_hll::merge_into(hll_sketch& out) const noexcept {
  if (out.precision() != p_) return;
  auto regs = out.registers();
  for (std::size_t i = 0; i < regs.size(); ++i) {
    const std::uint8_t r = regs_[i].load(std::memory_order_relaxed);
    if (r > regs[i]) regs[i] = r;
  }
}

void atomic_hll::merge_from(const hll_sketch& in) noexcept {
  if (in.precision() != p_) return;
  auto regs = in.registers();
  for (std::size_t i = 0; i < regs.size(); ++i) {
    std::uint8_t cur = regs_[i].load(std::memory_order_relaxed);
    while (regs[i] > cur &&
           !regs_[i].compare_exchange_weak(cur, regs[i], std::memory_order_relaxed)) {
    }
  }
}

void atomic_hll::clear() noexcept {
  const std::size_t m = std::size_t{1} << p_;
  for (std::size_t i = 0; i < m; ++i)
    regs_[i].store(0, std::memory_order_relaxed);
}

double atomic_hll::estimate() const {
  std::vector<std::uint32_t> counts(64 - p_ + 2, 0);
  const std::size_t m = std::size_t{1} << p_;
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint8_t r = regs_[i].load(std::memory_order_relaxed);
    ++counts[std::min<std::size_t>(r, counts.size() - 1)];
  }
  return hll_estimate(counts, p_);
}

}  // namespace pvc
