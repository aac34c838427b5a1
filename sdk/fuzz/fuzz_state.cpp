// libFuzzer target: a hot-reload state blob fed to RegisterBank::load and to StateReader (scripts/fuzz.sh).
#include <cstdint>
#include <cstring>

#include "dynperiph/sdk/error.hpp"
#include "dynperiph/sdk/register_bank.hpp"
#include "dynperiph/sdk/state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dynperiph::RegisterBank bank("fuzz");
    bank.set_log([](dp_log_level, const char *) {});
    bank.add("CTRL", 0x0, 0, dynperiph::Access::RW).field("EN", 0, 1, dynperiph::Access::RW).field("MODE", 4, 3, dynperiph::Access::RW);
    bank.add("STATUS", 0x4, 0x1, dynperiph::Access::RO);
    bank.add_array("DATA", 0x100, 8, 4);
    try {
        dynperiph::StateReader r(data, size);
        bank.load(r);
    } catch (const dynperiph::Error &) {
    }
    // Raw reader: each byte picks the next read.
    try {
        dynperiph::StateReader r(data, size);
        char buf[17];
        uint8_t out[64];
        while (!r.at_end()) {
            switch (r.u8() % 6) {
            case 0: r.u16(); break;
            case 1: r.u32(); break;
            case 2: r.u64(); break;
            case 3: r.bytes(out, r.u8() % sizeof out); break;
            case 4: r.str(buf, sizeof buf); break;
            case 5: r.str(buf, 0); break;
            }
        }
    } catch (const dynperiph::Error &) {
    }
    return 0;
}
