"""dp-python-host: runs a Python peripheral for QEMU's dynperiph device (isolate=on). The device starts
`dp-python-host FILE.py` with the channel memfd as fd 3; this loads FILE.py, picks its peripheral class
(the module's PERIPHERAL, else the one dynperiph.Peripheral subclass it defines), posts HELLO and serves
calls until QEMU says QUIT (or goes away: PR_SET_PDEATHSIG).

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
import importlib.util
import inspect
import os
import sys
import traceback

from . import protocol as P
from .peripheral import DP_OK, DP_ERR_BUS, DP_ERR_INVALID, DP_ERR_UNSUPPORTED, DP_ERR_BUSY, Busy, Peripheral


class ServiceError(RuntimeError):
    pass


class Host:
    """The dp_host services, forwarded to QEMU during a call."""

    def __init__(self, ch):
        self.ch = ch
        self.in_call = False
        self.in_work = False
        self.timers = {}
        self.next_timer = 1
        self.instance_name = ""

    def _svc(self, op, a=0, b=0, length=0):
        if not self.in_call or self.in_work:
            raise ServiceError("host service %d called outside a device callback" % op)
        self.ch.post(op, 0, a, b, 0, length)
        return self.ch.wait()

    def dma_read(self, addr, n):
        out = bytearray()
        while True:
            k = min(n - len(out), P.DATA_SIZE)
            op, st, *_ = self._svc(P.SVC_DMA_READ, addr + len(out), k)
            if st != DP_OK:
                return None
            out += self.ch.data(k)
            if len(out) >= n:
                return bytes(out)

    def dma_write(self, addr, data):
        done = 0
        while True:
            chunk = data[done:done + P.DATA_SIZE]
            self.ch.put_data(chunk)
            op, st, *_ = self._svc(P.SVC_DMA_WRITE, addr + done, 0, len(chunk))
            if st != DP_OK:
                return False
            done += len(chunk)
            if done >= len(data):
                return True

    def set_irq(self, line, level):
        self._svc(P.SVC_SET_IRQ, line, level)

    def clock_ns(self):
        return self._svc(P.SVC_CLOCK)[2]

    def timer_new(self, cb):
        tid = self.next_timer
        self.next_timer += 1
        if self._svc(P.SVC_TIMER_NEW, tid)[1] != DP_OK:
            raise ServiceError("no host timer")
        self.timers[tid] = cb
        return tid

    def timer_arm(self, tid, deadline_ns):
        self._svc(P.SVC_TIMER_ARM, tid, max(0, min(int(deadline_ns), (1 << 64) - 1)))

    def timer_cancel(self, tid):
        self._svc(P.SVC_TIMER_CANCEL, tid)

    def log(self, level, msg):
        b = str(msg).encode(errors="replace")[:4095]
        self.ch.put_data(b)
        self._svc(P.SVC_LOG, level, 0, len(b))

    def run_blocking(self, fn):
        op, st, *_ = self._svc(P.SVC_RUN_BLOCKING)
        if op != P.BLOCKING_GO:
            return st
        self.in_work = True
        try:
            fn()
        finally:
            self.in_work = False
        self.ch.post(P.BLOCKING_DONE)
        return self.ch.wait()[1]


def load_class(path):
    spec = importlib.util.spec_from_file_location("dynperiph_user_" + os.path.basename(path).split(".")[0], path)
    if spec is None:
        raise ImportError("not a Python file")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec.loader.exec_module(mod)
    cls = getattr(mod, "PERIPHERAL", None)
    if cls is None:
        found = [c for _, c in inspect.getmembers(mod, inspect.isclass)
                 if issubclass(c, Peripheral) and c is not Peripheral and c.__module__ == mod.__name__]
        if len(found) != 1:
            raise ImportError("defines %s dynperiph.Peripheral subclasses (%s); name one with PERIPHERAL = Class" % (
                "no" if not found else len(found), ", ".join(c.__name__ for c in found) or "-"))
        cls = found[0]
    if not (isinstance(cls.mmio_size, int) and cls.mmio_size > 0):
        raise ImportError("%s.mmio_size must be a positive int" % cls.__name__)
    return cls


def one_line(e):
    tb = traceback.extract_tb(e.__traceback__)
    where = " (%s, line %d)" % (os.path.basename(tb[-1].filename), tb[-1].lineno) if tb else ""
    return "%s: %s%s" % (type(e).__name__, e, where)


def serve(ch, cls, path):
    host = Host(ch)
    inst = None
    READ, WRITE, DONE = P.READ, P.WRITE, P.DONE
    while True:
        op, _, a, b, c, n = ch.wait()
        host.in_call = True
        try:
            if op == READ:
                st, v = inst.read(a, b) if inst else (DP_ERR_BUS, 0)
                host.in_call = False
                ch.post(DONE, st, v & 0xFFFFFFFFFFFFFFFF)
                continue
            st, out = DP_OK, b""
            if op == WRITE:
                st = inst.write(a, b, c) if inst else DP_ERR_BUS
            elif op == P.TIMER:
                cb = host.timers.get(a)
                if cb:
                    cb()
            elif op == P.CREATE:
                args, _, name = ch.data(n).decode(errors="replace").partition("\0")
                host.instance_name = name
                try:
                    inst = cls(host, args)
                except (ValueError, KeyError) as e:
                    st, out = DP_ERR_INVALID, str(e).encode()[:1000]
            elif op == P.RESET:
                if inst:
                    inst.reset()
            elif op == P.SAVE:
                try:
                    out = inst.save_state() if inst else b""
                except Busy:
                    st = DP_ERR_BUSY
                if len(out) > P.DATA_SIZE:
                    st, out = DP_ERR_UNSUPPORTED, b""
            elif op == P.LOAD:
                st = inst.load_state(a, ch.data(n)) if inst else DP_ERR_UNSUPPORTED
            elif op == P.DESTROY:
                if inst:
                    inst.destroy()
                inst = None
            elif op == P.QUIT:
                os._exit(0)
            else:
                print("dp-python-host: unknown call %d from the device" % op, file=sys.stderr, flush=True)
                os._exit(3)
        except Exception as e:  # a bug in the peripheral: this child ends, QEMU logs and applies on-crash=
            print("dp-python-host: %s: %s" % (path, one_line(e)), file=sys.stderr, flush=True)
            os._exit(1)
        host.in_call = False
        if out:
            ch.put_data(out)
        ch.post(DONE, st or DP_OK, 0, 0, 0, len(out))


def main(argv=None):
    argv = sys.argv if argv is None else argv
    if len(argv) != 2:
        print("dp-python-host: started by QEMU's dynperiph device (isolate=on), not by hand: usage: "
              "dp-python-host PERIPHERAL.py with the channel memfd as fd 3", file=sys.stderr)
        return 2
    try:
        ch = P.Channel()
    except (OSError, ValueError) as e:
        print("dp-python-host: %s" % e, file=sys.stderr)
        return 2
    path = argv[1]
    if ch.version != P.VERSION:
        msg = "protocol version %d, this dp-python-host speaks %d" % (ch.version, P.VERSION)
        ch.put_data(msg.encode())
        ch.post(P.FATAL, 0, 0, 0, 0, len(msg))
        return 1
    try:
        cls = load_class(path)
    except Exception as e:
        msg = ("Python peripheral: " + one_line(e)).encode(errors="replace")[:1000]
        ch.put_data(msg)
        ch.post(P.FATAL, 0, 0, 0, 0, len(msg))
        return 1
    name = str(cls.name).encode()[:255]
    desc = str(cls.description).encode()[:1023]
    ch.put_data(name + b"\0" + desc)
    flags = P.HAS_RESET | P.HAS_SAVE | P.HAS_LOAD
    ch.post(P.HELLO, 0, cls.mmio_size, cls.irq_count, (cls.state_version & 0xFFFFFFFF) | (flags << 32),
            len(name) + 1 + len(desc))
    serve(ch, cls, path)
    return 0
