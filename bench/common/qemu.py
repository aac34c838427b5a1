"""A minimal qtest + QMP client for the benchmarks (QEMU's qtest text protocol, one QMP socket).

    with Qemu(qemu_bin, ["-device", "cim-builtin,addr=0x40100000,cimsim=..."]) as q:
        q.writel(0x40100008, 1); q.clock_step(); q.readl(0x4010000C)
        q.qmp("qom-set", path="/machine/peripheral/cim", property="reload", value="")

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
import errno
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time


class QemuError(RuntimeError):
    pass


class Qemu:
    def __init__(self, qemu, extra_args, machine="mps2-an385", timeout=30.0, env=None, qtest=True):
        self.dir = tempfile.mkdtemp(prefix="dp-bench-qemu-")
        self.timeout = timeout
        qsock = os.path.join(self.dir, "qtest.sock")
        msock = os.path.join(self.dir, "qmp.sock")
        ls_q = self._listen(qsock) if qtest else None
        ls_m = self._listen(msock)
        args = [qemu, "-M", machine, "-nographic", "-monitor", "none", "-serial", "none",
                "-qmp", "unix:" + msock]
        if qtest:
            args += ["-qtest", "unix:" + qsock, "-qtest-log", "/dev/null", "-accel", "qtest"]
        args += list(extra_args)
        self.stderr_path = os.path.join(self.dir, "stderr")
        self._err = open(self.stderr_path, "wb")
        for attempt in range(200):
            try:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=self._err, env=env)
                break
            except OSError as e:  # ETXTBSY: the linker that just wrote the binary is still closing it
                if e.errno != errno.ETXTBSY or attempt == 199:
                    raise
                time.sleep(0.01)
        try:
            self.m = self._accept(ls_m)
            self.mf = self.m.makefile("rwb", buffering=0)
            self._qmp_line()  # greeting
            self.qmp("qmp_capabilities")
            if qtest:
                self.q = self._accept(ls_q)
                self.qf = self.q.makefile("rwb", buffering=0)
        except BaseException:
            self.close()
            raise
        finally:
            for s in (ls_q, ls_m):
                if s:
                    s.close()

    @staticmethod
    def _listen(path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(1)
        return s

    def _accept(self, ls):
        ls.settimeout(0.1)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                c, _ = ls.accept()
                c.settimeout(self.timeout)
                return c
            except socket.timeout:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise QemuError("QEMU did not connect: " + self.stderr())

    def stderr(self):
        try:
            self._err.flush()
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace").strip()
        except OSError:
            return ""

    # ---- qtest ----
    def cmd(self, line):
        self.qf.write((line + "\n").encode())
        while True:
            resp = self.qf.readline().decode()
            if not resp:
                raise QemuError("QEMU closed the qtest connection: " + self.stderr())
            if resp.startswith("IRQ"):
                continue
            if not resp.startswith("OK"):
                raise QemuError("qtest '%s': %s" % (line, resp.strip()))
            return resp[2:].strip()

    def readl(self, addr):
        return int(self.cmd("readl 0x%x" % addr), 16)

    def writel(self, addr, value):
        self.cmd("writel 0x%x 0x%x" % (addr, value & 0xFFFFFFFF))

    def write(self, addr, data):
        if data:
            self.cmd("write 0x%x 0x%x 0x%s" % (addr, len(data), bytes(data).hex()))

    def clock_step(self, ns=None):
        """Advances the virtual clock by ns, or to the next timer deadline (ns None). With no timer
        pending QEMU 7.2 answers the unchanged time and 10.0 fails with "no pending deadline": both
        mean the clock stays where it is."""
        if ns is not None:
            return int(self.cmd("clock_step %d" % ns))
        try:
            return int(self.cmd("clock_step"))
        except QemuError as e:
            if "no pending deadline" not in str(e):
                raise
            return self.clock_ns()

    def clock_ns(self):
        """The virtual clock: "clock_set 0" never moves it; 7.2 answers OK N, 10.0 FAIL N (N > 0)."""
        self.qf.write(b"clock_set 0\n")
        while True:
            resp = self.qf.readline().decode()
            if not resp:
                raise QemuError("QEMU closed the qtest connection: " + self.stderr())
            if not resp.startswith("IRQ"):
                return int(resp.split()[-1])

    # ---- QMP ----
    def _qmp_line(self):
        try:
            line = self.mf.readline()
        except OSError as e:
            raise QemuError("QMP: %s: %s" % (e, self.stderr()))
        if not line:
            raise QemuError("QEMU closed QMP: " + self.stderr())
        return json.loads(line)

    def qmp(self, execute, **arguments):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.mf.write((json.dumps(msg) + "\n").encode())
        while True:
            r = self._qmp_line()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise QemuError("QMP %s: %s" % (execute, r["error"].get("desc")))

    def close(self):
        for f in ("qf", "q", "mf", "m"):
            try:
                getattr(self, f).close()
            except Exception:
                pass
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self._err.close()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- the CIM register protocol (peripherals/cim/REGISTERS.md) ----
CIM_BASE = 0x40100000
REG = dict(ID=0x000, VERSION=0x004, CTRL=0x008, STATUS=0x00C, ERRCODE=0x010, OPMAP=0x014,
           WSR=0x020, WER=0x024, ISR=0x028, IER=0x02C, SHAPE=0x030, DTYPE=0x034, OUT_DMA=0x038,
           NVEC=0x03C, OUT_COUNT=0x040, MVALID=0x044, LAT_LO=0x050, LAT_HI=0x054, ENERGY=0x058,
           AREA=0x05C, LEAKAGE=0x060, ODR=0x100)
RAM = 0x20000000


def cim_run(q, op, weights, inputs, rows, cols, dtype=0, base=CIM_BASE):
    """Runs one int8 MVM through the published protocol; returns (status, errcode, odr words, regs)."""
    import struct
    fmt = {0: "b", 1: "h", 2: "i", 3: "f"}[dtype]
    w_addr, x_addr = RAM + 0x10000, RAM + 0x20000
    wb = struct.pack("<%d%s" % (len(weights), fmt), *weights)
    xb = struct.pack("<%d%s" % (len(inputs), fmt), *inputs)
    q.write(w_addr, wb)
    q.write(x_addr, xb)
    q.writel(base + REG["DTYPE"], dtype)
    q.writel(base + REG["SHAPE"], cols << 16 | rows)
    q.writel(base + REG["ISR"], x_addr)
    q.writel(base + REG["IER"], x_addr + len(xb))
    q.writel(base + REG["WSR"], w_addr)
    q.writel(base + REG["WER"], w_addr + len(wb))
    q.writel(base + REG["CTRL"], 1 | op << 8)
    for _ in range(1000):
        st = q.readl(base + REG["STATUS"])
        if not st & 1:
            break
        q.clock_step()
    n = q.readl(base + REG["OUT_COUNT"])
    odr = [q.readl(base + REG["ODR"] + 4 * i) for i in range(min(n, 256))]
    regs = {k: q.readl(base + REG[k]) for k in ("ERRCODE", "LAT_LO", "ENERGY", "AREA", "LEAKAGE",
                                                  "MVALID", "OPMAP")}
    return st, regs["ERRCODE"], odr, regs
