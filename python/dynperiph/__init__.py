"""dynperiph peripherals in Python: a class that QEMU's dynperiph device runs in a child process
(isolate=on), speaking the isolation protocol of isolate/dp_isolate_proto.h.

    from dynperiph import Peripheral, RegisterBank

    class Mine(Peripheral):
        name, description, mmio_size, irq_count, state_version = "mine", "what it does", 0x1000, 1, 1

        def __init__(self, host, args):
            super().__init__(host, args)
            self.regs = RegisterBank.from_svd(os.path.join(HERE, "mine.svd"), "MINE")
            self.regs.on_write("CTRL", "START", lambda e: e.written and self.go())

    qemu-system-arm ... -device dynperiph,plugin=mine.py,isolate=on,isolate-host=python/dp-python-host,...

Debian's python3 only (no third-party modules). SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
from .peripheral import (DP_OK, DP_ERR_BUS, DP_ERR_INVALID, DP_ERR_RANGE, DP_ERR_BUSY, DP_ERR_UNSUPPORTED,
                         LOG_DEBUG, LOG_INFO, LOG_GUEST_ERROR, LOG_UNIMP, LOG_ERROR, Peripheral, Timer,
                         Busy)
from .svd import RegisterBank, SvdError, WriteEvent

__all__ = ["Peripheral", "Timer", "Busy", "RegisterBank", "SvdError", "WriteEvent", "DP_OK", "DP_ERR_BUS",
           "DP_ERR_INVALID", "DP_ERR_RANGE", "DP_ERR_BUSY", "DP_ERR_UNSUPPORTED", "LOG_DEBUG", "LOG_INFO",
           "LOG_GUEST_ERROR", "LOG_UNIMP", "LOG_ERROR"]
