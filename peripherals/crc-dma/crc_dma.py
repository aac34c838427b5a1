"""crc-dma in Python: the same peripheral as crc-dma.cpp, register bank from the same crc-dma.svd, run by
QEMU's dynperiph device in a child process (isolate=on) through python/dp-python-host:

    qemu-system-arm -M mps2-an385 ... -device dynperiph,plugin=peripherals/crc-dma/crc_dma.py,isolate=on,\
        isolate-host=python/dp-python-host,addr=0x40110000,irq=16

The crc-dma firmware test runs unchanged against it (ctest -R crc-dma.firmware.python).
Plugin interface, operation and args (clock_hz, cycles_per_byte, setup_cycles): as crc-dma.cpp.

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
import os
import struct
import zlib

from dynperiph import DP_OK, Busy, Peripheral, RegisterBank
from dynperiph.peripheral import parse_args

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LEN = 0x100000
NONE, SRC_FAULT, DST_FAULT, TOO_LONG, BUSY, BAD_POLY = range(6)


def _table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


CRC32C = _table(0x82F63B78)


def crc(poly, init, data):
    """Reflected CRC register update over data (no final XOR); IEEE through zlib (C speed)."""
    if poly == 0:
        return zlib.crc32(data, init ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
    c = init
    for b in data:
        c = CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c


class CrcDma(Peripheral):
    name = "crc-dma-py"
    description = "DMA CRC-32 unit (dynperiph example, in Python)"
    mmio_size = 0x1000
    irq_count = 1
    state_version = 1

    def __init__(self, host, args):
        super().__init__(host, args)
        a = parse_args(args)
        self.clock_hz = int(a.pop("clock_hz", "50000000"), 0)
        self.cycles_per_byte = int(a.pop("cycles_per_byte", "1"), 0)
        self.setup_cycles = int(a.pop("setup_cycles", "16"), 0)
        if a:
            raise ValueError("unknown args key '%s' (known: clock_hz, cycles_per_byte, setup_cycles)" % next(iter(a)))
        if not 1 <= self.clock_hz <= 10000000000:
            raise ValueError("clock_hz: %d out of range [1, 10000000000]" % self.clock_hz)
        r = self.regs = RegisterBank.from_svd(os.path.join(HERE, "crc-dma.svd"), "CRC_DMA")
        r.log = self.guest_error
        self.busy, self.done, self.error = r.field("STATUS", "BUSY"), r.field("STATUS", "DONE"), r.field("STATUS", "ERROR")
        self.ie, self.poly, self.copy = r.field("CTRL", "IE"), r.field("CTRL", "POLY"), r.field("CTRL", "COPY")
        self.src, self.len, self.dst, self.init = r.reg("SRC"), r.reg("LEN"), r.reg("DST"), r.reg("INIT")
        self.result, self.errcode, self.last_ns = r.reg("RESULT"), r.reg("ERRCODE"), r.reg("LAST_NS")
        r.on_write("CTRL", "START", lambda e: e.written and self.start())
        r.on_write("CTRL", lambda e: self.update_irq())
        r.on_write("STATUS", lambda e: self.update_irq())
        self.done_timer = self.timer(self.complete)
        self.pending = self.pending_ns = 0

    def update_irq(self):
        self.irq(0, self.ie.get() and (self.done.get() or self.error.get()))

    def reset(self):
        self.done_timer.cancel()
        self.regs.reset()
        self.update_irq()

    def save_state(self):
        if self.busy.get():
            raise Busy()
        return super().save_state()

    def save_extra(self):
        return struct.pack("<IQ", self.pending, self.pending_ns)

    def load_extra(self, blob):
        if len(blob) >= 12:
            self.pending, self.pending_ns = struct.unpack_from("<IQ", blob)

    def fail(self, code):
        self.errcode.set(code)
        self.error.set(1)
        self.guest_error("START failed with ERRCODE %d" % code)
        self.update_irq()

    def start(self):
        if self.busy.get():
            return self.fail(BUSY)
        self.done.set(0)
        self.error.set(0)
        self.errcode.set(NONE)
        n, poly = self.len.get(), self.poly.get()
        if n > MAX_LEN:
            return self.fail(TOO_LONG)
        if poly > 1:
            return self.fail(BAD_POLY)
        data = self.dma_read(self.src.get(), n)
        if data is None:
            return self.fail(SRC_FAULT)
        if self.copy.get() and not self.dma_write(self.dst.get(), data):
            return self.fail(DST_FAULT)
        self.pending = crc(poly, self.init.get(), data) ^ 0xFFFFFFFF
        self.pending_ns = (self.setup_cycles + self.cycles_per_byte * n) * 1000000000 // self.clock_hz
        self.busy.set(1)
        self.update_irq()
        self.done_timer.arm_in(self.pending_ns)
        return DP_OK

    def complete(self):
        self.busy.set(0)
        self.result.set(self.pending)
        self.last_ns.set(min(self.pending_ns, 0xFFFFFFFF))
        self.done.set(1)
        self.update_irq()
