// uart: the dynperiph chardev example (register map: uart.svd, embedded into the .so).
//
// Plugin interface:
//   MMIO     0x1000 bytes, registers from uart.svd (ID, DATA, STATUS, CTRL, RXCOUNT, TXCOUNT, FIFOSIZE)
//   IRQ      line 0 = CTRL.RXIE && STATUS.RXNE, line 1 = CTRL.TXEIE && STATUS.TXEMPTY (level)
//   chardev  port 0 (-device dynperiph,...,chardev=ID): required
//   args     fifo (depth of each FIFO in bytes, 1..256, default 16)
//
// TX: a DATA write pushes into the TX FIFO, which drains into the chardev as fast as the backend takes it
// (a short write waits for the writable() callback). RX: the chardev delivers at most as many bytes as the
// RX FIFO has room for (the credit is topped up to the free space after every pop), so a socket peer is
// held back instead of losing bytes. Hot reload: both FIFOs travel in the state blob; the connection and
// its outstanding credit belong to the device and stay, so no byte is lost or reordered across a reload.
// Only light SDK headers: chardev.hpp adds <dynperiph/chardev.h> and nothing else.
#include <dynperiph/sdk/args.hpp>
#include <dynperiph/sdk/chardev.hpp>
#include <dynperiph/sdk/embedded_svd.hpp>
#include <dynperiph/sdk/peripheral.hpp>

namespace {

using dynperiph::WriteEvent;

constexpr unsigned kMaxFifo = 256;

// A byte ring of capacity cap_ <= kMaxFifo.
class Fifo {
  public:
    explicit Fifo(unsigned cap) : cap_(cap) {}
    unsigned size() const { return n_; }
    unsigned free() const { return cap_ - n_; }
    bool empty() const { return n_ == 0; }
    bool full() const { return n_ == cap_; }
    void push(uint8_t b) { buf_[(head_ + n_++) % cap_] = b; }
    uint8_t pop() {
        uint8_t b = buf_[head_];
        head_ = (head_ + 1) % cap_;
        --n_;
        return b;
    }
    // The bytes from the head up to the end of the ring (for one write call).
    const uint8_t *front(unsigned &len) const {
        len = n_ < cap_ - head_ ? n_ : cap_ - head_;
        return buf_ + head_;
    }
    void drop(unsigned k) {
        head_ = (head_ + k) % cap_;
        n_ -= k;
    }
    void clear() { head_ = n_ = 0; }
    void save(dynperiph::StateWriter &w) const {
        w.u16(uint16_t(n_));
        for (unsigned i = 0; i < n_; ++i)
            w.u8(buf_[(head_ + i) % cap_]);
    }
    void load(dynperiph::StateReader &r) {
        unsigned n = r.u16();
        if (n > cap_)
            throw dynperiph::Error("state holds %u FIFO bytes, this FIFO takes %u", n, cap_);
        clear();
        for (unsigned i = 0; i < n; ++i)
            push(r.u8());
    }

  private:
    uint8_t buf_[kMaxFifo] = {};
    unsigned cap_, head_ = 0, n_ = 0;
};

class Uart final : public dynperiph::Peripheral {
  public:
    explicit Uart(const dynperiph::CreateArgs &a)
        : Peripheral(a), depth_(fifo_arg(this->args())), rx_(depth_), tx_(depth_), port_(host(), 0) {
        regs() = dynperiph::RegisterBank::from_svd_text(dynperiph::embedded_svd_text, "DPUART",
                                                        dynperiph::embedded_svd_source);
        auto &r = regs();
        rxne_ = r.field("STATUS", "RXNE");
        rxfull_ = r.field("STATUS", "RXFULL");
        txempty_ = r.field("STATUS", "TXEMPTY");
        txfull_ = r.field("STATUS", "TXFULL");
        connected_ = r.field("STATUS", "CONNECTED");
        txovr_ = r.field("STATUS", "TXOVR");
        rxundr_ = r.field("STATUS", "RXUNDR");
        rxie_ = r.field("CTRL", "RXIE");
        txeie_ = r.field("CTRL", "TXEIE");
        rxcount_ = r.reg("RXCOUNT");
        txcount_ = r.reg("TXCOUNT");
        fifosize_ = r.reg("FIFOSIZE");
        data_ = r.reg("DATA");

        r.on_read("DATA", [this](uint32_t) -> uint32_t {
            if (rx_.empty()) {
                rxundr_.set(1);
                return 0;
            }
            uint8_t b = rx_.pop();
            port_.top_up(rx_.free());
            sync();
            return b;
        });
        r.on_write("DATA", [this](const WriteEvent &e) {
            if (!(e.mask & 0xffu))
                return;
            if (tx_.full()) {
                txovr_.set(1);
                guest_error("DATA write with the TX FIFO full: byte 0x%02x dropped", unsigned(e.written & 0xffu));
            } else {
                tx_.push(uint8_t(e.written));
                drain_tx();
            }
            sync();
        });
        r.on_write("CTRL", [this](const WriteEvent &) { sync(); });

        port_.on_receive([this](const uint8_t *b, size_t n) {
            for (size_t i = 0; i < n; ++i) {
                if (rx_.full()) { // the credit makes this impossible; never overrun the ring
                    log_error("chardev delivered %zu bytes beyond the RX FIFO", n - i);
                    break;
                }
                rx_.push(b[i]);
            }
            sync();
        });
        port_.on_writable([this] {
            drain_tx();
            sync();
        });
        port_.on_event([this](dp_chardev_event) { sync(); });
        fifosize_.set(depth_);
        sync();
    }

    // The credit is topped up only here and after pops: the constructor runs before load_state (and in
    // the trial child), so granting there would count a restored FIFO's bytes as free.
    void activate() override {
        port_.top_up(rx_.free());
        drain_tx();
        sync();
    }

    void reset() override {
        regs().reset();
        rx_.clear();
        tx_.clear();
        fifosize_.set(depth_);
        port_.top_up(rx_.free());
        sync();
    }

    dp_status save_state(dynperiph::StateWriter &w) override {
        Peripheral::save_state(w);
        rx_.save(w);
        tx_.save(w);
        return DP_OK;
    }

    dp_status load_state(uint32_t version, dynperiph::StateReader &r) override {
        Peripheral::load_state(version, r);
        rx_.load(r);
        tx_.load(r);
        fifosize_.set(depth_);
        sync();
        return DP_OK;
    }

  private:
    static unsigned fifo_arg(const char *text) {
        dynperiph::Args a(text);
        unsigned depth = unsigned(a.u64("fifo", 16, 1, kMaxFifo));
        a.finish();
        return depth;
    }

    void drain_tx() {
        while (!tx_.empty()) {
            unsigned len = 0;
            const uint8_t *p = tx_.front(len);
            size_t n = port_.write(p, len);
            tx_.drop(unsigned(n));
            if (n < len)
                return; // backend full: on_writable() continues
        }
    }

    void sync() {
        rxne_.set(!rx_.empty());
        rxfull_.set(rx_.full());
        txempty_.set(tx_.empty());
        txfull_.set(tx_.full());
        connected_.set(port_.connected());
        rxcount_.set(rx_.size());
        txcount_.set(tx_.size());
        irq(0, rxie_.get() && !rx_.empty());
        irq(1, txeie_.get() && tx_.empty());
    }

    unsigned depth_;
    Fifo rx_, tx_;
    dynperiph::Chardev port_;
    dynperiph::Field rxne_, rxfull_, txempty_, txfull_, connected_, txovr_, rxundr_, rxie_, txeie_;
    dynperiph::Reg rxcount_, txcount_, fifosize_, data_;
};

} // namespace

DYNPERIPH_PLUGIN(Uart, "uart", "UART with TX/RX FIFOs on a QEMU chardev (dynperiph example)", 0x1000, 2, 1)
