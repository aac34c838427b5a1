// libFuzzer target: CMSIS-SVD text -> parse_all / parse_text -> RegisterBank (scripts/fuzz.sh).
#include <cstdint>
#include <string>

#include "dynperiph/sdk/error.hpp"
#include "dynperiph/sdk/state.hpp"
#include "dynperiph/sdk/svd.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    try {
        for (const auto &p : dynperiph::svd::parse_all(text, "fuzz.svd")) {
            dynperiph::RegisterBank bank = dynperiph::svd::to_bank(p);
            uint64_t v = 0;
            for (const auto &r : p.registers) {
                bank.read(r.offset, 4, v);
                bank.write(r.offset, 4, ~v);
            }
            dynperiph::StateWriter w;
            bank.save(w);
            dynperiph::StateReader rd(w.data(), w.size());
            bank.load(rd);
        }
    } catch (const dynperiph::Error &) {
    }
    try {
        dynperiph::RegisterBank::from_svd_text(text.c_str(), nullptr, "fuzz.svd");
    } catch (const dynperiph::Error &) {
    }
    return 0;
}
