// engine/latency_histogram.h — frame-received-to-callback latencies, recorded on the engine
// thread without allocation: a log-linear histogram for quantiles (8 sub-buckets per power
// of two: a quantile is reported as its bucket's upper bound, at most 12.5% above the true
// value) and fixed Prometheus buckets (exact counts per `le` bound).
//
//   LatencyHistogram h;
//   h.record(now_ns - recv_ns);
//   h.quantile(0.5);   // ns
//
// Thread-safety: one thread records and reads (the engine's); copy it to hand it over.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace obr::engine {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 3;  // 8 sub-buckets per power of two
  static constexpr std::size_t kBuckets = 64 * 8;
  // Prometheus `le` bounds, in ns (1 µs … 100 ms), then +Inf.
  static constexpr std::array<std::int64_t, 14> kBoundsNs = {1'000,     2'000,     5'000,      10'000,     20'000,
                                                             50'000,    100'000,   200'000,    500'000,    1'000'000,
                                                             2'000'000, 5'000'000, 10'000'000, 100'000'000};

  void record(std::int64_t ns) noexcept {
    if (ns < 0) ns = 0;
    const auto v = static_cast<std::uint64_t>(ns);
    ++counts_[index(v)];
    ++count_;
    sum_ns_ += v;
    if (v > max_ns_) max_ns_ = v;
    for (std::size_t i = 0; i < kBoundsNs.size(); ++i) {
      if (ns <= kBoundsNs[i]) {
        ++le_[i];
        break;
      }
    }
  }

  // quantile q in [0, 1]: the upper bound of the bucket holding the q-th value (0 if empty).
  std::uint64_t quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
    if (rank >= count_) rank = count_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) {
        const std::uint64_t upper = upper_bound(i);
        return upper < max_ns_ ? upper : max_ns_;
      }
    }
    return max_ns_;
  }

  // merge: other's values added to this one's, as if recorded here.
  void merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    for (std::size_t i = 0; i < le_.size(); ++i) le_[i] += other.le_[i];
    count_ += other.count_;
    sum_ns_ += other.sum_ns_;
    if (other.max_ns_ > max_ns_) max_ns_ = other.max_ns_;
  }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t sum_ns() const noexcept { return sum_ns_; }
  std::uint64_t max_ns() const noexcept { return max_ns_; }
  // cumulative_le(i): values <= kBoundsNs[i] (Prometheus bucket i).
  std::uint64_t cumulative_le(std::size_t i) const noexcept {
    std::uint64_t n = 0;
    for (std::size_t k = 0; k <= i && k < kBoundsNs.size(); ++k) n += le_[k];
    return n;
  }

  // index: values below 8 map to themselves; above, 8 sub-buckets per power of two.
  static constexpr std::size_t index(std::uint64_t v) noexcept {
    if (v < (1u << kSubBits)) return static_cast<std::size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const auto sub = static_cast<std::size_t>((v >> (msb - kSubBits)) & ((1u << kSubBits) - 1));
    return static_cast<std::size_t>(msb - kSubBits + 1) * (1u << kSubBits) + sub;
  }
  // upper_bound: the largest value that maps to bucket i.
  static constexpr std::uint64_t upper_bound(std::size_t i) noexcept {
    if (i < (1u << kSubBits)) return i;
    const std::size_t group = i / (1u << kSubBits);  // >= 1
    const std::size_t sub = i % (1u << kSubBits);
    const int msb = static_cast<int>(group) + kSubBits - 1;
    const std::uint64_t base = (std::uint64_t{1} << msb) | (std::uint64_t{sub} << (msb - kSubBits));
    return base + (std::uint64_t{1} << (msb - kSubBits)) - 1;
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::array<std::uint64_t, kBoundsNs.size()> le_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ns_ = 0;
  std::uint64_t max_ns_ = 0;
};

}  // namespace obr::engine
