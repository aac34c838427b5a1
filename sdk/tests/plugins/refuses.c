/* Test plugin: refuses every host (entry returns NULL). */
#include "dynperiph/plugin.h"

DP_EXPORT const dp_plugin_desc *dynperiph_plugin_entry(dp_version host_abi) {
    (void)host_abi;
    return 0;
}
