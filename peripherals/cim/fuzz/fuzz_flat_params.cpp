// libFuzzer target: a backend's flat params JSON reader and the cim plugin's args= parser (scripts/fuzz.sh).
// First byte bit 0 picks the target.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "flat_params.hpp"
#include "ops.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
    try {
        if (data[0] & 1)
            (void)dynperiph::cim::parse_plugin_args(text);
        else
            (void)dynperiph::cim::parse_flat_params(text.c_str());
    } catch (const std::runtime_error &) {
    }
    return 0;
}
