// libFuzzer target: cimsim config files (JSON or TOML by the first byte) + resolve() (scripts/fuzz.sh).
#include <cstdint>
#include <string>

#include "cimsim/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
    try {
        cimsim::Config c;
        if (data[0] & 1)
            cimsim::apply_toml(c, text, "fuzz.toml");
        else
            cimsim::apply_json(c, text, "fuzz.json");
        cimsim::Resolved r = cimsim::resolve(c);
        (void)cimsim::config_to_json(r.cfg);
    } catch (const cimsim::Error &) {
    }
    return 0;
}
