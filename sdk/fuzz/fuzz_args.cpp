// libFuzzer target: the device's args= string parser (scripts/fuzz.sh).
#include <cstdint>
#include <string>

#include "dynperiph/sdk/args.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size); // stops at an embedded NUL, like C callers
    try {
        dynperiph::Args a(text.c_str());
        try { a.u64("n", 7); } catch (const dynperiph::Error &) {}
        try { a.u64("hz", 1, 1, 4000000000ull); } catch (const dynperiph::Error &) {}
        try { a.flag("on", false); } catch (const dynperiph::Error &) {}
        (void)a.str("path", "");
        (void)a.has("x");
        a.finish();
    } catch (const dynperiph::Error &) {
    }
    return 0;
}
