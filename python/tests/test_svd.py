"""RegisterBank from an SVD (python/dynperiph/svd.py): the C++ SDK's field semantics on crc-dma.svd and on
small inline SVDs. SPDX-License-Identifier: GPL-2.0-or-later OR MIT"""
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dynperiph import RegisterBank, SvdError  # noqa: E402

CRC_SVD = os.path.join(ROOT, "peripherals", "crc-dma", "crc-dma.svd")


def svd(registers):
    f = tempfile.NamedTemporaryFile("w", suffix=".svd", delete=False)
    f.write("<device><name>D</name><peripherals><peripheral><name>P</name><registers>%s</registers>"
            "</peripheral></peripherals></device>" % registers)
    f.close()
    return f.name


class CrcDmaSvd(unittest.TestCase):
    def setUp(self):
        self.b = RegisterBank.from_svd(CRC_SVD, "CRC_DMA")

    def test_reset_values_and_read_only(self):
        self.assertEqual(self.b.read(0x00, 4), (0, 0x43524344))
        self.assertEqual(self.b.read(0x18, 4), (0, 0xFFFFFFFF))
        self.b.write(0x00, 4, 0)
        self.assertEqual(self.b.read(0x00, 4), (0, 0x43524344), "ID is read-only")
        self.assertEqual(self.b.read(0x01, 1), (0, 0x43), "byte read")

    def test_write_only_field_reads_zero_and_hooks_see_it(self):
        seen = []
        self.b.on_write("CTRL", "START", lambda e: seen.append(e.written))
        self.b.write(0x04, 4, 0b10011)
        self.assertEqual(seen, [1])
        self.assertEqual(self.b.read(0x04, 4), (0, 0b10010), "START reads 0, IE and COPY stay")

    def test_one_to_clear(self):
        self.b.field("STATUS", "DONE").set(1)
        self.b.field("STATUS", "ERROR").set(1)
        self.b.field("STATUS", "BUSY").set(1)
        self.b.write(0x08, 4, 0b010)
        self.assertEqual(self.b.read(0x08, 4), (0, 0b101))

    def test_unmapped_is_a_bus_error(self):
        msgs = []
        self.b.log = msgs.append
        self.assertEqual(self.b.read(0x800, 4), (1, 0))
        self.assertEqual(self.b.write(0x800, 4, 1), 1)
        self.assertEqual(len(msgs), 2)

    def test_save_load_reset(self):
        self.b.reg("SRC").set(0x1234)
        blob = self.b.save()
        self.b.reset()
        self.assertEqual(self.b.reg("SRC").get(), 0)
        self.b.load(blob)
        self.assertEqual(self.b.reg("SRC").get(), 0x1234)


class InlineSvd(unittest.TestCase):
    def test_dim_array_and_read_clear(self):
        p = svd("<register><name>R[%s]</name><dim>3</dim><dimIncrement>4</dimIncrement><addressOffset>0x10"
                "</addressOffset><fields><field><name>V</name><bitRange>[7:0]</bitRange><readAction>clear"
                "</readAction></field></fields></register>")
        try:
            b = RegisterBank.from_svd(p, "P")
            b.reg("R2").set(0x5A)
            self.assertEqual(b.read(0x18, 4), (0, 0x5A))
            self.assertEqual(b.read(0x18, 4), (0, 0), "read-clear")
        finally:
            os.unlink(p)

    def test_errors_name_what_is_wrong(self):
        p = svd("<register><name>R</name><addressOffset>0x2</addressOffset></register>")
        try:
            with self.assertRaisesRegex(SvdError, "register R: addressOffset 0x2 is not 32-bit aligned"):
                RegisterBank.from_svd(p, "P")
            with self.assertRaisesRegex(SvdError, "no peripheral 'Q' \\(has: P\\)"):
                RegisterBank.from_svd(p, "Q")
        finally:
            os.unlink(p)


if __name__ == "__main__":
    unittest.main()
