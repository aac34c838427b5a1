// The `cim` peripheral plugin (plugins/cim.so): a compute-in-memory MVM accelerator with the published
// register protocol (WSR, WER, control register, ODR) — see cim.svd and REGISTERS.md.
//
// dynperiph interface:
//  * MMIO: 4 KiB, registers from cim.svd (embedded at build time)
//  * IRQ line 0: level, IE && (DONE || ERROR)
//  * args: config=PATH — TOML file mapping OP indices to operation backends (see README.md)
//  * hot reload: state_version 1 (register values by name); save refused with DP_ERR_BUSY while BUSY
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cmath>
#include <cstring>

#include <dynperiph/sdk/embedded_svd.hpp>
#include <dynperiph/sdk/peripheral.hpp>

#include "engine.hpp"

namespace dynperiph::cim {
namespace {

constexpr uint32_t CTRL_START = 1u << 0, CTRL_IE = 1u << 1, CTRL_SOFT_RESET = 1u << 2;
constexpr unsigned CTRL_OP_SHIFT = 8;
constexpr uint32_t CTRL_OP_MASK = 0x1fu << CTRL_OP_SHIFT;
constexpr uint32_t ST_BUSY = 1u << 0, ST_DONE = 1u << 1, ST_ERROR = 1u << 2;

uint32_t f32_bits(double v) {
    const float f = std::isnan(v) ? std::nanf("") : static_cast<float>(v);
    uint32_t w;
    std::memcpy(&w, &f, 4);
    return w;
}

class Cim final : public Peripheral {
public:
    explicit Cim(const CreateArgs &a)
        : Peripheral(a), engine_(a.args), timer_(host(), [this] { complete(); }) {
        regs() = RegisterBank::from_svd_text(embedded_svd_text, "CIM", embedded_svd_source);
        ctrl_ = regs().reg("CTRL");
        status_ = regs().reg("STATUS");
        errcode_ = regs().reg("ERRCODE");
        for (unsigned i = 0; i < kOdrWords; ++i)
            odr_[i] = regs().reg("ODR", i);
        regs().on_write("CTRL", [this](const WriteEvent &e) { on_ctrl(e); });
        regs().on_write("STATUS", [this](const WriteEvent &) { update_irq(); });
        regs().set("OPMAP", engine_.opmap());
    }

    void reset() override {
        timer_.cancel();
        pending_ = Outcome{};
        engine_.release();
        regs().reset();
        regs().set("OPMAP", engine_.opmap());
        update_irq();
    }

    dp_status save_state(StateWriter &w) override {
        if (status_.get() & ST_BUSY)
            return DP_ERR_BUSY;
        return Peripheral::save_state(w);
    }

    dp_status load_state(uint32_t version, StateReader &r) override {
        if (version != 1)
            return DP_ERR_INVALID;
        dp_status st = Peripheral::load_state(version, r);
        status_.set(status_.get() & ~ST_BUSY); // never saved while BUSY; be safe with foreign blobs
        regs().set("OPMAP", engine_.opmap());  // the (possibly new) config decides
        update_irq();
        return st;
    }

private:
    void update_irq() {
        const bool level = (ctrl_.get() & CTRL_IE) && (status_.get() & (ST_DONE | ST_ERROR));
        irq(0, level);
    }

    void on_ctrl(const WriteEvent &e) {
        const uint32_t w = e.written & e.mask;
        ctrl_.set(ctrl_.get() & ~(CTRL_START | CTRL_SOFT_RESET)); // write-only action bits
        if (w & CTRL_SOFT_RESET) {
            reset();
            return;
        }
        if (w & CTRL_START)
            start();
        update_irq();
    }

    void set_error(uint32_t code, const char *msg) {
        errcode_.set(code);
        status_.set(status_.get() | ST_ERROR);
        guest_error("cim: START rejected: %s (ERRCODE %u)", msg, code);
    }

    void start() {
        status_.set(status_.get() & ~(ST_DONE | ST_ERROR));
        if (status_.get() & ST_BUSY) {
            set_error(ERR_BUSY, "START while BUSY (the running operation continues)");
            return;
        }
        Launch l;
        l.op = (ctrl_.get() & CTRL_OP_MASK) >> CTRL_OP_SHIFT;
        l.dtype = regs().get("DTYPE");
        l.wsr = regs().get("WSR");
        l.wer = regs().get("WER");
        l.isr = regs().get("ISR");
        l.ier = regs().get("IER");
        const uint32_t shape = regs().get("SHAPE");
        l.rows_field = shape & 0xffffu;
        l.cols_field = shape >> 16;
        l.out_dma = regs().get("OUT_DMA");
        Outcome o = engine_.start(l, host());
        if (o.err != ERR_NONE) {
            if (o.err == ERR_BACKEND || o.err == ERR_OUTPUT || o.err == ERR_HOST) {
                errcode_.set(o.err);
                status_.set(status_.get() | ST_ERROR);
                log_error("cim: %s (ERRCODE %u)", o.message, o.err);
            } else {
                set_error(o.err, o.message);
            }
            return;
        }
        errcode_.set(ERR_NONE);
        regs().set("NVEC", o.nvec);
        status_.set(status_.get() | ST_BUSY);
        out_dma_ = l.out_dma;
        pending_ = o;
        timer_.arm_in(pending_.latency_ns);
    }

    // The simulated latency has passed: publish the results.
    void complete() {
        const Outcome &o = pending_;
        const size_t n = o.out_count;
        for (unsigned i = 0; i < kOdrWords; ++i)
            odr_[i].set(i < n ? o.outputs[i] : 0);
        regs().set("OUT_COUNT", static_cast<uint32_t>(n));
        regs().set("MVALID", o.mvalid);
        regs().set("LAT_LO", static_cast<uint32_t>(o.latency_ns));
        regs().set("LAT_HI", static_cast<uint32_t>(o.latency_ns >> 32));
        regs().set("ENERGY", f32_bits(o.metrics.energy_pj));
        regs().set("AREA", f32_bits(o.metrics.area_um2));
        regs().set("LEAKAGE", f32_bits(o.metrics.leakage_uw));
        uint32_t st = status_.get() & ~ST_BUSY;
        if (out_dma_ && n && host().dma_write(out_dma_, o.outputs, n * 4) != DP_OK) {
            errcode_.set(ERR_DMA);
            st |= ST_ERROR;
            guest_error("cim: OUT_DMA write to 0x%08x failed (ERRCODE %u)", out_dma_, ERR_DMA);
        } else {
            st |= ST_DONE;
        }
        status_.set(st);
        pending_ = Outcome{};
        engine_.release();
        update_irq();
    }

    Engine engine_;
    Timer timer_;
    Reg ctrl_, status_, errcode_;
    Reg odr_[kOdrWords];
    Outcome pending_;
    uint32_t out_dma_ = 0;
};

} // namespace
} // namespace dynperiph::cim

DYNPERIPH_PLUGIN(dynperiph::cim::Cim, "cim", "compute-in-memory MVM accelerator (WSR/WER/CTRL/ODR protocol)", 0x1000,
                 1, 1)
