// The CIM register map as written in REGISTERS.md, spelled out by hand on purpose: tests that use it
// fail if cim.svd (and so the plugin or the firmware header) ever drifts from the documented protocol.
// Shared by the harness, qtest and built-in-parity tests.
#pragma once

#include <cstdint>

namespace cimmap {

enum : uint32_t {
    ID = 0x000, VERSION = 0x004, CTRL = 0x008, STATUS = 0x00C, ERRCODE = 0x010, OPMAP = 0x014,
    WSR = 0x020, WER = 0x024, ISR = 0x028, IER = 0x02C, SHAPE = 0x030, DTYPE = 0x034, OUT_DMA = 0x038,
    NVEC = 0x03C, OUT_COUNT = 0x040, MVALID = 0x044, LAT_LO = 0x050, LAT_HI = 0x054, ENERGY = 0x058,
    AREA = 0x05C, LEAKAGE = 0x060, ODR = 0x100,
};
enum : uint32_t { START = 1, IE = 2, SOFT_RESET = 4 };     // CTRL
enum : uint32_t { BUSY = 1, DONE = 2, ERROR = 4 };         // STATUS
enum : uint32_t {                                          // ERRCODE
    E_NONE, E_ORDER, E_SIZE, E_SHAPE, E_DMA, E_TOO_LARGE, E_BUSY, E_BAD_OP, E_BAD_DTYPE, E_BACKEND, E_OUTPUT, E_HOST
};
constexpr uint32_t op(unsigned n) { return n << 8; }       // CTRL.OP

} // namespace cimmap
