// The worker pool behind parallel_for: oneTBB's task scheduler, one arena per thread limit.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "parallel.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <array>
#include <memory>
#include <mutex>
#include <new>

namespace cimsim {

namespace {

// The pool: one arena per thread limit (`threads` is validated to [1, 256]), created on first use. When this
// code is unloaded (process exit, or dlclose of a backend .so that links it) the destructor waits for
// TBB's worker threads to finish, so none is left running in a library that is about to disappear.
struct Pool {
    std::mutex mu;
    tbb::task_scheduler_handle handle{tbb::attach{}};
    std::array<std::unique_ptr<tbb::task_arena>, 257> arenas;

    ~Pool() {
        for (auto &a : arenas) a.reset();
        (void)tbb::finalize(handle, std::nothrow);  // false if another user of TBB keeps it alive: fine
    }
    tbb::task_arena &arena_for(int threads) {
        const std::size_t k = std::size_t(threads < 1 ? 1 : threads > 256 ? 256 : threads);
        std::lock_guard lk(mu);
        if (!arenas[k]) arenas[k] = std::make_unique<tbb::task_arena>(int(k));
        return *arenas[k];
    }
};

tbb::task_arena &arena_for(int threads) {
    static Pool pool;
    return pool.arena_for(threads);
}

}  // namespace

void parallel_ranges(std::size_t n, int threads, RangeFn fn, void *ctx) {
    // Items are already coarse (a vector chunk × column tile): one task each, stolen by idle threads.
    arena_for(threads).execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, n, 1),
            [&](const tbb::blocked_range<std::size_t> &r) {
                // the arena's slot of this thread: [0, threads), one thread per slot at a time
                const int slot = tbb::this_task_arena::current_thread_index();
                fn(ctx, r.begin(), r.end(), std::size_t(slot < 0 ? 0 : slot));
            },
            tbb::simple_partitioner());
    });
}

}  // namespace cimsim
