/* Test plugin: built for a future ABI major version (the host must refuse it and name both versions). */
#include "dynperiph/plugin.h"

static const dp_plugin_desc desc = {{DYNPERIPH_ABI_MAJOR + 1, 0}, "future", "from the future", 0x100, 0, 1,
                                    0, 0, 0, 0, 0, 0, 0, 0};

DP_EXPORT const dp_plugin_desc *dynperiph_plugin_entry(dp_version host_abi) {
    (void)host_abi;
    return &desc;
}
