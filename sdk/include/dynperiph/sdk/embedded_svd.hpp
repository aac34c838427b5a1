// dynperiph SDK: the SVD text embedded into a plugin at build time by
// dynperiph_add_plugin(... SVD <file>) (see cmake/DynperiphPlugin.cmake). The plugin stays one file.
#pragma once

#include "dynperiph/plugin.h"

namespace dynperiph {
extern const char embedded_svd_text[];   // the SVD file's bytes, NUL-terminated
extern const char embedded_svd_source[]; // its file name, for error messages
// The SVD's <baseAddress> and first <interrupt> (DYNPERIPH_CAP_PLACEMENT); weak: plugins without an
// SVD have none, and the host then needs addr= (and irq= for IRQs).
extern const dp_placement embedded_placement __attribute__((weak));
} // namespace dynperiph
