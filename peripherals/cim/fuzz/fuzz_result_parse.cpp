// libFuzzer target: the exec backend's result parsers (json / csv / neurosim) (scripts/fuzz.sh).
// First byte: format (bits 0-1) and dtype (bit 2); the rest is the simulator's output text.
#include <cstdint>
#include <string>

#include "result_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace dynperiph::cim::exec;
    if (size == 0)
        return 0;
    const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
    const Format fmt = (data[0] & 3) == 0 ? Format::Json : (data[0] & 3) == 1 ? Format::Csv : Format::NeuroSim;
    const cim_dtype dtype = (data[0] & 4) ? CIM_DTYPE_FLOAT32 : CIM_DTYPE_INT32;
    ParsedResult out;
    const std::string err = parse_output(fmt, text, dtype, out);
    if (err.find('\n') != std::string::npos)
        __builtin_trap(); // errors are one line
    return 0;
}
