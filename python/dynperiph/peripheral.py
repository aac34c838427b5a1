"""Peripheral: the base class of a Python peripheral, and the host services it may call (during a
callback only, as in the C ABI): irq, clock_ns, timers, dma_read / dma_write (guest RAM only, checked by
QEMU), log, run_blocking.

Class attributes describe the peripheral (the C descriptor's fields): name, description, mmio_size,
irq_count, state_version. Callbacks with safe defaults: read / write (the register bank `self.regs`),
reset (bank to reset values), save_state / load_state (bank values + save_extra / load_extra), destroy.
An exception escaping a callback ends the child like a crash: one line on stderr, QEMU logs the loss
and answers per on-crash=.

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
DP_OK, DP_ERR_BUS, DP_ERR_INVALID, DP_ERR_RANGE, DP_ERR_NOMEM, DP_ERR_UNSUPPORTED, DP_ERR_BUSY = 0, 1, 2, 3, 4, 5, 6
LOG_DEBUG, LOG_INFO, LOG_GUEST_ERROR, LOG_UNIMP, LOG_ERROR = 0, 1, 2, 3, 4


class Busy(Exception):
    """Raise from save_state while an operation is in flight: QEMU retries the reload later."""


class Timer:
    """A one-shot timer on QEMU's virtual clock; cb() runs as a device callback when it fires."""

    def __init__(self, host, cb):
        self._host = host
        self.id = host.timer_new(cb)

    def arm_at(self, deadline_ns):
        self._host.timer_arm(self.id, deadline_ns)

    def arm_in(self, ns):
        self._host.timer_arm(self.id, self._host.clock_ns() + ns)

    def cancel(self):
        self._host.timer_cancel(self.id)


def parse_args(args):
    """'k=v k=v' (or ';'-separated) -> dict; a token without '=' raises ValueError."""
    out = {}
    for tok in args.replace(";", " ").split():
        if "=" not in tok:
            raise ValueError("args: '%s' is not key=value" % tok)
        k, v = tok.split("=", 1)
        out[k] = v
    return out


class Peripheral:
    name = "python-peripheral"
    description = "a dynperiph peripheral in Python"
    mmio_size = 0x1000
    irq_count = 0
    state_version = 1

    def __init__(self, host, args):
        self.host = host
        self.args = args
        self.regs = None

    # ---- host services --------------------------------------------------------------------------
    def irq(self, line, level):
        self.host.set_irq(line, 1 if level else 0)

    def clock_ns(self):
        return self.host.clock_ns()

    def timer(self, cb):
        return Timer(self.host, cb)

    def dma_read(self, addr, n):
        """bytes, or None if [addr, addr+n) is not guest RAM."""
        return self.host.dma_read(addr, n)

    def dma_write(self, addr, data):
        """True, or False (nothing written) if the range is not guest RAM."""
        return self.host.dma_write(addr, bytes(data))

    def log(self, msg, level=LOG_INFO):
        self.host.log(level, msg)

    def guest_error(self, msg):
        self.host.log(LOG_GUEST_ERROR, msg)

    def run_blocking(self, fn):
        """Runs fn() while the vCPU waits with QEMU's lock released; fn must not call host services."""
        return self.host.run_blocking(fn)

    # ---- callbacks ------------------------------------------------------------------------------
    def reset(self):
        if self.regs is not None:
            self.regs.reset()

    def read(self, offset, size):
        """-> (status, value)"""
        return self.regs.read(offset, size) if self.regs is not None else (DP_ERR_BUS, 0)

    def write(self, offset, size, value):
        """-> status"""
        return self.regs.write(offset, size, value) if self.regs is not None else DP_ERR_BUS

    def save_extra(self):
        return b""

    def load_extra(self, blob):
        pass

    def save_state(self):
        """-> bytes (raise Busy while an operation is in flight)"""
        return (self.regs.save() if self.regs is not None else b"") + self.save_extra()

    def load_state(self, version, blob):
        """-> status; DP_ERR_INVALID for a blob of another version"""
        if version != self.state_version:
            return DP_ERR_INVALID
        rest = self.regs.load(blob) if self.regs is not None else blob
        self.load_extra(rest)
        return DP_OK

    def destroy(self):
        pass
