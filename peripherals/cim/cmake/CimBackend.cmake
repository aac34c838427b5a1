# cim_add_backend(<target> <name> SOURCES ... [LIBS ...])
# Builds a CIM operation backend as ${DYNPERIPH_PLUGIN_DIR}/<name>.so that exports only
# cim_backend_entry (hidden visibility + version script). Usable from any backend folder.
set(CIM_BACKEND_MAP ${CMAKE_CURRENT_LIST_DIR}/cim_backend.map CACHE INTERNAL "")
function(cim_add_backend target name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${target} MODULE ${A_SOURCES})
  target_link_libraries(${target} PRIVATE dynperiph_abi ${A_LIBS})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${DYNPERIPH_PLUGIN_DIR}
    CXX_VISIBILITY_PRESET hidden C_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS ${CIM_BACKEND_MAP})
  target_link_options(${target} PRIVATE -Wl,--version-script=${CIM_BACKEND_MAP} -Wl,--no-undefined)
endfunction()
