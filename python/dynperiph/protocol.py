"""The child side of the isolation channel (isolate/dp_isolate_proto.h): fixed offsets in a shared
memfd (fd 3), doorbells as futex words, one message in flight.

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
import ctypes
import mmap
import os
import platform
import struct
import time

MAGIC, VERSION, CHILD_FD = 0x4F534944, 1, 3
OFF_MAGIC, OFF_VERSION, OFF_PARENT_PID = 0, 4, 8
OFF_TO_CHILD, OFF_CHILD_SLEEPS, OFF_TO_PARENT, OFF_PARENT_SLEEPS = 64, 68, 128, 132
OFF_REQ, OFF_RSP, OFF_DATA = 72, 136, 4096
DATA_SIZE = 4 << 20
SHM_SIZE = OFF_DATA + DATA_SIZE
MSG = struct.Struct("<IIQQQII")   # op, status, a, b, c, len, reserved

HELLO, FATAL = 1, 2
CREATE, DESTROY, RESET, READ, WRITE, SAVE, LOAD, TIMER, QUIT = 10, 11, 12, 13, 14, 15, 16, 17, 18
SVC_DMA_READ, SVC_DMA_WRITE, SVC_SET_IRQ, SVC_CLOCK = 30, 31, 32, 33
SVC_TIMER_NEW, SVC_TIMER_ARM, SVC_TIMER_CANCEL, SVC_TIMER_FREE, SVC_LOG, SVC_RUN_BLOCKING = 34, 35, 36, 37, 38, 39
BLOCKING_DONE, DONE, SVC_REPLY, BLOCKING_GO = 40, 50, 51, 52
HAS_RESET, HAS_SAVE, HAS_LOAD = 1, 2, 4

_SYS_FUTEX = {"x86_64": 202, "aarch64": 98, "i686": 240, "armv7l": 240}.get(platform.machine(), 202)
_FUTEX_WAIT, _FUTEX_WAKE = 0, 1
_PR_SET_PDEATHSIG = 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Channel:
    """Waiting spins SPIN_S first, then sleeps on the futex in SLICE_S slices (checking the parent)."""
    SPIN_S = 100e-6
    SLICE_S = 0.1

    def __init__(self, fd=CHILD_FD):
        self.mm = mmap.mmap(fd, SHM_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        u32 = lambda off: ctypes.c_uint32.from_buffer(self.mm, off)  # noqa: E731 (native 4-byte access)
        if u32(OFF_MAGIC).value != MAGIC:
            raise OSError("fd %d is not a dynperiph isolation channel" % fd)
        self.version = u32(OFF_VERSION).value
        self.parent = u32(OFF_PARENT_PID).value
        self.to_child, self.child_sleeps = u32(OFF_TO_CHILD), u32(OFF_CHILD_SLEEPS)
        self.to_parent, self.parent_sleeps = u32(OFF_TO_PARENT), u32(OFF_PARENT_SLEEPS)
        self.seen = self.to_child.value
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long
        self._to_child_addr = ctypes.addressof(self.to_child)
        self._to_parent_addr = ctypes.addressof(self.to_parent)
        self._slice = _Timespec(int(self.SLICE_S), int((self.SLICE_S % 1) * 1e9))
        self._libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)     # QEMU gone: so is this process
        if os.getppid() != self.parent:
            os._exit(0)

    def data(self, n, off=0):
        return self.mm[OFF_DATA + off:OFF_DATA + off + n]

    def put_data(self, b, off=0):
        self.mm[OFF_DATA + off:OFF_DATA + off + len(b)] = b

    def post(self, op, status=0, a=0, b=0, c=0, length=0):
        MSG.pack_into(self.mm, OFF_RSP, op, status, a, b, c, length, 0)
        self.to_parent.value = (self.to_parent.value + 1) & 0xFFFFFFFF   # the only writer of this word
        if self.parent_sleeps.value:
            self._libc.syscall(_SYS_FUTEX, ctypes.c_void_p(self._to_parent_addr), _FUTEX_WAKE, 1, None, None, 0)

    def wait(self):
        """The next message from QEMU: (op, status, a, b, c, len)."""
        bell = self.to_child
        seen = self.seen
        if bell.value == seen:
            t_end = time.perf_counter() + self.SPIN_S
            while bell.value == seen and time.perf_counter() < t_end:
                pass
            while bell.value == seen:
                self.child_sleeps.value = 1
                v = bell.value
                if v == seen:
                    self._libc.syscall(_SYS_FUTEX, ctypes.c_void_p(self._to_child_addr), _FUTEX_WAIT,
                                       ctypes.c_uint32(v), ctypes.byref(self._slice), None, 0)
                self.child_sleeps.value = 0
                if bell.value == seen and os.getppid() != self.parent:
                    os._exit(0)
        self.seen = bell.value
        return MSG.unpack_from(self.mm, OFF_REQ)[:6]
