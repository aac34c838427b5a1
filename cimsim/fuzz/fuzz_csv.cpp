// libFuzzer target: cimsim's CSV matrix parser (scripts/fuzz.sh).
#include <cstdint>
#include <string>

#include "cimsim/config.hpp"
#include "cimsim/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
    try {
        cimsim::CsvMatrix m = cimsim::parse_csv(text, "fuzz.csv", data[0] & 1);
        if (m.values.size() != size_t(m.rows) * m.cols)
            __builtin_trap(); // the matrix shape must match the values
    } catch (const cimsim::Error &) {
    }
    return 0;
}
