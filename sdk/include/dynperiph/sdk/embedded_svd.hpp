// dynperiph SDK: the SVD text embedded into a plugin at build time by
// dynperiph_add_plugin(... SVD <file>) (see cmake/DynperiphPlugin.cmake). The plugin stays one file.
#pragma once

namespace dynperiph {
extern const char embedded_svd_text[];   // the SVD file's bytes, NUL-terminated
extern const char embedded_svd_source[]; // its file name, for error messages
} // namespace dynperiph
