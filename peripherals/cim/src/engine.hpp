// The cim peripheral's engine: validates a START against the register snapshot, reads weights/inputs
// by DMA, runs the selected operation's backend on a host worker thread and returns the outcome.
// The register-level behaviour (STATUS, IRQ, timing, ODR) lives in cim.cpp. This header stays light
// (no standard library containers): plugin rebuild time is a feature.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstddef>
#include <cstdint>

#include "dynperiph/cim_backend.h"

namespace dynperiph {
class Host;
}

namespace dynperiph::cim {

// ERRCODE values (cim.svd, REGISTERS.md).
enum ErrCode : uint32_t {
    ERR_NONE = 0,
    ERR_ORDER = 1,
    ERR_SIZE = 2,
    ERR_SHAPE = 3,
    ERR_DMA = 4,
    ERR_TOO_LARGE = 5,
    ERR_BUSY = 6,
    ERR_BAD_OP = 7,
    ERR_BAD_DTYPE = 8,
    ERR_BACKEND = 9,
    ERR_OUTPUT = 10,
    ERR_HOST = 11,
};

constexpr uint32_t kMaxElements = 1u << 20; // weights, inputs and result words, each
constexpr uint64_t kDefaultLatencyNs = 1000; // when the backend gives no latency
constexpr unsigned kOdrWords = 256;

// The registers START acts on (a snapshot taken at START).
struct Launch {
    unsigned op = 0;
    uint32_t dtype = 0;
    uint32_t wsr = 0, wer = 0, isr = 0, ier = 0;
    uint32_t rows_field = 0, cols_field = 0;
    uint32_t out_dma = 0;
};

// What START produced. `message` and `outputs` belong to the Engine and stay valid until its next
// start() or release().
struct Outcome {
    uint32_t err = ERR_NONE;
    const char *message = "";         // one line for the log when err != ERR_NONE
    uint32_t nvec = 0;
    const uint32_t *outputs = nullptr; // out_count words
    size_t out_count = 0;
    cim_metrics metrics{};
    uint64_t latency_ns = 0;           // BUSY time: the backend's latency rounded up, or the default
    uint32_t mvalid = 0;               // MVALID bits
};

class Engine {
public:
    // Parses the device's args (config=PATH) and loads the config; throws std::runtime_error
    // (one line) on any problem.
    explicit Engine(const char *args);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    uint32_t opmap() const;
    // Validates, reads, runs. Called on the device thread; the backend runs via host.run_blocking.
    Outcome start(const Launch &l, const Host &host);
    // Frees the last start()'s outputs.
    void release();

private:
    struct Impl;
    Impl *impl_;
};

} // namespace dynperiph::cim
