// crc-dma: the dynperiph example peripheral (register map: crc-dma.svd, embedded into the .so).
//
// Plugin interface:
//   MMIO   0x1000 bytes, registers from crc-dma.svd (ID, CTRL, STATUS, SRC, LEN, DST, INIT, RESULT,
//          ERRCODE, LAST_NS)
//   IRQ    line 0 = CTRL.IE && (STATUS.DONE || STATUS.ERROR), level-triggered
//   args   clock_hz (default 50000000), cycles_per_byte (default 1), setup_cycles (default 16)
//
// Operation: writing CTRL.START=1 validates LEN and POLY, reads [SRC, SRC+LEN) by DMA (in 256-byte
// chunks, computing the CRC as it goes, and copying each chunk to DST when CTRL.COPY=1), then sets BUSY
// for (setup_cycles + cycles_per_byte * LEN) / clock_hz of virtual time. When the timer fires: BUSY=0,
// RESULT, LAST_NS, DONE=1, IRQ. Errors (ERRCODE) are reported immediately with ERROR=1, without BUSY.
// The source is sampled at START (a guest writing the buffer while BUSY does not change RESULT).
#include <dynperiph/sdk/args.hpp>
#include <dynperiph/sdk/embedded_svd.hpp>
#include <dynperiph/sdk/peripheral.hpp>

namespace {

using dynperiph::WriteEvent;

constexpr uint32_t kMaxLen = 0x100000;
enum ErrCode : uint32_t { kNone = 0, kSrcFault = 1, kDstFault = 2, kTooLong = 3, kBusy = 4, kBadPoly = 5 };

struct CrcTable {
    uint32_t t[256];
    explicit constexpr CrcTable(uint32_t poly_reflected) : t() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? (c >> 1) ^ poly_reflected : c >> 1;
            t[i] = c;
        }
    }
};
constexpr CrcTable kCrc32(0xEDB88320u);  // IEEE 802.3 (0x04C11DB7 reflected)
constexpr CrcTable kCrc32c(0x82F63B78u); // Castagnoli (0x1EDC6F41 reflected)

class CrcDma final : public dynperiph::Peripheral {
  public:
    explicit CrcDma(const dynperiph::CreateArgs &a) : Peripheral(a), done_timer_(host(), [this] { complete(); }) {
        dynperiph::Args args(this->args());
        clock_hz_ = args.u64("clock_hz", 50000000, 1, 10000000000ull);
        cycles_per_byte_ = args.u64("cycles_per_byte", 1, 0, 1000000);
        setup_cycles_ = args.u64("setup_cycles", 16, 0, 1000000000);
        args.finish();

        regs() = dynperiph::RegisterBank::from_svd_text(dynperiph::embedded_svd_text, "CRC_DMA",
                                                        dynperiph::embedded_svd_source);
        auto &r = regs();
        busy_ = r.field("STATUS", "BUSY");
        done_ = r.field("STATUS", "DONE");
        error_ = r.field("STATUS", "ERROR");
        ie_ = r.field("CTRL", "IE");
        poly_ = r.field("CTRL", "POLY");
        copy_ = r.field("CTRL", "COPY");
        src_ = r.reg("SRC");
        len_ = r.reg("LEN");
        dst_ = r.reg("DST");
        init_ = r.reg("INIT");
        result_ = r.reg("RESULT");
        errcode_ = r.reg("ERRCODE");
        last_ns_ = r.reg("LAST_NS");

        r.on_write("CTRL", "START", [this](const WriteEvent &e) {
            if (e.written)
                start();
        });
        r.on_write("CTRL", [this](const WriteEvent &) { update_irq(); });
        r.on_write("STATUS", [this](const WriteEvent &) { update_irq(); });
    }

    void reset() override {
        done_timer_.cancel();
        regs().reset();
        update_irq();
    }

    dp_status save_state(dynperiph::StateWriter &w) override {
        if (busy_.get())
            return DP_ERR_BUSY; // the host retries once the operation completed
        return Peripheral::save_state(w);
    }

  private:
    void update_irq() { irq(0, ie_.get() && (done_.get() || error_.get())); }

    void fail(ErrCode code) {
        errcode_.set(code);
        error_.set(1);
        guest_error("START failed with ERRCODE %u", unsigned(code));
        update_irq();
    }

    void start() {
        if (busy_.get())
            return fail(kBusy);
        done_.set(0);
        error_.set(0);
        errcode_.set(kNone);
        const uint32_t len = len_.get();
        const uint32_t poly = poly_.get();
        if (len > kMaxLen)
            return fail(kTooLong);
        if (poly > 1)
            return fail(kBadPoly);
        const CrcTable &tab = poly == 0 ? kCrc32 : kCrc32c;
        uint32_t crc = init_.get();
        uint8_t chunk[256];
        for (uint32_t off = 0; off < len; off += sizeof chunk) {
            uint32_t n = len - off < sizeof chunk ? len - off : uint32_t(sizeof chunk);
            if (host().dma_read(uint64_t(src_.get()) + off, chunk, n) != DP_OK)
                return fail(kSrcFault);
            for (uint32_t i = 0; i < n; ++i)
                crc = tab.t[(crc ^ chunk[i]) & 0xffu] ^ (crc >> 8);
            if (copy_.get() && host().dma_write(uint64_t(dst_.get()) + off, chunk, n) != DP_OK)
                return fail(kDstFault);
        }
        pending_ = crc ^ 0xffffffffu;
        const uint64_t cycles = setup_cycles_ + cycles_per_byte_ * uint64_t(len);
        pending_ns_ = cycles * 1000000000ull / clock_hz_;
        busy_.set(1);
        update_irq();
        done_timer_.arm_in(pending_ns_);
    }

    void complete() {
        busy_.set(0);
        result_.set(pending_);
        last_ns_.set(uint32_t(pending_ns_ > 0xffffffffu ? 0xffffffffu : pending_ns_));
        done_.set(1);
        update_irq();
    }

    uint64_t clock_hz_ = 0, cycles_per_byte_ = 0, setup_cycles_ = 0;
    dynperiph::Timer done_timer_;
    dynperiph::Field busy_, done_, error_, ie_, poly_, copy_;
    dynperiph::Reg src_, len_, dst_, init_, result_, errcode_, last_ns_;
    uint32_t pending_ = 0;
    uint64_t pending_ns_ = 0;
};

} // namespace

DYNPERIPH_PLUGIN(CrcDma, "crc-dma", "DMA CRC-32 unit (dynperiph example)", 0x1000, 1, 1)
