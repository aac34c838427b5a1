// Explicitly seeded random streams (private). Every draw comes from a stream keyed by
// (config seed, purpose, tile, vector), so results never depend on thread count or scheduling.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace cimsim {

inline std::uint64_t splitmix64(std::uint64_t &s) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

enum class Stream : std::uint64_t { Program = 1, ReadNoise = 2 };

// xoshiro256** (Blackman & Vigna), seeded by splitmix64 over the stream key.
class Rng {
public:
    Rng(std::uint64_t seed, Stream purpose, std::uint64_t a, std::uint64_t b = 0) {
        std::uint64_t k = seed;
        k = splitmix64(k) ^ (std::uint64_t(purpose) * 0xD1B54A32D192ED03ull);
        k = splitmix64(k) ^ (a * 0xABC98388FB8FAC03ull);
        k = splitmix64(k) ^ (b * 0x8CB92BA72F3D8DD7ull);
        for (auto &x : s_) x = splitmix64(k);
    }
    std::uint64_t next() {
        const std::uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
        s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t, s_[3] = rotl(s_[3], 45);
        return r;
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double normal() {                                              // Box–Muller, one value per call pair
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = 0;
        while (u1 <= 0) u1 = uniform();
        const double u2 = uniform(), rad = std::sqrt(-2.0 * std::log(u1)), th = 6.283185307179586 * u2;
        spare_ = rad * std::sin(th);
        has_spare_ = true;
        return rad * std::cos(th);
    }

    // Standard normal from a 16384-entry inverse-CDF table (midpoint quantiles, |z| ≤ 3.9): four draws per
    // 64-bit random number. Used for per-read noise, where Box–Muller's log/sin would dominate run time.
    float normal_fast() {
        if (left_ == 0) bits_ = next(), left_ = 4;
        const float z = normal_table()[bits_ & 16383u];
        bits_ >>= 16, --left_;
        return z;
    }

    // n values of normal_fast() in a row (the same values, in the same order).
    void fill_normal_fast(float *out, std::size_t n) {
        const float *t = normal_table();
        std::size_t i = 0;
        for (; i < n && left_ > 0; ++i) out[i] = normal_fast();  // the rest of the current 64-bit draw
        for (; i + 4 <= n; i += 4) {
            const std::uint64_t b = next();
            out[i] = t[b & 16383u], out[i + 1] = t[(b >> 16) & 16383u], out[i + 2] = t[(b >> 32) & 16383u],
            out[i + 3] = t[(b >> 48) & 16383u];
        }
        for (; i < n; ++i) out[i] = normal_fast();
    }

    // The xoshiro256** state, for generators that step several streams at once in SIMD lanes (next() is
    // the generator's whole output function; a fresh Rng has no buffered draws).
    const std::uint64_t *state() const { return s_; }

    static const float *normal_table() {
        static const std::vector<float> table = [] {
            std::vector<float> t(16384);
            for (std::size_t i = 0; i < t.size(); ++i) {
                const double u = (double(i) + 0.5) / double(t.size());
                double lo = -10, hi = 10;  // Φ(z) = u by bisection; Φ(z) = erfc(−z/√2)/2
                for (int it = 0; it < 60; ++it) {
                    const double mid = 0.5 * (lo + hi);
                    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < u ? lo : hi) = mid;
                }
                t[i] = float(0.5 * (lo + hi));
            }
            return t;
        }();
        return table.data();
    }

private:
    std::uint64_t bits_ = 0;
    int left_ = 0;
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace cimsim
