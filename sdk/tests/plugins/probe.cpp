// Test plugin for the SDK trampolines and the harness. Registers (declared in code):
//   0x00 CMD   (WO) writing N runs action N (see act())
//   0x04 ARG   (RW) argument of the action
//   0x08 OUT   (RO) result of the last action
//   0x0C STATE (RW) plain state, carried through save/restore
// args: fail=error|bad_alloc|int  (constructor throws), big=1 (register beyond the MMIO size)
#include <new>

#include <dynperiph/sdk/args.hpp>
#include <dynperiph/sdk/peripheral.hpp>

namespace {

class Probe final : public dynperiph::Peripheral {
  public:
    explicit Probe(const dynperiph::CreateArgs &a) : Peripheral(a), timer_(host(), [this] { tick(); }) {
        dynperiph::Args args(this->args());
        const char *fail = args.str("fail", "");
        bool big = args.flag("big", false);
        args.finish();
        if (fail[0] == 'e')
            throw dynperiph::Error("probe: constructor failure requested (%s)", fail);
        if (fail[0] == 'b')
            throw std::bad_alloc();
        if (fail[0] == 'i')
            throw 42;
        auto &r = regs();
        r.add("CMD", 0x00, 0, dynperiph::Access::WO);
        r.add("ARG", 0x04);
        r.add("OUT", 0x08, 0, dynperiph::Access::RO);
        r.add("STATE", 0x0C);
        if (big)
            r.add("FAR", 0x2000);
        r.on_write("CMD", [this](const dynperiph::WriteEvent &e) { act(e.new_value); });
    }

    dp_status load_state(uint32_t version, dynperiph::StateReader &r) override {
        if (version != 1)
            throw dynperiph::Error("probe: cannot load state version %u", version);
        return Peripheral::load_state(version, r);
    }

  private:
    void act(uint32_t cmd) {
        auto &r = regs();
        uint32_t arg = r.get("ARG");
        switch (cmd) {
        case 1: // throw from a hook
            throw dynperiph::Error("probe: hook failure requested");
        case 2: { // DMA: OUT = sum of 16 bytes at ARG, then write 16 bytes of 0xA5 at ARG+16
            uint8_t buf[16];
            if (host().dma_read(arg, buf) != DP_OK) {
                r.set("OUT", 0xFFFFFFFF);
                return;
            }
            uint32_t sum = 0;
            for (uint8_t b : buf)
                sum += b;
            uint8_t fill[16];
            for (uint8_t &b : fill)
                b = 0xA5;
            r.set("OUT", host().dma_write(uint64_t(arg) + 16, fill) == DP_OK ? sum : 0xFFFFFFFE);
            return;
        }
        case 3: // timer: after ARG ns raise IRQ line 1 and count ticks in OUT
            timer_.arm_in(arg);
            return;
        case 4: { // run_blocking: compute on a worker thread
            uint32_t result = 0;
            dp_status st = host().run_blocking([&] {
                for (uint32_t i = 1; i <= arg; ++i)
                    result += i;
            });
            r.set("OUT", st == DP_OK ? result : 0xFFFFFFFF);
            return;
        }
        case 5: // run_blocking whose work throws: rethrown here, reaches the trampoline
            host().run_blocking([] { throw dynperiph::Error("probe: worker failure requested"); });
            return;
        case 6: // run_blocking that (wrongly) calls a host service from the worker thread
            host().run_blocking([this] { (void)host().now_ns(); });
            return;
        case 7: // IRQ line ARG high, then OUT = now
            irq(arg, true);
            r.set("OUT", uint32_t(host().now_ns()));
            return;
        case 8: // lower IRQ line ARG
            irq(arg, false);
            return;
        case 9: // throwing timer callback
            throw_in_timer_ = true;
            timer_.arm_in(arg);
            return;
        default:
            guest_error("probe: unknown command %u", cmd);
        }
    }

    void tick() {
        if (throw_in_timer_) {
            throw_in_timer_ = false;
            throw dynperiph::Error("probe: timer failure requested");
        }
        regs().set("OUT", regs().get("OUT") + 1);
        irq(1, true);
    }

    dynperiph::Timer timer_;
    bool throw_in_timer_ = false;
};

} // namespace

DYNPERIPH_PLUGIN(Probe, "probe", "SDK test plugin", 0x1000, 2, 1)
