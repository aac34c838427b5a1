// libFuzzer target: exec backend argv templates ("{name}", "{{", "}}") (scripts/fuzz.sh).
#include <cstdint>
#include <map>
#include <string>

#include "argv_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace dynperiph::cim::exec;
    const std::string tmpl(reinterpret_cast<const char *>(data), size);
    if (!check_template(tmpl).empty())
        return 0;
    std::map<std::string, std::string> values;
    for (const std::string &n : placeholders_in(tmpl))
        values[n] = "<" + n + ">";
    (void)expand_template(tmpl, values);
    return 0;
}
