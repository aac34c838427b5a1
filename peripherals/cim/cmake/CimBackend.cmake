# cim_add_backend(<target> <name> SOURCES ... [LIBS ...])
# Builds a CIM operation backend as ${DYNPERIPH_PLUGIN_DIR}/<name>.so exporting only cim_backend_entry:
# the SDK's dynperiph_add_plugin (hidden visibility, version script, -z defs) without the plugin SDK.
include(DynperiphPlugin)
function(cim_add_backend target name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  dynperiph_add_plugin(${target} ${name} NO_SDK EXPORTS cim_backend_entry SOURCES ${A_SOURCES} LIBS ${A_LIBS})
endfunction()
