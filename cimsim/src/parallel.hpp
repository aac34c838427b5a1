// Parallel loops on one persistent worker pool (private). SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: parallel_for(n, threads, fn) runs fn(i) for every i in [0, n), each exactly once, on at most
// `threads` threads (the caller included), and returns when all are done. The workers are oneTBB's,
// started once per process and reused, so a call costs a task hand-off, not a thread start; the caller
// works too and takes back items no worker has picked up yet, so a small call never waits for a thread
// to wake. Items must own disjoint outputs (results never depend on the thread count). The first
// exception thrown by fn is rethrown in the caller after the remaining items are cancelled.
// fn may take (i, slot) instead: slot in [0, threads) names the thread running it (no two items run at the
// same time in one slot), for per-thread scratch that lives as long as the call.
#pragma once

#include <cstddef>
#include <type_traits>

namespace cimsim {

// fn(ctx, begin, end, slot) runs items [begin, end). Implemented in parallel.cpp (the only file that sees TBB).
using RangeFn = void (*)(void *ctx, std::size_t begin, std::size_t end, std::size_t slot);
void parallel_ranges(std::size_t n, int threads, RangeFn fn, void *ctx);

template <typename Fn> void parallel_for(std::size_t n, int threads, Fn &&fn) {
    using F = std::remove_reference_t<Fn>;
    auto call = [](F &f, std::size_t i, std::size_t slot) {
        if constexpr (std::is_invocable_v<F &, std::size_t, std::size_t>) f(i, slot);
        else f(i);
    };
    if (threads <= 1 || n <= 1) {
        for (std::size_t i = 0; i < n; ++i) call(fn, i, 0);
        return;
    }
    parallel_ranges(
        n, threads,
        [](void *ctx, std::size_t b, std::size_t e, std::size_t slot) {
            F &f = *static_cast<F *>(ctx);
            for (std::size_t i = b; i < e; ++i) {
                if constexpr (std::is_invocable_v<F &, std::size_t, std::size_t>) f(i, slot);
                else f(i);
            }
        },
        const_cast<void *>(static_cast<const void *>(&fn)));
}

}  // namespace cimsim
