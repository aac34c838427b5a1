/* Test module: a valid shared object without the dynperiph entry symbol. */
#include "dynperiph/plugin.h"

DP_EXPORT int not_a_plugin(void) { return 1; }
