"""A register bank loaded from a CMSIS-SVD file (xml.etree), with the C++ SDK's field semantics
(sdk/src/register_bank.cpp): access read-only / write-only / read-write, modifiedWriteValues
oneToClear / oneToSet / zeroToClear / oneToToggle, readAction clear, reserved bits ignored, dim arrays
(NAME[%s] -> NAME0, NAME1, ...), reset values; unmapped offsets are bus errors.

    bank = RegisterBank.from_svd("crc-dma.svd", "CRC_DMA")
    bank.on_write("CTRL", "START", lambda e: e.written and start())   # field hook: values shifted down
    bank.field("STATUS", "BUSY").set(1);  bank.reg("SRC").get()
    status, value = bank.read(offset, size);  status = bank.write(offset, size, value)

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
import struct
import xml.etree.ElementTree as ET

DP_OK, DP_ERR_BUS, DP_ERR_INVALID = 0, 1, 2


class SvdError(ValueError):
    pass


class WriteEvent:
    """old / new: stored value before / after the write; written: what the guest wrote (bits outside
    mask are 0); mask: bits covered by the access. For a field hook all four are the field's bits,
    shifted down to bit 0."""
    __slots__ = ("old", "new", "written", "mask")

    def __init__(self, old, new, written, mask):
        self.old, self.new, self.written, self.mask = old, new, written, mask


def _int(text, what):
    t = text.strip().lower()
    try:
        if t.startswith("#"):
            return int(t[1:].replace("x", "0"), 2)
        return int(t, 0)
    except ValueError:
        raise SvdError("%s: '%s' is not a number" % (what, text)) from None


class _Field:
    __slots__ = ("name", "lsb", "width", "mask", "hook")

    def __init__(self, name, lsb, width):
        self.name, self.lsb, self.width = name, lsb, width
        self.mask = ((1 << width) - 1) << lsb
        self.hook = None


class _Reg:
    __slots__ = ("name", "offset", "reset", "value", "fields", "normal", "ro", "w1c", "w1s", "w0c", "w1t",
                 "readable", "rc", "defined", "hook", "rhook")

    def __init__(self, name, offset, reset):
        self.name, self.offset, self.reset, self.value = name, offset, reset, reset
        self.fields = {}
        self.normal = self.ro = self.w1c = self.w1s = self.w0c = self.w1t = self.rc = self.defined = 0
        self.readable = 0
        self.hook = self.rhook = None


class Bits:
    """A register or field handle: get() / set(v) on the stored value (no hooks run)."""
    __slots__ = ("_r", "_lsb", "_mask")

    def __init__(self, reg, lsb=0, mask=0xFFFFFFFF):
        self._r, self._lsb, self._mask = reg, lsb, mask

    def get(self):
        return (self._r.value & self._mask) >> self._lsb

    def set(self, v):
        self._r.value = (self._r.value & ~self._mask) | ((v << self._lsb) & self._mask)


class RegisterBank:
    def __init__(self, regs, name="", log=None):
        self._regs = regs                         # by name
        self._by_word = {r.offset // 4: r for r in regs.values()}
        self.name = name
        self.log = log or (lambda msg: None)      # set by Peripheral: guest errors go to QEMU's log

    @classmethod
    def from_svd(cls, path, peripheral):
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            raise SvdError("%s: %s" % (path, e)) from None
        dev_access = (root.findtext("access") or "read-write").strip()
        dev_reset = _int(root.findtext("resetValue") or "0", "%s: device resetValue" % path)
        for p in root.iter("peripheral"):
            if (p.findtext("name") or "").strip() == peripheral:
                return cls(cls._registers(path, p, dev_access, dev_reset), peripheral)
        names = [(p.findtext("name") or "?").strip() for p in root.iter("peripheral")]
        raise SvdError("%s: no peripheral '%s' (has: %s)" % (path, peripheral, ", ".join(names)))

    @staticmethod
    def _registers(path, periph, dev_access, dev_reset):
        regs = {}
        p_access = (periph.findtext("access") or dev_access).strip()
        p_reset = _int(periph.findtext("resetValue"), path) if periph.findtext("resetValue") else dev_reset
        for x in periph.iter("register"):
            name = (x.findtext("name") or "").strip()
            where = "%s: register %s" % (path, name or "?")
            if not name or x.findtext("addressOffset") is None:
                raise SvdError("%s: needs <name> and <addressOffset>" % where)
            offset = _int(x.findtext("addressOffset"), where + " addressOffset")
            if offset % 4:
                raise SvdError("%s: addressOffset 0x%x is not 32-bit aligned" % (where, offset))
            reset = _int(x.findtext("resetValue"), where + " resetValue") if x.findtext("resetValue") else p_reset
            access = (x.findtext("access") or p_access).strip()
            dim = int(_int(x.findtext("dim"), where + " dim")) if x.findtext("dim") else 0
            incr = _int(x.findtext("dimIncrement") or "4", where + " dimIncrement")
            names = [(name.replace("[%s]", str(i)).replace("%s", str(i)), offset + i * incr)
                     for i in range(dim)] if dim else [(name, offset)]
            for n, off in names:
                r = _Reg(n, off, reset & 0xFFFFFFFF)
                fields = list(x.iter("field"))
                if not fields:
                    RegisterBank._add_field(r, n, 0, 32, access, None, None, where)
                for f in fields:
                    fname = (f.findtext("name") or "").strip()
                    fwhere = "%s field %s" % (where, fname or "?")
                    if f.findtext("bitRange"):
                        msb, lsb = (int(v) for v in f.findtext("bitRange").strip().strip("[]").split(":"))
                    elif f.findtext("lsb") is not None:
                        lsb, msb = int(f.findtext("lsb")), int(f.findtext("msb"))
                    else:
                        lsb = int(_int(f.findtext("bitOffset") or "0", fwhere))
                        msb = lsb + int(_int(f.findtext("bitWidth") or "1", fwhere)) - 1
                    if not 0 <= lsb <= msb < 32:
                        raise SvdError("%s: bits [%d:%d] outside a 32-bit register" % (fwhere, msb, lsb))
                    RegisterBank._add_field(r, fname, lsb, msb - lsb + 1, (f.findtext("access") or access).strip(),
                                            f.findtext("modifiedWriteValues"), f.findtext("readAction"), fwhere)
                if n in regs:
                    raise SvdError("%s: register %s defined twice" % (path, n))
                regs[n] = r
        return regs

    @staticmethod
    def _add_field(r, name, lsb, width, access, mwv, read_action, where):
        f = _Field(name, lsb, width)
        if r.defined & f.mask:
            raise SvdError("%s: overlaps another field" % where)
        r.fields[name] = f
        r.defined |= f.mask
        if access not in ("read-only", "write-only", "read-write", "writeOnce", "read-writeOnce"):
            raise SvdError("%s: access '%s' is not one of read-only, write-only, read-write, writeOnce, "
                           "read-writeOnce" % (where, access))
        if access != "write-only" and access != "writeOnce":
            r.readable |= f.mask
        mwv = (mwv or "").strip()
        if access == "read-only":
            if mwv:
                raise SvdError("%s: <modifiedWriteValues> %s on a read-only field" % (where, mwv))
            r.ro |= f.mask
        elif mwv in ("", "modify"):
            r.normal |= f.mask
        else:
            kinds = {"oneToClear": "w1c", "oneToSet": "w1s", "zeroToClear": "w0c", "oneToToggle": "w1t"}
            if mwv not in kinds:
                raise SvdError("%s: <modifiedWriteValues> %s is not supported (%s)" % (where, mwv, ", ".join(kinds)))
            setattr(r, kinds[mwv], getattr(r, kinds[mwv]) | f.mask)
        if (read_action or "").strip() == "clear":
            r.rc |= f.mask

    # ---- access from the peripheral -------------------------------------------------------------

    def _get(self, reg):
        try:
            return self._regs[reg]
        except KeyError:
            raise SvdError("%s: no register '%s'" % (self.name, reg)) from None

    def reg(self, reg):
        return Bits(self._get(reg))

    def field(self, reg, field):
        r = self._get(reg)
        if field not in r.fields:
            raise SvdError("%s: register %s has no field '%s'" % (self.name, reg, field))
        f = r.fields[field]
        return Bits(r, f.lsb, f.mask)

    def on_write(self, reg, field_or_hook, hook=None):
        """on_write(REG, hook) or on_write(REG, FIELD, hook); hook(WriteEvent) after the value is stored."""
        r = self._get(reg)
        if hook is None:
            r.hook = field_or_hook
        else:
            self.field(reg, field_or_hook)
            r.fields[field_or_hook].hook = hook

    def on_read(self, reg, hook):
        """hook(stored value) -> value the guest reads (before masking and read-clear)."""
        self._get(reg).rhook = hook

    def reset(self):
        for r in self._regs.values():
            r.value = r.reset

    def save(self):
        return b"".join(struct.pack("<I", r.value) for r in self._regs.values())

    def load(self, blob):
        if len(blob) < 4 * len(self._regs):
            raise ValueError("register state of %d bytes, %d needed" % (len(blob), 4 * len(self._regs)))
        for i, r in enumerate(self._regs.values()):
            r.value = struct.unpack_from("<I", blob, 4 * i)[0]
        return blob[4 * len(self._regs):]

    # ---- access from the guest (MMIO) -----------------------------------------------------------

    def read(self, offset, size):
        if size == 8 and offset % 4 == 0:
            st, lo = self.read(offset, 4)
            st2, hi = self.read(offset + 4, 4) if st == DP_OK else (st, 0)
            return st2, lo | (hi << 32)
        r = self._by_word.get(offset // 4)
        if r is None or size not in (1, 2, 4) or offset % 4 + size > 4:
            self.log("read (size %d) from unmapped offset 0x%x (bus error)" % (size, offset))
            return DP_ERR_BUS, 0
        v = r.rhook(r.value) if r.rhook else r.value
        v &= r.readable
        if r.rc:
            r.value &= ~r.rc
        shift = (offset % 4) * 8
        return DP_OK, (v >> shift) & ((1 << (8 * size)) - 1)

    def write(self, offset, size, value):
        if size == 8 and offset % 4 == 0:
            st = self.write(offset, 4, value & 0xFFFFFFFF)
            st2 = self.write(offset + 4, 4, value >> 32)
            return st if st != DP_OK else st2
        r = self._by_word.get(offset // 4)
        if r is None or size not in (1, 2, 4) or offset % 4 + size > 4:
            self.log("write of 0x%x (size %d) to unmapped offset 0x%x (bus error)" % (value, size, offset))
            return DP_ERR_BUS
        shift = (offset % 4) * 8
        m = (((1 << (8 * size)) - 1) << shift) & 0xFFFFFFFF
        w = (value << shift) & m
        old = r.value
        if w & m & ~r.defined:
            self.log("write of 1s to reserved bits 0x%08x of %s (offset 0x%x) ignored" % (w & ~r.defined, r.name,
                                                                                            r.offset))
        if (w ^ old) & m & r.ro:
            self.log("write to read-only bits 0x%08x of %s (offset 0x%x) ignored" % ((w ^ old) & m & r.ro, r.name,
                                                                                       r.offset))
        nv = (old & ~(m & r.normal)) | (w & m & r.normal)
        nv &= ~(w & m & r.w1c)
        nv |= w & m & r.w1s
        nv &= ~(~w & m & r.w0c)
        nv ^= w & m & r.w1t
        r.value = nv & 0xFFFFFFFF
        for f in r.fields.values():
            if f.hook and f.mask & m:
                f.hook(WriteEvent((old & f.mask) >> f.lsb, (nv & f.mask) >> f.lsb, (w & f.mask) >> f.lsb,
                                  (m & f.mask) >> f.lsb))
        if r.hook:
            r.hook(WriteEvent(old, nv, w, m))
        return DP_OK
