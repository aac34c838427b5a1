// A tiny fork-join helper (private): runs fn(i) for i in [0, n) on up to `threads` std::threads.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace cimsim {

template <typename Fn> void parallel_for(std::size_t n, int threads, Fn &&fn) {
    const std::size_t nt = std::min<std::size_t>(n, std::size_t(std::max(1, threads)));
    if (nt <= 1) {
        for (std::size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::exception_ptr err;
    std::mutex err_mu;
    auto worker = [&] {
        try {
            for (std::size_t i; (i = next.fetch_add(1)) < n;) fn(i);
        } catch (...) {
            std::lock_guard lk(err_mu);
            if (!err) err = std::current_exception();
            next = n;
        }
    };
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < nt; ++t) pool.emplace_back(worker);
    worker();
    for (auto &t : pool) t.join();
    if (err) std::rethrow_exception(err);
}

}  // namespace cimsim
