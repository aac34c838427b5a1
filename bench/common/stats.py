"""Summary statistics for the benchmarks: median with a distribution-free 95 % interval, means, ratios.

The interval is the confidence interval of the median from order statistics (no assumption about the
shape of the distribution, robust to the long right tail a shared machine produces): the widest-inward
pair (x_(k), x_(n-k+1)) of the sorted sample whose coverage 1 - 2 * P(Binomial(n, 1/2) <= k-1) is still
>= 95 %. Below n = 6 no pair reaches 95 % (n = 5: [min, max] covers 93.75 %); the coverage reached is
reported with every interval, so a figure never claims more than its sample gives.

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
import math
import statistics


def _binom_cdf_half(k, n):
    """P(Binomial(n, 1/2) <= k), in log space (n up to millions)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)
            for i in range(k + 1)]
    m = max(logs)
    return min(1.0, math.exp(m) * sum(math.exp(v - m) for v in logs))


def median_ci(xs, level=0.95):
    """(low, high, coverage) of the median of xs: order statistics, coverage >= level when n allows."""
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise ValueError("median_ci of an empty sample")
    if n == 1:
        return s[0], s[0], 0.0
    # k: 1-based rank of the lower bound; start from the normal approximation and step to the exact one.
    k = max(1, int((n - 1.96 * math.sqrt(n)) / 2) - 2)
    cov = lambda k: 1.0 - 2.0 * _binom_cdf_half(k - 1, n)  # noqa: E731
    while k > 1 and cov(k) < level:
        k -= 1
    while k + 1 <= (n + 1) // 2 and cov(k + 1) >= level:
        k += 1
    return s[k - 1], s[n - k], cov(k)


def summary(xs, level=0.95):
    """mean, median, its interval (ci_low, ci_high, ci_coverage), min, max, n."""
    lo, hi, c = median_ci(xs, level)
    return {"n": len(xs), "mean": statistics.mean(xs), "median": statistics.median(xs), "ci_low": lo,
            "ci_high": hi, "ci_coverage": c, "min": min(xs), "max": max(xs)}


def ratio(num, den):
    """Ratios of two samples' means and medians (unpaired)."""
    return {"ratio_of_means": statistics.mean(num) / statistics.mean(den),
            "ratio_of_medians": statistics.median(num) / statistics.median(den)}


def fmt_ci(s, scale=1.0, digits=3):
    """'median [low, high]' of a summary, values multiplied by scale."""
    f = "%%.%df" % digits
    return (f + " [" + f + ", " + f + "]") % (s["median"] * scale, s["ci_low"] * scale, s["ci_high"] * scale)
